//! `haul replay`: run the routed stages on event files, or on a bucket listing (backfill).

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use tokio::io::AsyncReadExt;

use crate::event::{ObjectEvent, Skipped, parse};
use crate::pipeline::{Pipeline, RecordOutcome, RunOptions};
use crate::store::StoreError;

/// Where events come from.
#[derive(Debug, Clone)]
pub enum ReplayInput {
    /// A file with one envelope, or a folder of `*.json` files (recursively, sorted).
    Path(PathBuf),
    /// One envelope on standard input.
    Stdin,
}

/// An input that could not be read or parsed.
#[derive(Debug, Clone)]
pub struct InputError {
    /// The file (or `stdin`).
    pub input: String,
    /// What was wrong.
    pub message: String,
}

/// Everything a replay did.
#[derive(Debug, Default)]
pub struct ReplayReport {
    /// One row per (object, stage).
    pub outcomes: Vec<RecordOutcome>,
    /// Entries acknowledged without an object (test events, removals).
    pub skipped: Vec<Skipped>,
    /// Inputs that could not be used.
    pub errors: Vec<InputError>,
}

impl ReplayReport {
    /// Number of failed records plus unusable inputs.
    pub fn failures(&self) -> usize {
        self.outcomes.iter().filter(|o| o.status.is_failure()).count() + self.errors.len()
    }
}

/// Objects processed at the same time during a replay (each stage's own concurrency limit
/// applies as well).
const IN_FLIGHT: usize = 8;

/// Reads every input, then processes all events found.
pub async fn replay(pipeline: &Pipeline, inputs: &[ReplayInput], opts: &RunOptions) -> ReplayReport {
    let mut report = ReplayReport::default();
    let mut events = Vec::new();
    for input in inputs {
        for (name, bytes) in read_input(input, &mut report).await {
            match parse(&bytes) {
                Ok(parsed) => {
                    events.extend(parsed.events);
                    report.skipped.extend(parsed.skipped);
                }
                Err(e) => report.errors.push(InputError {
                    input: name,
                    message: e.to_string(),
                }),
            }
        }
    }
    report.outcomes = run_all(pipeline, events, opts).await;
    report
}

/// Lists `bucket` under `prefix` and processes every object as if it had just been
/// uploaded (already processed versions are skipped unless `opts.force`).
pub async fn backfill(
    pipeline: &Pipeline,
    bucket: &str,
    prefix: &str,
    opts: &RunOptions,
) -> Result<ReplayReport, StoreError> {
    let mut report = ReplayReport::default();
    let mut next = None;
    loop {
        let page = pipeline.store().list_page(bucket, prefix, next).await?;
        let events = page
            .objects
            .iter()
            .map(|o| ObjectEvent::synthesized(&o.bucket, &o.key, Some(o.size), o.etag.clone()))
            .collect();
        report.outcomes.extend(run_all(pipeline, events, opts).await);
        next = page.next;
        if next.is_none() {
            return Ok(report);
        }
    }
}

async fn run_all(pipeline: &Pipeline, events: Vec<ObjectEvent>, opts: &RunOptions) -> Vec<RecordOutcome> {
    futures_util::stream::iter(events)
        .map(|event| async move { pipeline.process(&event, opts).await })
        .buffered(IN_FLIGHT)
        .flat_map(futures_util::stream::iter)
        .collect()
        .await
}

async fn read_input(input: &ReplayInput, report: &mut ReplayReport) -> Vec<(String, Vec<u8>)> {
    match input {
        ReplayInput::Stdin => {
            let mut buf = Vec::new();
            match tokio::io::stdin().read_to_end(&mut buf).await {
                Ok(_) => vec![("stdin".to_owned(), buf)],
                Err(e) => {
                    report.errors.push(InputError {
                        input: "stdin".to_owned(),
                        message: e.to_string(),
                    });
                    Vec::new()
                }
            }
        }
        ReplayInput::Path(path) => {
            let mut out = Vec::new();
            for file in expand(path, report) {
                match tokio::fs::read(&file).await {
                    Ok(bytes) => out.push((file.display().to_string(), bytes)),
                    Err(e) => report.errors.push(InputError {
                        input: file.display().to_string(),
                        message: e.to_string(),
                    }),
                }
            }
            out
        }
    }
}

/// A file as itself; a folder as its `*.json` files, recursively, sorted.
fn expand(path: &Path, report: &mut ReplayReport) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_owned()];
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                report.errors.push(InputError {
                    input: dir.display().to_string(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        report.errors.push(InputError {
            input: path.display().to_string(),
            message: "folder holds no .json event files".to_owned(),
        });
    }
    files
}
