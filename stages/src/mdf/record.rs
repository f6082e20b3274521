//! Bit extraction: where a channel's value sits in a record and how to read it.

use super::error::{MdfError, Result};

/// How the bits of a channel are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Unsigned,
    Signed,
    Float,
    /// A fixed-length string (Latin-1, UTF-8 or UTF-16): read as bytes, NULs trimmed.
    Text,
    /// A byte array.
    Bytes,
}

/// A raw value read from a record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Raw<'a> {
    U(u64),
    I(i64),
    F(f64),
    Text(&'a [u8]),
    Bytes(&'a [u8]),
}

impl Raw<'_> {
    /// The raw value as a number (None for text and bytes).
    pub fn number(&self) -> Option<f64> {
        match *self {
            Raw::U(v) => Some(v as f64),
            Raw::I(v) => Some(v as f64),
            Raw::F(v) => Some(v),
            Raw::Text(_) | Raw::Bytes(_) => None,
        }
    }
}

/// Fast paths for byte-aligned little endian values of a standard width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fast {
    F64,
    F32,
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    General,
}

/// The position and encoding of one channel inside a record (relative to the record's
/// data bytes, i.e. after the record id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    byte_offset: usize,
    bit_offset: u32,
    bit_count: u32,
    big_endian: bool,
    pub encoding: Encoding,
    fast: Fast,
}

impl Field {
    /// Build a field from CN values; `at` is the CN block offset for errors.
    pub fn new(byte_offset: u32, bit_offset: u8, bit_count: u32, data_type: u8, at: u64) -> Result<Self> {
        let (encoding, big_endian) = match data_type {
            0 => (Encoding::Unsigned, false),
            1 => (Encoding::Unsigned, true),
            2 => (Encoding::Signed, false),
            3 => (Encoding::Signed, true),
            4 => (Encoding::Float, false),
            5 => (Encoding::Float, true),
            6..=9 => (Encoding::Text, false),
            10 => (Encoding::Bytes, false),
            other => {
                return Err(MdfError::unsupported(at, format!("channel data type {other}")));
            }
        };
        let bit_offset = u32::from(bit_offset);
        if bit_count == 0 || bit_offset > 7 {
            return Err(MdfError::invalid(
                at,
                format!("bit offset {bit_offset}, bit count {bit_count}"),
            ));
        }
        let numeric = matches!(encoding, Encoding::Unsigned | Encoding::Signed | Encoding::Float);
        if numeric && bit_count > 64 {
            return Err(MdfError::unsupported(at, format!("{bit_count}-bit numeric channel")));
        }
        if encoding == Encoding::Float && ![16, 32, 64].contains(&bit_count) {
            return Err(MdfError::invalid(at, format!("{bit_count}-bit float")));
        }
        if !numeric && (bit_offset != 0 || !bit_count.is_multiple_of(8)) {
            return Err(MdfError::invalid(at, "string or byte array not byte aligned"));
        }
        let mut field = Field {
            byte_offset: byte_offset as usize,
            bit_offset,
            bit_count,
            big_endian,
            encoding,
            fast: Fast::General,
        };
        field.fast = field.fast_path();
        Ok(field)
    }

    fn fast_path(&self) -> Fast {
        if self.big_endian || self.bit_offset != 0 {
            return Fast::General;
        }
        match (self.encoding, self.bit_count) {
            (Encoding::Float, 64) => Fast::F64,
            (Encoding::Float, 32) => Fast::F32,
            (Encoding::Unsigned, 8) => Fast::U8,
            (Encoding::Unsigned, 16) => Fast::U16,
            (Encoding::Unsigned, 32) => Fast::U32,
            (Encoding::Unsigned, 64) => Fast::U64,
            (Encoding::Signed, 8) => Fast::I8,
            (Encoding::Signed, 16) => Fast::I16,
            (Encoding::Signed, 32) => Fast::I32,
            (Encoding::Signed, 64) => Fast::I64,
            _ => Fast::General,
        }
    }

    /// True for integers and floats.
    pub fn is_numeric(&self) -> bool {
        matches!(self.encoding, Encoding::Unsigned | Encoding::Signed | Encoding::Float)
    }

