//! DZ blocks: deflate (zlib) and transposed deflate.

use std::io::{Read, Seek};

use flate2::read::ZlibDecoder;

use super::block::{BlockHeader, Source};
use super::error::{MdfError, Result};

/// Largest uncompressed size of one DZ block held in memory.
pub(crate) const MAX_DZ_ORIGINAL: u64 = 256 << 20;
/// Bytes of the DZ data section before the compressed stream.
const DZ_FIELDS: u64 = 24;

/// The fields of a DZ block before its compressed stream.
struct DzFields {
    zip_type: u8,
    columns: u64,
    org_len: u64,
    zip_len: u64,
}

fn read_fields<R: Read + Seek>(src: &mut Source<R>, header: &BlockHeader) -> Result<DzFields> {
    let at = header.offset;
    if header.data_len() < DZ_FIELDS {
        let (needed, available) = (DZ_FIELDS, header.data_len());
        return Err(MdfError::Truncated {
            offset: at,
            what: "DZ block",
            needed,
            available,
        });
    }
    let mut f = [0u8; DZ_FIELDS as usize];
    src.read_at(header.data_offset(), &mut f, "DZ block")?;
    if &f[..2] != b"DT" {
        let kind = String::from_utf8_lossy(&f[..2]).into_owned();
        return Err(MdfError::unsupported(at, format!("DZ of {kind} data")));
    }
    let fields = DzFields {
        zip_type: f[2],
        columns: u64::from(u32::from_le_bytes([f[4], f[5], f[6], f[7]])),
        org_len: u64::from_le_bytes(word(&f[8..16])),
        zip_len: u64::from_le_bytes(word(&f[16..24])),
    };
    if fields.org_len > MAX_DZ_ORIGINAL {
        let (value, limit) = (fields.org_len, MAX_DZ_ORIGINAL);
        return Err(MdfError::AbsurdSize {
            offset: at,
            what: "DZ original length",
            value,
            limit,
        });
    }
    let zip_limit = MAX_DZ_ORIGINAL + (1 << 20);
    if fields.zip_len > zip_limit {
        let (value, limit) = (fields.zip_len, zip_limit);
        return Err(MdfError::AbsurdSize {
            offset: at,
            what: "DZ compressed length",
            value,
            limit,
        });
    }
    let available = header.data_len() - DZ_FIELDS;
    if fields.zip_len > available {
        let needed = fields.zip_len;
        return Err(MdfError::Truncated {
            offset: at,
            what: "DZ compressed data",
            needed,
            available,
        });
    }
    Ok(fields)
}

/// Inflate the DZ block `header` into `out` (cleared first), undoing the transposition if
/// any. `scratch` is reused for the compressed bytes.
pub(crate) fn inflate<R: Read + Seek>(
    src: &mut Source<R>,
    header: &BlockHeader,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let at = header.offset;
    let dz = read_fields(src, header)?;
    scratch.clear();
    scratch.resize(dz.zip_len as usize, 0);
    src.read_at(header.data_offset() + DZ_FIELDS, scratch, "DZ compressed data")?;
    let inflated = inflate_into(&scratch[..], dz.org_len, out);
    match inflated {
        Err(e) => {
            return Err(MdfError::Inflate {
                offset: at,
                reason: e.to_string(),
            });
        }
        Ok(n) if n as u64 != dz.org_len => {
            let reason = format!("more or less than the {} bytes declared ({n})", dz.org_len);
            return Err(MdfError::Inflate { offset: at, reason });
        }
        Ok(_) => {}
    }
    match dz.zip_type {
        0 => Ok(()),
        1 => {
            untranspose(out, dz.columns, scratch);
            Ok(())
        }
        other => Err(MdfError::unsupported(at, format!("DZ zip type {other}"))),
    }
}

/// Inflate a zlib stream into `out`, growing it only as output arrives and never past
/// `limit + 1` bytes; returns the bytes inflated (at most `limit + 1`).
fn inflate_into(zipped: &[u8], limit: u64, out: &mut Vec<u8>) -> std::io::Result<usize> {
    let cap = usize::try_from(limit).unwrap_or(usize::MAX).saturating_add(1);
    let mut decoder = ZlibDecoder::new(zipped);
    let mut filled = 0;
    out.clear();
    out.resize(cap.min(4 * zipped.len() + 4096), 0);
    loop {
        if filled == out.len() {
            if filled == cap {
                break;
            }
            out.resize((2 * filled).min(cap), 0);
        }
        let n = decoder.read(&mut out[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    out.truncate(filled);
    Ok(filled)
}

fn word(b: &[u8]) -> [u8; 8] {
    let mut w = [0u8; 8];
    w.copy_from_slice(b);
    w
}

/// Undo the transposition of a DZ block: the first `rows * columns` bytes were stored
/// column by column; the remainder is stored as is.
pub(crate) fn untranspose(data: &mut [u8], columns: u64, scratch: &mut Vec<u8>) {
    let columns = columns as usize;
    if columns <= 1 {
        return;
    }
    let rows = data.len() / columns;
    let body = rows * columns;
    if rows <= 1 {
        return;
    }
    scratch.clear();
    scratch.extend_from_slice(&data[..body]);
    for (c, column) in scratch.chunks_exact(rows).enumerate() {
        for (r, &b) in column.iter().enumerate() {
            data[r * columns + c] = b;
        }
    }
}

/// Transpose like a DZ writer does (used by the test writer).
pub(crate) fn transpose(data: &[u8], columns: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    if columns <= 1 {
        return out;
    }
    let rows = data.len() / columns;
    for r in 0..rows {
        for c in 0..columns {
            out[c * rows + r] = data[r * columns + c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposition_round_trips_with_a_remainder() {
        let data: Vec<u8> = (0..23).collect();
        let t = transpose(&data, 4);
        assert_eq!(&t[..5], &[0, 4, 8, 12, 16]);
        assert_eq!(&t[20..], &[20, 21, 22]);
        let mut back = t.clone();
        untranspose(&mut back, 4, &mut Vec::new());
        assert_eq!(back, data);
    }
}
