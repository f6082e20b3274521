//! # haul-app
//!
//! The haul application: everything a binary that runs stages needs, around a
//! [`Registry`](haul_pipeline::Registry) of stages. The `haul` binary is this application
//! with the built-in stages; a user's binary is the same application with theirs, and gets
//! every command `haul` has:
//!
//! | command | what it does |
//! |---|---|
//! | `run STAGE FILE` | one stage on one local file |
//! | `replay` | the routed stages on S3 event files, or a bucket listing (`--backfill`) |
//! | `worker` | a stage's SQS queue, long-polled (ECS, Kubernetes, VMs) |
//! | `dev` | the local stack: S3 endpoint, MQTT broker, presign responder, queues, stages |
//! | `demo` | the local stack on free ports, a simulated device uploading each stage's sample |
//! | `deploy template` / `deploy local` | the SAM template of this binary; the same resources on an emulator |
//! | `config check` / `config defaults` | the configuration |
//! | `event s3\|sns\|sqs\|eventbridge` | an S3 event in the envelope AWS delivers, for `replay` |
//! | `new stage NAME` | a stage crate of your own, ready to build and test ([`scaffold`]) |
//! | `bench` | upload, presign, load and crash, cold-start measurements |
//!
//! When AWS Lambda starts the binary (`AWS_LAMBDA_RUNTIME_API` set, no arguments), it
//! serves the Runtime API instead: the function's `Handler` (`_HANDLER`) names a stage
//! (an SQS batch handler) or `presign` (the IoT rule's target).
//!
//! ```no_run
//! use haul_pipeline::prelude::*;
//!
//! struct Size;
//!
//! impl Stage for Size {
//!     fn name(&self) -> &str { "size" }
//!     async fn process(&self, object: Object, _cx: &Context) -> Result<Output, StageError> {
//!         Ok(Output::json(serde_json::json!({ "bytes": object.size() })))
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     haul_app::App::new(Registry::new().register(Size))
//!         .binary(env!("CARGO_PKG_NAME"), "size-stage")
//!         .default_config("[[routes]]\nstage = \"size\"\n")
//!         .main()
//! }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod lambda;
pub mod scaffold;

pub use cli::{App, Command, GlobalArgs, Table, block_on, init_tracing, init_tracing_for};