    /// The byte offset of a byte-aligned little endian f64, the hottest case.
    pub fn f64_offset(&self) -> Option<usize> {
        (self.fast == Fast::F64).then_some(self.byte_offset)
    }

    /// Bytes of the record (after the record id) that the field needs.
    pub fn end(&self) -> u64 {
        self.byte_offset as u64 + (u64::from(self.bit_offset) + u64::from(self.bit_count)).div_ceil(8)
    }

    fn bytes<const N: usize>(&self, rec: &[u8]) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = rec.get(self.byte_offset..self.byte_offset + N) {
            out.copy_from_slice(src);
        }
        out
    }

    /// Read the value from `rec` (the record without its id). A record shorter than
    /// [`Field::end`] reads as zero; callers check lengths once per group.
    #[inline]
    pub fn read<'a>(&self, rec: &'a [u8]) -> Raw<'a> {
        match self.fast {
            Fast::F64 => Raw::F(f64::from_le_bytes(self.bytes(rec))),
            Fast::F32 => Raw::F(f64::from(f32::from_le_bytes(self.bytes(rec)))),
            Fast::U8 => Raw::U(u64::from(self.bytes::<1>(rec)[0])),
            Fast::U16 => Raw::U(u64::from(u16::from_le_bytes(self.bytes(rec)))),
            Fast::U32 => Raw::U(u64::from(u32::from_le_bytes(self.bytes(rec)))),
            Fast::U64 => Raw::U(u64::from_le_bytes(self.bytes(rec))),
            Fast::I8 => Raw::I(i64::from(self.bytes::<1>(rec)[0] as i8)),
            Fast::I16 => Raw::I(i64::from(i16::from_le_bytes(self.bytes(rec)))),
            Fast::I32 => Raw::I(i64::from(i32::from_le_bytes(self.bytes(rec)))),
            Fast::I64 => Raw::I(i64::from_le_bytes(self.bytes(rec))),
            Fast::General => self.read_general(rec),
        }
    }

    fn read_general<'a>(&self, rec: &'a [u8]) -> Raw<'a> {
        let len = (self.bit_count / 8) as usize;
        match self.encoding {
            Encoding::Text => {
                let s = rec.get(self.byte_offset..self.byte_offset + len).unwrap_or(&[]);
                let end = s.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                Raw::Text(&s[..end])
            }
            Encoding::Bytes => Raw::Bytes(rec.get(self.byte_offset..self.byte_offset + len).unwrap_or(&[])),
            Encoding::Unsigned => Raw::U(self.bits(rec)),
            Encoding::Signed => {
                let shift = 64 - self.bit_count;
                Raw::I(((self.bits(rec) << shift) as i64) >> shift)
            }
            Encoding::Float => Raw::F(match self.bit_count {
                16 => f16_to_f64(self.bits(rec) as u16),
                32 => f64::from(f32::from_bits(self.bits(rec) as u32)),
                _ => f64::from_bits(self.bits(rec)),
            }),
        }
    }

    /// The field's bits as an unsigned integer: the covering bytes are read in the
    /// field's byte order, shifted right by the bit offset and masked to the bit count.
    fn bits(&self, rec: &[u8]) -> u64 {
        let n = (self.bit_offset + self.bit_count).div_ceil(8) as usize;
        let bytes = rec.get(self.byte_offset..self.byte_offset + n).unwrap_or(&[]);
        let word: u128 = if self.big_endian {
            bytes.iter().fold(0u128, |acc, &b| (acc << 8) | u128::from(b))
        } else {
            bytes.iter().rev().fold(0u128, |acc, &b| (acc << 8) | u128::from(b))
        };
        let mask = if self.bit_count >= 64 {
            u64::MAX
        } else {
            (1u64 << self.bit_count) - 1
        };
        ((word >> self.bit_offset) as u64) & mask
    }
}

