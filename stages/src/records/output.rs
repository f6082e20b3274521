//! What the records stage produces: the JSON summary types and the CSV writer.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::error::RecordsError;
use super::layout::{FieldType, RecordLayout};
use super::value::{Val, hex};

/// The output of the records stage.
#[derive(Debug, Clone, Serialize)]
pub struct RecordsSummary {
    /// File size in bytes.
    pub file_size: u64,
    /// Header fields in declared order.
    pub header: Vec<HeaderValue>,
    /// Records read (CSV rows), without skipped ones.
    pub records: u64,
    /// Records skipped because their CRC did not match (`on_crc_mismatch = "skip"`).
    pub crc_failures: u64,
    /// Bytes per record, CRC included.
    pub record_bytes: u64,
    /// Statistics per record field (pads left out).
    pub fields: Vec<FieldSummary>,
    /// The CSV file name.
    pub csv: String,
}

/// One header field.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderValue {
    /// Field name.
    pub name: String,
    /// Value: a number, or hex for bytes.
    pub value: Value,
    /// Declared unit.
    pub unit: Option<String>,
}

/// Statistics of one record field.
#[derive(Debug, Clone, Serialize)]
pub struct FieldSummary {
    /// Field name.
    pub name: String,
    /// Declared type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Declared unit.
    pub unit: Option<String>,
    /// Smallest physical value (numeric fields, NaN ignored).
    pub min: Option<f64>,
    /// Largest physical value.
    pub max: Option<f64>,
    /// Mean physical value.
    pub mean: Option<f64>,
}

/// The CSV output: a header of field names, one row per record.
pub(crate) struct Csv<'p> {
    path: &'p Path,
    out: BufWriter<File>,
    line: Vec<u8>,
}

impl<'p> Csv<'p> {
    pub fn create(path: &'p Path, layout: &RecordLayout) -> Result<Self, RecordsError> {
        let file = File::create(path).map_err(|source| RecordsError::CsvWrite {
            path: path.to_path_buf(),
            source,
        })?;
        let mut csv = Csv {
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            line: Vec::new(),
        };
        let names: Vec<&str> = layout
            .fields
            .iter()
            .filter(|f| f.kind != FieldType::Pad)
            .map(|f| f.name.as_str())
            .collect();
        csv.line.extend_from_slice(names.join(",").as_bytes());
        csv.end_row()?;
        Ok(csv)
    }

    pub fn cell(&mut self, first: bool, v: Val<'_>) {
        if !first {
            self.line.push(b',');
        }
        // Writing into a Vec cannot fail.
        let _ = match v {
            Val::U(x) => write!(self.line, "{x}"),
            Val::I(x) => write!(self.line, "{x}"),
            Val::F(x) => write!(self.line, "{x:?}"),
            Val::Bytes(b) => write!(self.line, "{}", hex(b)),
        };
    }

    pub fn end_row(&mut self) -> Result<(), RecordsError> {
        self.line.push(b'\n');
        let result = self.out.write_all(&self.line);
        self.line.clear();
        result.map_err(|source| RecordsError::CsvWrite {
            path: self.path.to_path_buf(),
            source,
        })
    }

    pub fn finish(mut self) -> Result<(), RecordsError> {
        self.out.flush().map_err(|source| RecordsError::CsvWrite {
            path: self.path.to_path_buf(),
            source,
        })
    }
}
