//! `records`: a custom device's binary format, declared in `haul.toml` (magic, header
//! fields, a record of typed fields, an optional CRC-32), turned into a CSV artifact and a
//! JSON summary. The layout is the stage's options: `[stages.records]`.

mod error;
mod layout;
mod output;
mod parse;
mod sample;
mod summary_line;
mod value;

pub use error::RecordsError;
pub use layout::{Crc32Mode, Endian, FieldSpec, FieldType, Magic, OnCrcMismatch, RecordLayout};
pub use output::{FieldSummary, HeaderValue, RecordsSummary};
pub use parse::{parse_file, parse_reader};
pub use sample::sample_file;
pub use summary_line::summary_line;

use haul_pipeline::prelude::*;

/// The `records` stage, for one declared layout.
#[derive(Debug)]
pub struct RecordsStage {
    layout: RecordLayout,
}

impl RecordsStage {
    /// A stage for a layout; an inconsistent layout is an error.
    pub fn new(layout: RecordLayout) -> Result<Self, RecordsError> {
        layout.validate()?;
        Ok(Self { layout })
    }
}

impl Stage for RecordsStage {
    fn name(&self) -> &str {
        "records"
    }

    async fn process(&self, object: Object, cx: &Context) -> Result<Output, StageError> {
        let file = object.file(cx.scratch_dir()).await?;
        let csv = cx.scratch_dir().join("records.csv");
        let (path, out, layout) = (file.path().to_owned(), csv.clone(), self.layout.clone());
        let summary = haul_pipeline::blocking(move || parse_file(&path, &layout, &out)).await?;
        let summary = summary?;
        Ok(Output::serialize(&summary)?.with_artifact(Artifact::file("records.csv", "text/csv", csv)))
    }

    fn sample(&self) -> Option<Sample> {
        Some(Sample::new("sensor-log.rec", sample_file(&self.layout, 600)))
    }

    /// `600 records of 14 B, no CRC failures; t_ms 0–59900 ms, temperature 18–25.1 degC, …`.
    fn summary(&self, output: &serde_json::Value) -> String {
        summary_line(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sample_of_a_layout_parses_with_that_layout() {
        let layout: RecordLayout = toml::from_str(
            r#"
            magic = [0xCA, 0xFE]
            endian = "big"
            count_field = "n"
            crc32 = "file"
            header = [{ name = "n", type = "u16" }, { name = "id", type = "bytes", len = 4 }]
            fields = [{ name = "t", type = "u32" }, { name = "x", type = "i16", scale = 0.5 }, { type = "pad", len = 1 }]
            "#,
        )
        .unwrap();
        let stage = RecordsStage::new(layout.clone()).unwrap();
        let sample = Stage::sample(&stage).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let summary = parse_reader(
            &sample.bytes[..],
            sample.bytes.len() as u64,
            &layout,
            &dir.path().join("o.csv"),
        )
        .unwrap();
        assert_eq!(summary.records, 600);
    }
}
