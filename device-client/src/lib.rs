//! # haul-device
//!
//! The device side of haul: asks for a presigned URL over MQTT, uploads over HTTPS, and
//! waits for the processing result. Built for constrained devices: no AWS SDK, no
//! haul-pipeline. (The ingestion path arrives with issue 3.)

#![forbid(unsafe_code)]
