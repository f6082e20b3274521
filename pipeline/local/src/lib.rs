//! # haul-local
//!
//! haul's local stack: everything `dev` and `demo` run in one process, with no external
//! service, for any binary's stages.
//!
//! ```text
//! device --MQTT--> broker (rumqttd) --> presign responder --> presigned URL
//! device --HTTP PUT--> s3 (s3s over a folder, SigV4) --S3 notification JSON--> bus
//! bus --route filter--> queue per stage (concurrency, retry with backoff, DLQ folder)
//!     --> haul_pipeline::delivery::deliver --> results/ + result --MQTT--> device
//! ```
//!
//! - [`s3`]: the S3-compatible endpoint over a folder (also the one endpoint every test
//!   uses).
//! - [`broker`]: the embedded MQTT broker; [`mqtt`]: the cloud's MQTT connection.
//! - [`responder`]: device requests answered by the presign function, and device shadows
//!   by [`shadow`] (AWS IoT's Device Shadow service, named shadows).
//! - [`bus`] and [`dlq`]: the local topic, queues and dead-letter folder; [`events`]: what
//!   `haul dev` prints as it happens.
//! - [`data_folder`]: the data folder's lock, S3 secret and crash sweep.
//! - [`console`]: the web page `haul dev` serves (devices, uploads, results, dead letters).
//! - [`stack`]: all of it started together ([`DevStack`]); [`demo`]: `demo`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attempts;
pub mod broker;
pub mod bus;
pub mod console;
pub mod data_folder;
pub mod demo;
pub mod dlq;
pub mod events;
pub mod mqtt;
pub mod responder;
pub mod s3;
pub mod shadow;
pub mod stack;

pub use stack::{CLOUD_CLIENT_ID, DEV_ACCESS_KEY, DevOptions, DevStack};
