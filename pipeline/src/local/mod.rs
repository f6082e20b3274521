//! The embedded local stack: everything `haul dev` runs in one process, with no external
//! service.
//!
//! ```text
//! device --MQTT--> broker (rumqttd) --> presign responder --> presigned URL
//! device --HTTP PUT--> s3 (s3s over a folder, SigV4) --S3 notification JSON--> bus
//! bus --route filter--> queue per stage (concurrency, retry with backoff, DLQ folder)
//!     --> Pipeline::process --> results/ + result event --MQTT--> device
//! ```

pub mod bus;
pub mod dlq;
pub mod s3;
