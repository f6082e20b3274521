//! Any bytes given to the records parser with a layout using every feature.
#![no_main]

use std::sync::OnceLock;

use haul_stages::records::{
    Crc32Mode, Endian, FieldSpec, FieldType, Magic, OnCrcMismatch, RecordLayout, parse_reader,
};
use libfuzzer_sys::fuzz_target;

fn field(name: &str, kind: FieldType, len: Option<usize>) -> FieldSpec {
    FieldSpec {
        name: name.into(),
        kind,
        len,
        endian: None,
        scale: None,
        offset: None,
        unit: None,
    }
}

fn layout() -> &'static RecordLayout {
    static LAYOUT: OnceLock<RecordLayout> = OnceLock::new();
    LAYOUT.get_or_init(|| RecordLayout {
        magic: Some(Magic::Text("HR".into())),
        endian: Endian::Big,
        header: vec![
            field("n", FieldType::U16, None),
            field("id", FieldType::Bytes, Some(3)),
        ],
        count_field: Some("n".into()),
        fields: vec![
            field("a", FieldType::I16, None),
            field("", FieldType::Pad, Some(1)),
            field("b", FieldType::F32, None),
        ],
        crc32: Crc32Mode::Record,
        on_crc_mismatch: OnCrcMismatch::Skip,
    })
}

fuzz_target!(|data: &[u8]| {
    let csv = std::env::temp_dir().join(format!("haul-fuzz-records-{}.csv", std::process::id()));
    let _ = parse_reader(
        std::io::Cursor::new(data),
        data.len() as u64,
        layout(),
        &csv,
    );
});
