//! # haul-pipeline
//!
//! The haul framework: it gets S3 object events to processing stages, whatever envelope
//! they arrive in, and owns everything around a stage — routing, retries, timeouts,
//! concurrency, panic capture, deduplication and result writing — so a stage is one async
//! method.
//!
//! ```text
//! S3 event (bare | SNS | SQS | Lambda batch | EventBridge)
//!    -> event::parse -> [ObjectEvent]
//!    -> Router (haul.toml routes) -> stage names
//!    -> Pipeline::process: dedupe on bucket+key+version, invoke with timeout + panic capture
//!    -> results/{stage}/{key}.json (+ {key}.artifacts/*) -> ResultSink (MQTT, SNS)
//! ```
//!
//! ## Writing a stage
//!
//! ```
//! use haul_pipeline::prelude::*;
//! use tokio::io::AsyncReadExt;
//!
//! /// Counts the lines of text objects.
//! struct LineCount;
//!
//! impl Stage for LineCount {
//!     fn name(&self) -> &str { "line-count" }
//!
//!     async fn process(&self, object: Object, _cx: &Context) -> Result<Output, StageError> {
//!         let mut body = object.body().await?;          // streamed, never all in memory
//!         let mut buf = vec![0u8; 64 * 1024];
//!         let mut lines = 0u64;
//!         loop {
//!             let n = body.read(&mut buf).await.map_err(StageError::retryable)?;
//!             if n == 0 { break; }
//!             lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
//!         }
//!         if lines == 0 {
//!             return Err(StageError::permanent("not a text file: no line breaks"));
//!         }
//!         Ok(Output::json(serde_json::json!({ "lines": lines })))
//!     }
//! }
//! ```
//!
//! Return [`StageError::Retryable`] for failures that may pass (network, throttling) and
//! [`StageError::Permanent`] for bad input: the first is delivered again and ends in the
//! dead-letter queue, the second is written as an error result and acknowledged.
//!
//! ## Registering it
//!
//! A binary is the framework plus its stages; it gets the `run`, `replay` and
//! `config check` commands:
//!
//! ```no_run
//! # use haul_pipeline::prelude::*;
//! # struct LineCount;
//! # impl Stage for LineCount {
//! #     fn name(&self) -> &str { "line-count" }
//! #     async fn process(&self, _: Object, _: &Context) -> Result<Output, StageError> { todo!() }
//! # }
//! fn main() -> std::process::ExitCode {
//!     let registry = Registry::new().register(LineCount);
//!     haul_pipeline::cli::App::new(registry)
//!         .default_config(r#"
//!             [[routes]]
//!             stage = "line-count"
//!             suffixes = [".txt", ".csv"]
//!         "#)
//!         .main()
//! }
//! ```
//!
//! Then `my-binary run line-count notes.txt` runs it on a file, and
//! `my-binary replay --store ./data event.json` on an S3 event.

#![warn(missing_docs)]

mod blocking;
pub mod cli;
pub mod config;
pub mod content_type;
mod context;
mod error;
pub mod event;
mod invoke;
pub mod lambda;
pub mod local;
mod object;
mod pipeline;
mod registry;
pub mod replay;
pub mod result;
pub mod router;
mod stage;
pub mod store;
pub mod worker;

pub use blocking::blocking;
pub use context::Context;
pub use error::{BoxError, ErrorKind, StageError};
pub use invoke::{Failure, Invocation, invoke};
pub use object::{Object, ObjectFile};
pub use pipeline::{Pipeline, RecordOutcome, ResultSink, RunOptions, StageEntry, Status};
pub use registry::Registry;
pub use stage::{Artifact, ArtifactBody, DynStage, Output, Stage};

/// The names a stage author needs.
pub mod prelude {
    pub use crate::{Artifact, Context, Object, Output, Registry, Stage, StageError};
}
