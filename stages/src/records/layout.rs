//! The record layout as declared in `haul.toml`:
//!
//! ```toml
//! [stages.records]
//! magic = "HREC"                     # or bytes: magic = [0x48, 0x52, 0x45, 0x43]
//! endian = "little"                  # default byte order of every field
//! count_field = "count"              # optional: header field holding the record count
//! crc32 = "record"                   # "none" | "record" | "file"
//! header = [
//!   { name = "version", type = "u16" },
//!   { name = "device", type = "bytes", len = 8 },
//!   { name = "count", type = "u32" },
//! ]
//! fields = [
//!   { name = "t_ms", type = "u32" },
//!   { name = "temp", type = "i16", scale = 0.01, unit = "degC" },
//!   { type = "pad", len = 2 },
//!   { name = "pressure", type = "f32", endian = "big", unit = "bar" },
//! ]
//! ```

use serde::{Deserialize, Serialize};

use super::error::RecordsError;

/// Largest record (fields plus CRC) accepted.
pub(crate) const MAX_RECORD: usize = 1 << 20;

/// A binary file format: optional magic, header fields read once, then records of fixed
/// layout until the end of the file (or `count_field` records), with an optional CRC-32.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecordLayout {
    /// Bytes the file starts with: a string (its UTF-8 bytes) or a list of byte values.
    /// None (the default) means no magic.
    #[serde(default)]
    pub magic: Option<Magic>,
    /// Byte order of every multi-byte field without its own `endian`. Default "little".
    #[serde(default)]
    pub endian: Endian,
    /// Header fields after the magic, read once and reported in the summary. Default none.
    #[serde(default)]
    pub header: Vec<FieldSpec>,
    /// Name of an integer header field holding the number of records. Without it (the
    /// default), records run to the end of the file (before the file CRC, if any).
    #[serde(default)]
    pub count_field: Option<String>,
    /// The fields of one record, in file order. At least one.
    pub fields: Vec<FieldSpec>,
    /// CRC-32 (IEEE, as zlib) check. Default "none".
    #[serde(default)]
    pub crc32: Crc32Mode,
    /// What a record CRC mismatch does. Default "fail".
    #[serde(default)]
    pub on_crc_mismatch: OnCrcMismatch,
}

/// File magic: `"HREC"` or `[0x48, 0x52, 0x45, 0x43]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Magic {
    /// The UTF-8 bytes of a string.
    Text(String),
    /// Raw byte values.
    Bytes(Vec<u8>),
}

impl Magic {
    /// The bytes to match.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Magic::Text(s) => s.as_bytes(),
            Magic::Bytes(b) => b,
        }
    }
}

/// Byte order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endian {
    /// Least significant byte first (the default).
    #[default]
    Little,
    /// Most significant byte first.
    Big,
}

/// Where CRC-32 values are stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Crc32Mode {
    /// No CRC (the default).
    #[default]
    None,
    /// A u32 after each record (in the layout's byte order), over that record's bytes.
    Record,
    /// A u32 in the last 4 bytes of the file, over every byte before it.
    File,
}

/// What a record whose CRC does not match does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnCrcMismatch {
    /// The file is rejected with a permanent error naming the record's offset (the default).
    #[default]
    Fail,
    /// The record is left out of the CSV and statistics and counted in `crc_failures`.
    Skip,
}

/// One field of the header or of a record.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Column name; required except for `pad`.
    #[serde(default)]
    pub name: String,
    /// The value type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Byte count, required for `bytes` and `pad`, not allowed otherwise.
    #[serde(default)]
    pub len: Option<usize>,
    /// Byte order of this field, overriding the layout's `endian`.
    #[serde(default)]
    pub endian: Option<Endian>,
    /// Physical value = raw * scale + offset (numeric fields only). Default 1.
    #[serde(default)]
    pub scale: Option<f64>,
    /// Physical value = raw * scale + offset (numeric fields only). Default 0.
    #[serde(default)]
    pub offset: Option<f64>,
    /// Unit, reported in the summary. Default none.
    #[serde(default)]
    pub unit: Option<String>,
}

/// Field types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Unsigned 8-bit integer.
    U8,
    /// Unsigned 16-bit integer.
    U16,
    /// Unsigned 32-bit integer.
    U32,
    /// Unsigned 64-bit integer.
    U64,
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
    /// IEEE 754 single precision.
    F32,
    /// IEEE 754 double precision.
    F64,
    /// `len` raw bytes, written as hex.
    Bytes,
    /// `len` bytes skipped.
    Pad,
}

impl FieldSpec {
    /// Size in bytes.
    pub fn size(&self) -> usize {
        match self.kind {
            FieldType::U8 | FieldType::I8 => 1,
            FieldType::U16 | FieldType::I16 => 2,
            FieldType::U32 | FieldType::I32 | FieldType::F32 => 4,
            FieldType::U64 | FieldType::I64 | FieldType::F64 => 8,
            FieldType::Bytes | FieldType::Pad => self.len.unwrap_or(0),
        }
    }

    /// True for integer and float types.
    pub fn is_numeric(&self) -> bool {
        !matches!(self.kind, FieldType::Bytes | FieldType::Pad)
    }

