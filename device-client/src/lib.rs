//! # haul-device
//!
//! The device side of haul: asks for a presigned URL over MQTT, uploads over HTTPS, and
//! waits for the processing result. Built for constrained devices: no AWS SDK, no
//! haul-pipeline.
//!
//! [`contract`] holds the MQTT message types shared with the cloud.

#![forbid(unsafe_code)]

pub mod contract;
