//! `mdf`: ASAM MDF 4.x measurement files. A pure-Rust reader streams the data blocks in
//! bounded memory and reports per-channel statistics; each channel group becomes a CSV
//! artifact.

mod block;
mod channel;
mod column;
mod conversion;
mod csv;
mod data;
mod error;
mod evaluate;
mod header;
mod record;
mod scan;
mod sink;
mod summary;
mod summary_line;
mod text;
pub mod write;
mod zip;

pub use error::MdfError;
pub use header::{FileHeader, HistoryEntry};
pub use scan::{summarize, summarize_file};
pub use summary::{ChannelSummary, GroupSummary, MdfSummary};
pub use summary_line::summary_line;
pub use text::SourceInfo;

use haul_pipeline::prelude::*;

/// The `mdf` stage.
#[derive(Debug, Default)]
pub struct MdfStage;

impl Stage for MdfStage {
    fn name(&self) -> &str {
        "mdf"
    }

    async fn process(&self, object: Object, cx: &Context) -> Result<Output, StageError> {
        let file = object.file(cx.scratch_dir()).await?;
        let csv_dir = cx.scratch_dir().join("csv");
        std::fs::create_dir_all(&csv_dir).map_err(StageError::retryable)?;
        let (path, dir) = (file.path().to_owned(), csv_dir.clone());
        let summary = haul_pipeline::blocking(move || summarize_file(&path, Some(&dir))).await?;
        let summary = summary?;
        let mut output = Output::serialize(&summary)?;
        for name in &summary.csv_files {
            output = output.with_artifact(Artifact::file(name, "text/csv", csv_dir.join(name)));
        }
        Ok(output)
    }

    fn sample(&self) -> Option<Sample> {
        Some(Sample::new("machine.mf4", crate::samples::mdf(4, 2000)))
    }

    /// `MDF 4.10, 2 channel groups, 9 channels, 4000 records over 0–2 s, 2 CSV tables`.
    fn summary(&self, output: &serde_json::Value) -> String {
        summary_line(output)
    }
}
