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
//!    -> results/{stage}/{key}.json (+ {key}.artifacts/*) -> ResultSink (device, SNS)
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
//! A stage crate depends on this crate only (a few dozen crates: no AWS SDK, no MQTT, no
//! server). The binary that runs it registers it with the application crate `haul-app`,
//! which gives it every command `haul` has (run, replay, worker, dev, demo, deploy, config)
//! and serves the Lambda Runtime API when Lambda starts it:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     let registry = Registry::new().register(LineCount);
//!     haul_app::App::new(registry)
//!         .binary(env!("CARGO_PKG_NAME"), env!("CARGO_BIN_NAME"))
//!         .default_config(r#"
//!             [[routes]]
//!             stage = "line-count"
//!             suffixes = [".txt", ".csv"]
//!         "#)
//!         .main()
//! }
//! ```
//!
//! Then `my-binary run line-count notes.txt` runs it on a file, `my-binary dev` in the
//! local stack, and `my-binary deploy template` writes its SAM template.

#![warn(missing_docs)]

mod blocking;
pub mod cancel;
pub mod claim;
pub mod config;
pub mod content_type;
mod context;
pub mod delivery;
mod error;
pub mod event;
mod invoke;
pub mod metrics;
mod object;
mod pipeline;
mod registry;
pub mod replay;
pub mod result;
pub mod router;
mod stage;
pub mod store;
pub mod summary;
pub mod testing;

pub use blocking::blocking;
pub use context::Context;
pub use error::{BoxError, ErrorClass, ErrorKind, StageError, one_line_error};
pub use invoke::{Failure, Invocation, invoke};
pub use object::{Object, ObjectFile};
pub use pipeline::{Pipeline, RecordOutcome, ResultSink, RunOptions, StageEntry, Status};
pub use registry::Registry;
pub use stage::{Artifact, ArtifactBody, DynStage, Output, Sample, Stage};

/// The names a stage author needs.
pub mod prelude {
    pub use crate::{Artifact, Context, ErrorClass, Object, Output, Registry, Sample, Stage, StageError};
}
