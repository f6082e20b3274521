//! A sample file of any declared layout, for `demo` and generated tests: the magic, the
//! header (the count field holds the record count, other numbers 1, bytes `SAMPLE..`),
//! then records whose numeric fields ramp slowly, with the CRCs the layout asks for.

use super::layout::{Crc32Mode, Endian, FieldSpec, FieldType, RecordLayout};

/// `count` records in `layout`.
pub fn sample_file(layout: &RecordLayout, count: u32) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(magic) = &layout.magic {
        out.extend_from_slice(magic.bytes());
    }
    for field in &layout.header {
        let value = if layout.count_field.as_deref() == Some(field.name.as_str()) {
            f64::from(count)
        } else {
            1.0
        };
        put(&mut out, field, layout.endian, value);
    }
    for i in 0..count {
        let mut record = Vec::new();
        for (j, field) in layout.fields.iter().enumerate() {
            put(&mut record, field, layout.endian, ramp(i, j));
        }
        let crc = crc32fast::hash(&record);
        out.extend_from_slice(&record);
        if layout.crc32 == Crc32Mode::Record {
            out.extend_from_slice(&u32_bytes(crc, layout.endian));
        }
    }
    if layout.crc32 == Crc32Mode::File {
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&u32_bytes(crc, layout.endian));
    }
    out
}

/// Field `j` of record `i`: the first field counts up (a time or sequence number), the
/// others wander around a middle value.
fn ramp(i: u32, j: usize) -> f64 {
    if j == 0 {
        f64::from(i)
    } else {
        40.0 + f64::from((i + j as u32 * 7) % 40)
    }
}

fn u32_bytes(v: u32, endian: Endian) -> [u8; 4] {
    match endian {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    }
}

fn put(out: &mut Vec<u8>, field: &FieldSpec, default: Endian, value: f64) {
    let big = field.endian.unwrap_or(default) == Endian::Big;
    macro_rules! num {
        ($t:ty) => {{
            let v = value as $t;
            out.extend_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
        }};
    }
    match field.kind {
        FieldType::U8 => num!(u8),
        FieldType::U16 => num!(u16),
        FieldType::U32 => num!(u32),
        FieldType::U64 => num!(u64),
        FieldType::I8 => num!(i8),
        FieldType::I16 => num!(i16),
        FieldType::I32 => num!(i32),
        FieldType::I64 => num!(i64),
        FieldType::F32 => num!(f32),
        FieldType::F64 => num!(f64),
        FieldType::Bytes => {
            let text = b"SAMPLE-0000000000000000";
            out.extend((0..field.size()).map(|k| text.get(k).copied().unwrap_or(b'0')));
        }
        FieldType::Pad => out.extend(std::iter::repeat_n(0u8, field.size())),
    }
}