    fn check(&self, place: &str) -> Result<(), RecordsError> {
        let err = |m: String| Err(RecordsError::Layout(format!("{place} field {:?}: {m}", self.name)));
        let sized = matches!(self.kind, FieldType::Bytes | FieldType::Pad);
        if sized && self.len.is_none_or(|l| l == 0) {
            return err("`len` (at least 1) is required for bytes and pad".into());
        }
        if !sized && self.len.is_some() {
            return err("`len` is only for bytes and pad".into());
        }
        if self.kind != FieldType::Pad && self.name.is_empty() {
            return err("`name` is required".into());
        }
        if self.name.contains([',', '"', '\n', '\r']) {
            return err("names cannot hold commas, quotes or line breaks".into());
        }
        if !self.is_numeric() && (self.scale.is_some() || self.offset.is_some()) {
            return err("`scale` and `offset` are only for numeric fields".into());
        }
        Ok(())
    }
}

impl RecordLayout {
    /// Check the layout: names unique, sizes given, the count field an integer header field.
    pub fn validate(&self) -> Result<(), RecordsError> {
        if self.fields.iter().all(|f| f.kind == FieldType::Pad) {
            return Err(RecordsError::Layout(
                "`fields` needs at least one field that is not pad".into(),
            ));
        }
        for (place, list) in [("header", &self.header), ("record", &self.fields)] {
            let mut seen = std::collections::HashSet::new();
            for f in list {
                f.check(place)?;
                if f.kind != FieldType::Pad && !seen.insert(f.name.as_str()) {
                    return Err(RecordsError::Layout(format!(
                        "{place} field {:?} declared twice",
                        f.name
                    )));
                }
            }
        }
        if self.record_len() > MAX_RECORD || self.header_len() > MAX_RECORD {
            return Err(RecordsError::Layout(format!(
                "records and header are limited to {MAX_RECORD} bytes"
            )));
        }
        if let Some(count) = &self.count_field {
            let field = self.header.iter().find(|f| &f.name == count);
            let integer = field.is_some_and(|f| f.is_numeric() && !matches!(f.kind, FieldType::F32 | FieldType::F64));
            if !integer {
                return Err(RecordsError::Layout(format!(
                    "count_field {count:?} must name an integer header field"
                )));
            }
        }
        Ok(())
    }

    /// Bytes of the record fields (without CRC).
    pub fn record_len(&self) -> usize {
        self.fields.iter().map(FieldSpec::size).fold(0, usize::saturating_add)
    }

    /// Bytes of the magic and header.
    pub fn header_len(&self) -> usize {
        let magic = self.magic.as_ref().map_or(0, |m| m.bytes().len());
        self.header
            .iter()
            .map(FieldSpec::size)
            .fold(magic, usize::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        magic = "HREC"
        endian = "little"
        count_field = "count"
        crc32 = "record"
        header = [
          { name = "version", type = "u16" },
          { name = "device", type = "bytes", len = 8 },
          { name = "count", type = "u32" },
        ]
        fields = [
          { name = "t_ms", type = "u32" },
          { name = "temp", type = "i16", scale = 0.01, unit = "degC" },
          { type = "pad", len = 2 },
          { name = "pressure", type = "f32", endian = "big", unit = "bar" },
        ]
    "#;

    #[test]
    fn the_documented_example_parses_and_validates() -> anyhow::Result<()> {
        let layout: RecordLayout = toml::from_str(EXAMPLE)?;
        layout.validate()?;
        assert_eq!(layout.magic.as_ref().map(Magic::bytes), Some(&b"HREC"[..]));
        assert_eq!(layout.record_len(), 12);
        assert_eq!(layout.header_len(), 4 + 2 + 8 + 4);
        assert_eq!(layout.crc32, Crc32Mode::Record);
        assert_eq!(layout.fields[3].endian, Some(Endian::Big));
        let bytes: RecordLayout = toml::from_str("magic = [0x48, 0x52]\nfields = [{ name = \"x\", type = \"u8\" }]")?;
        assert_eq!(bytes.magic.as_ref().map(Magic::bytes), Some(&b"HR"[..]));
        assert_eq!(
            (bytes.endian, bytes.crc32, bytes.on_crc_mismatch),
            (Endian::Little, Crc32Mode::None, OnCrcMismatch::Fail)
        );
        Ok(())
    }

    #[test]
    fn unknown_keys_and_types_are_rejected() {
        assert!(toml::from_str::<RecordLayout>("fields = [{ name = \"x\", type = \"u8\" }]\ncrc = true").is_err());
        assert!(toml::from_str::<RecordLayout>("fields = [{ name = \"x\", type = \"u24\" }]").is_err());
        assert!(toml::from_str::<RecordLayout>("fields = [{ name = \"x\", type = \"u8\", bits = 3 }]").is_err());
        assert!(
            toml::from_str::<RecordLayout>("endian = \"middle\"\nfields = [{ name = \"x\", type = \"u8\" }]").is_err()
        );
    }

    #[test]
    fn inconsistent_layouts_fail_validation() -> anyhow::Result<()> {
        let bad = [
            "fields = [{ type = \"pad\", len = 2 }]",
            "fields = [{ name = \"x\", type = \"bytes\" }]",
            "fields = [{ name = \"x\", type = \"u8\", len = 2 }]",
            "fields = [{ name = \"x\", type = \"u8\" }, { name = \"x\", type = \"u8\" }]",
            "fields = [{ type = \"u8\" }]",
            "fields = [{ name = \"x\", type = \"bytes\", len = 2, scale = 2.0 }]",
            "count_field = \"n\"\nfields = [{ name = \"x\", type = \"u8\" }]",
            "count_field = \"n\"\nheader = [{ name = \"n\", type = \"f32\" }]\nfields = [{ name = \"x\", type = \"u8\" }]",
        ];
        for text in bad {
            let layout: RecordLayout = toml::from_str(text)?;
            assert!(matches!(layout.validate(), Err(RecordsError::Layout(_))), "{text}");
        }
        Ok(())
    }
}
