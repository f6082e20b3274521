//! # haul-device
//!
//! The device side of haul: asks for a presigned URL over MQTT, uploads over HTTPS
//! (streamed from disk, multipart in parallel and resumable), and waits for the processing
//! results. Built for constrained devices: no AWS SDK, no haul-pipeline, rustls with `ring`.
//!
//! ```text
//! device                                   cloud
//!   | subscribe haul/{d}/upload/{response,result}
//!   | publish   haul/{d}/upload/request  --> presign stage
//!   |           haul/{d}/upload/response <-- Accepted { Single | Multipart } / Rejected
//!   | PUT url (or PUT part urls, in parallel) --> S3
//!   | publish   haul/{d}/upload/complete --> (multipart) cloud completes
//!   |           haul/{d}/upload/response <-- Completed
//!   |           haul/{d}/upload/result   <-- one UploadResult per stage
//! ```
//!
//! [`contract`] (the crate `haul-contract`) holds the MQTT message types shared with the
//! cloud.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use haul_device::{Client, ConnectOptions, ResultWait, UploadOptions};
//!
//! let opts = ConnectOptions::new("mqtt://127.0.0.1:1883", "dev-1")?;
//! let client = Client::connect(opts).await?;
//! let outcome = client.upload("heart.wav".as_ref(), &UploadOptions::new("/tmp/haul-state")).await?;
//! let results = client.wait_results(&outcome, &ResultWait::default(), |_| {}).await;
//! println!("{} stored as {}, {} results", outcome.file_name, outcome.key, results.len());
//! client.disconnect().await;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub use haul_contract as contract;

#[cfg(feature = "dev-certs")]
pub mod certs;

#[cfg(feature = "client")]
pub mod backoff;
#[cfg(feature = "client")]
mod body;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
pub mod error;
#[cfg(feature = "client")]
pub mod hash;
#[cfg(feature = "client")]
pub mod http;
#[cfg(feature = "client")]
pub mod mqtt;
#[cfg(feature = "client")]
mod multipart;
#[cfg(feature = "client")]
pub mod options;
#[cfg(feature = "client")]
mod parts;
#[cfg(feature = "client")]
pub mod progress;
#[cfg(feature = "client")]
pub mod results;
#[cfg(feature = "client")]
mod single;
#[cfg(feature = "client")]
pub mod spool;
#[cfg(feature = "client")]
pub mod state;
#[cfg(feature = "client")]
pub mod tls;
#[cfg(feature = "client")]
pub mod trust;
#[cfg(feature = "client")]
mod upload;

#[cfg(feature = "dev-certs")]
pub use certs::{DevCerts, generate_dev_certs};
#[cfg(feature = "client")]
pub use {
    backoff::Backoff,
    client::Client,
    error::{ConnectError, UploadError},
    options::{BrokerUrl, ConnectOptions, UploadOptions},
    progress::ProgressMode,
    results::ResultWait,
    trust::TrustedS3,
    upload::{UploadKind, UploadOutcome},
};