/// True when invalidation bit `pos` is set in the invalidation bytes starting at `base`.
#[inline]
pub(crate) fn invalid_bit(rec: &[u8], base: usize, pos: u32) -> bool {
    rec.get(base + (pos / 8) as usize)
        .is_some_and(|b| b >> (pos % 8) & 1 == 1)
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_paths_read_little_endian_values() -> Result<()> {
        let rec = [0u8, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0xff];
        assert_eq!(Field::new(0, 0, 64, 4, 0)?.read(&rec), Raw::F(1.5));
        assert_eq!(Field::new(8, 0, 8, 2, 0)?.read(&rec), Raw::I(-1));
        assert_eq!(Field::new(8, 0, 8, 0, 0)?.read(&rec), Raw::U(255));
        Ok(())
    }

    #[test]
    fn unaligned_little_endian_bits() -> Result<()> {
        // 0b1011_0110 0b0000_0011: bits 5..13 (8 bits) = 0b0001_1101 = 29
        let rec = [0b1011_0110u8, 0b0000_0011];
        assert_eq!(Field::new(0, 5, 8, 0, 0)?.read(&rec), Raw::U(29));
        assert_eq!(Field::new(0, 1, 3, 0, 0)?.read(&rec), Raw::U(0b011));
        // signed 3-bit at bit 4: 0b011 = 3; at bit 5: 0b101 = -3
        assert_eq!(Field::new(0, 4, 3, 2, 0)?.read(&rec), Raw::I(3));
        assert_eq!(Field::new(0, 5, 3, 2, 0)?.read(&rec), Raw::I(-3));
        Ok(())
    }

    #[test]
    fn big_endian_values_and_bits() -> Result<()> {
        let rec = [0x12u8, 0x34, 0x56];
        assert_eq!(Field::new(0, 0, 16, 1, 0)?.read(&rec), Raw::U(0x1234));
        // 12 bits at bit offset 4 of the big endian word 0x1234: 0x123
        assert_eq!(Field::new(0, 4, 12, 1, 0)?.read(&rec), Raw::U(0x123));
        // 12 bits at bit offset 6 span the 3-byte big endian word 0x123456: 0x48d
        assert_eq!(Field::new(0, 6, 12, 1, 0)?.read(&rec), Raw::U((0x12_3456 >> 6) & 0xfff));
        let be = 2.5f64.to_be_bytes();
        assert_eq!(Field::new(0, 0, 64, 5, 0)?.read(&be), Raw::F(2.5));
        Ok(())
    }

    #[test]
    fn sixty_four_bits_at_an_odd_offset() -> Result<()> {
        let mut rec = [0u8; 9];
        let v: u64 = 0xdead_beef_0123_4567;
        let shifted = u128::from(v) << 3;
        rec.copy_from_slice(&shifted.to_le_bytes()[..9]);
        assert_eq!(Field::new(0, 3, 64, 0, 0)?.read(&rec), Raw::U(v));
        Ok(())
    }

    #[test]
    fn half_floats_strings_and_bytes() -> Result<()> {
        assert_eq!(Field::new(0, 0, 16, 4, 0)?.read(&0x3c00u16.to_le_bytes()), Raw::F(1.0));
        assert_eq!(Field::new(0, 0, 16, 4, 0)?.read(&0xc000u16.to_le_bytes()), Raw::F(-2.0));
        assert_eq!(Field::new(0, 0, 32, 7, 0)?.read(b"ab\0\0"), Raw::Text(b"ab"));
        assert_eq!(Field::new(1, 0, 16, 10, 0)?.read(b"xyz"), Raw::Bytes(b"yz"));
        Ok(())
    }

    #[test]
    fn impossible_layouts_are_rejected() {
        assert!(Field::new(0, 0, 0, 0, 7).is_err());
        assert!(Field::new(0, 0, 65, 0, 7).is_err());
        assert!(Field::new(0, 0, 24, 4, 7).is_err());
        assert!(Field::new(0, 3, 16, 10, 7).is_err());
        assert!(matches!(
            Field::new(0, 0, 8, 42, 7),
            Err(MdfError::Unsupported { offset: 7, .. })
        ));
    }

    #[test]
    fn invalidation_bits() {
        let rec = [0u8, 0b0000_0100];
        assert!(invalid_bit(&rec, 1, 2));
        assert!(!invalid_bit(&rec, 1, 3));
        assert!(!invalid_bit(&rec, 5, 0));
    }
}
