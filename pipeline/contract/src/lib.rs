//! # haul-contract
//!
//! The contracts between a device and the cloud, each with one owner module, and nothing
//! but serde: the device client, the presign function, the local stack and the stages all
//! depend on this crate rather than on each other.
//!
//! - [`topics`]: the MQTT topics (`haul/{device}/upload/{kind}`) and their JSON payloads.
//! - [`shadow`]: the same exchange through the device's named shadow `haul-upload`.
//! - [`key`]: the object key the cloud chooses for an upload, built and parsed in one place.
//! - [`s3`]: S3's limits (part sizes, part count, object size, presign expiry).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod key;
pub mod s3;
pub mod shadow;
pub mod topics;

pub use topics::*;
