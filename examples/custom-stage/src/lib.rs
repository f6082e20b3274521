//! `csv-stats`: per-column statistics of CSV sensor logs, as a haul stage.

use std::collections::BTreeMap;

use haul_pipeline::prelude::*;
use haul_pipeline::summary::number;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Options from `[stages.csv-stats]` in haul.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsvStatsOptions {
    /// Field separator.
    pub delimiter: char,
}

impl Default for CsvStatsOptions {
    fn default() -> Self {
        Self { delimiter: ',' }
    }
}

/// The stage.
#[derive(Debug, Default)]
pub struct CsvStats {
    options: CsvStatsOptions,
}

impl CsvStats {
    /// A stage with these options.
    pub fn new(options: CsvStatsOptions) -> Self {
        Self { options }
    }
}

/// Statistics of one column.
#[derive(Debug, Serialize, PartialEq)]
pub struct Column {
    /// Values seen.
    pub count: u64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Stage for CsvStats {
    fn name(&self) -> &str {
        "csv-stats"
    }

    async fn process(&self, object: Object, _cx: &Context) -> Result<Output, StageError> {
        let mut lines = BufReader::new(object.body().await?).lines();
        let read = |e: std::io::Error| StageError::retryable(e);
        let header = lines
            .next_line()
            .await
            .map_err(read)?
            .ok_or_else(|| StageError::permanent("empty file: no header row"))?;
        let names: Vec<String> = header
            .split(self.options.delimiter)
            .map(|s| s.trim().to_owned())
            .collect();
        let mut sums = vec![(0u64, f64::INFINITY, f64::NEG_INFINITY, 0f64); names.len()];
        let mut row = 1u64;
        while let Some(line) = lines.next_line().await.map_err(read)? {
            row += 1;
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split(self.options.delimiter).collect();
            if cells.len() != names.len() {
                return Err(StageError::permanent(format!(
                    "row {row} has {} fields, the header has {}",
                    cells.len(),
                    names.len()
                )));
            }
            for (cell, s) in cells.iter().zip(sums.iter_mut()) {
                let v: f64 = cell
                    .trim()
                    .parse()
                    .map_err(|_| StageError::permanent(format!("row {row}: {cell:?} is not a number")))?;
                *s = (s.0 + 1, s.1.min(v), s.2.max(v), s.3 + v);
            }
        }
        let columns: BTreeMap<_, _> = names
            .into_iter()
            .zip(sums)
            .filter(|(_, s)| s.0 > 0)
            .map(|(n, (count, min, max, sum))| {
                (
                    n,
                    Column {
                        count,
                        min,
                        max,
                        mean: sum / count as f64,
                    },
                )
            })
            .collect();
        Output::serialize(&serde_json::json!({ "rows": row - 1, "columns": columns }))
    }

    /// A day of readings every ten minutes, for `csv-stats demo`.
    fn sample(&self) -> Option<Sample> {
        let d = self.options.delimiter;
        let mut csv = format!("minute{d}temp{d}humidity\n");
        for i in 0..144u32 {
            let temp = 18.0 + f64::from(i % 72) / 12.0;
            csv.push_str(&format!("{}{d}{temp:.2}{d}{}\n", i * 10, 40 + i % 20));
        }
        Some(Sample::new("readings.csv", csv))
    }

    /// What `csv-stats run` prints: `144 rows; humidity 49.5 (40–59), minute 715 (0–1430),
    /// temp 20.9 (18–23.9)` (each column's mean, then its range).
    fn summary(&self, output: &serde_json::Value) -> String {
        let rows = output["rows"].as_u64().unwrap_or(0);
        let columns: Vec<String> = output["columns"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, c)| {
                let f = |k: &str| c[k].as_f64().map_or("?".to_owned(), number);
                format!("{name} {} ({}–{})", f("mean"), f("min"), f("max"))
            })
            .collect();
        match columns.is_empty() {
            true => format!("{rows} rows, no numeric columns"),
            false => format!("{rows} rows; {}", columns.join(", ")),
        }
    }
}

/// The stages of this crate, ready to hand to `haul_app::App`.
pub fn registry() -> Registry {
    Registry::new().register_with("csv-stats", |opts: CsvStatsOptions| Ok(CsvStats::new(opts)))
}
