//! Field values: decoding bytes in either byte order, scaling, and running statistics.

use super::layout::{Endian, FieldSpec, FieldType};
use super::output::FieldSummary;

/// A decoded field value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Val<'a> {
    U(u64),
    I(i64),
    F(f64),
    Bytes(&'a [u8]),
}

pub(crate) fn decode<'a>(spec: &FieldSpec, b: &'a [u8], default: Endian) -> Val<'a> {
    let big = spec.endian.unwrap_or(default) == Endian::Big;
    let int = |signed: bool| -> u64 {
        let word = if big {
            b.iter().fold(0u64, |a, &x| a << 8 | u64::from(x))
        } else {
            b.iter().rev().fold(0u64, |a, &x| a << 8 | u64::from(x))
        };
        let shift = 64u32.saturating_sub(8 * b.len().min(8) as u32);
        if signed && shift < 64 {
            (((word << shift) as i64) >> shift) as u64
        } else {
            word
        }
    };
    match spec.kind {
        FieldType::U8 | FieldType::U16 | FieldType::U32 | FieldType::U64 => Val::U(int(false)),
        FieldType::I8 | FieldType::I16 | FieldType::I32 | FieldType::I64 => Val::I(int(true) as i64),
        FieldType::F32 => Val::F(f64::from(f32::from_bits(int(false) as u32))),
        FieldType::F64 => Val::F(f64::from_bits(int(false))),
        FieldType::Bytes | FieldType::Pad => Val::Bytes(b),
    }
}

pub(crate) fn physical<'a>(spec: &FieldSpec, v: Val<'a>) -> Val<'a> {
    if spec.scale.is_none() && spec.offset.is_none() {
        return v;
    }
    let (a, b) = (spec.scale.unwrap_or(1.0), spec.offset.unwrap_or(0.0));
    match v {
        Val::U(x) => Val::F(x as f64 * a + b),
        Val::I(x) => Val::F(x as f64 * a + b),
        Val::F(x) => Val::F(x * a + b),
        Val::Bytes(_) => v,
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Running statistics of one field.
#[derive(Debug, Clone, Default)]
pub(crate) struct Acc {
    n: u64,
    min: f64,
    max: f64,
    sum: f64,
}

impl Acc {
    pub fn add(&mut self, v: Val<'_>) {
        let x = match v {
            Val::U(x) => x as f64,
            Val::I(x) => x as f64,
            Val::F(x) if !x.is_nan() => x,
            _ => return,
        };
        (self.min, self.max) = if self.n == 0 {
            (x, x)
        } else {
            (self.min.min(x), self.max.max(x))
        };
        self.sum += x;
        self.n += 1;
    }

    pub fn summary(&self, spec: &FieldSpec) -> FieldSummary {
        let some = |v: f64| (self.n > 0).then_some(v);
        FieldSummary {
            name: spec.name.clone(),
            kind: spec.kind,
            unit: spec.unit.clone(),
            min: some(self.min),
            max: some(self.max),
            mean: some(self.sum / self.n.max(1) as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::layout::FieldType;

    fn spec(kind: FieldType, endian: Option<Endian>) -> FieldSpec {
        FieldSpec {
            name: "x".into(),
            kind,
            len: None,
            endian,
            scale: None,
            offset: None,
            unit: None,
        }
    }

    #[test]
    fn decodes_both_byte_orders_and_signs() {
        let b = [0xff, 0xfe];
        assert_eq!(decode(&spec(FieldType::U16, None), &b, Endian::Little), Val::U(0xfeff));
        assert_eq!(
            decode(&spec(FieldType::U16, Some(Endian::Big)), &b, Endian::Little),
            Val::U(0xfffe)
        );
        assert_eq!(decode(&spec(FieldType::I16, None), &b, Endian::Big), Val::I(-2));
        assert_eq!(decode(&spec(FieldType::I8, None), &b[..1], Endian::Big), Val::I(-1));
        assert_eq!(
            decode(&spec(FieldType::F32, None), &1.5f32.to_be_bytes(), Endian::Big),
            Val::F(1.5)
        );
        assert_eq!(
            decode(&spec(FieldType::I64, None), &(-5i64).to_le_bytes(), Endian::Little),
            Val::I(-5)
        );
    }

    #[test]
    fn scale_and_offset_make_floats() {
        let mut s = spec(FieldType::I16, None);
        s.scale = Some(0.5);
        s.offset = Some(1.0);
        assert_eq!(physical(&s, Val::I(-4)), Val::F(-1.0));
    }
}
