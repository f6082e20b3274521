//! `records`: a custom device's binary format, declared in `haul.toml` (magic, header
//! fields, a record of typed fields, an optional CRC-32), turned into a CSV artifact and a
//! JSON summary. The layout is the stage's options: `[stages.records]`.

mod error;
mod layout;
mod output;
mod parse;
mod value;

pub use error::RecordsError;
pub use layout::{Crc32Mode, Endian, FieldSpec, FieldType, Magic, OnCrcMismatch, RecordLayout};
pub use output::{FieldSummary, HeaderValue, RecordsSummary};
pub use parse::{parse_file, parse_reader};

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
        let summary = summary.map_err(|e| {
            if e.is_permanent() {
                StageError::permanent(e)
            } else {
                StageError::retryable(e)
            }
        })?;
        Ok(Output::serialize(&summary)?.with_artifact(Artifact::file("records.csv", "text/csv", csv)))
    }
}
