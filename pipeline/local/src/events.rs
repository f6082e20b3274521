//! What happens in the local stack, one event at a time: `haul dev` prints each as a line
//! for people (or a JSON object with `--json`); benchmarks and tests count them.

use std::time::Duration;

use haul_contract::{UploadResponse, key::UploadKey};
use haul_pipeline::RecordOutcome;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// One event of the local stack.
#[derive(Debug, Clone)]
pub enum StackEvent {
    /// A device's request or completion was answered.
    Answered {
        /// The device (from the topic).
        device: String,
        /// The answer.
        response: UploadResponse,
    },
    /// An object arrived in the bucket (its S3 notification was sent).
    Stored {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// Size in bytes.
        size: Option<u64>,
    },
    /// A stage finished with one object (or found its result already there).
    Finished(RecordOutcome),
    /// A delivery failed and is delivered again after `delay`.
    Retrying {
        /// Stage.
        stage: String,
        /// Key.
        key: String,
        /// The attempt that failed.
        attempt: u32,
        /// Wait before the next.
        delay: Duration,
        /// Why.
        error: String,
    },
    /// A delivery went to the dead-letter folder.
    DeadLettered {
        /// Stage.
        stage: String,
        /// Key.
        key: String,
        /// Deliveries made.
        attempts: u32,
        /// The last error.
        error: String,
    },
}

/// Where the stack sends its events.
pub type EventSender = mpsc::UnboundedSender<StackEvent>;

impl StackEvent {
    /// The event for machines: `{"event": "...", ...}`.
    pub fn to_json(&self) -> Value {
        match self {
            StackEvent::Answered { device, response } => {
                json!({ "event": "answered", "device": device, "response": response })
            }
            StackEvent::Stored { bucket, key, size } => {
                json!({ "event": "stored", "bucket": bucket, "key": key, "size": size })
            }
            StackEvent::Finished(o) => json!({
                "event": "stage_finished",
                "stage": o.stage.as_deref().unwrap_or("-"),
                "bucket": o.bucket,
                "key": o.key,
                "status": o.status.label(),
                "duration_ms": o.duration.as_secs_f64() * 1e3,
                "result": o.result_key,
                "error": o.message,
                "summary": o.summary,
            }),
            StackEvent::Retrying {
                stage,
                key,
                attempt,
                delay,
                error,
            } => json!({
                "event": "retrying", "stage": stage, "key": key, "attempt": attempt,
                "delay_ms": delay.as_millis() as u64, "error": error,
            }),
            StackEvent::DeadLettered {
                stage,
                key,
                attempts,
                error,
            } => json!({
                "event": "dead_lettered", "stage": stage, "key": key, "attempts": attempts, "error": error,
            }),
        }
    }

    /// The event for people: one line (a second, indented, for a stage's summary or error).
    /// Keys under `incoming_prefix` are shortened to `{device}/…/{file}` plus the request id.
    pub fn line(&self, incoming_prefix: &str) -> String {
        let short = |key: &str| match UploadKey::parse(incoming_prefix, key) {
            Some(k) => format!("{}/{} (request {})", k.device, k.file_name, k.request_id),
            None => key.to_owned(),
        };
        match self {
            StackEvent::Answered { device, response } => match response {
                UploadResponse::Accepted {
                    key, upload, stages, ..
                } => {
                    let how = match upload {
                        haul_contract::UploadPlan::Single { .. } => "one PUT".to_owned(),
                        haul_contract::UploadPlan::Multipart { parts, .. } => format!("{} part URLs", parts.len()),
                    };
                    let routed = if stages.is_empty() {
                        "no stage".to_owned()
                    } else {
                        stages.join(", ")
                    };
                    format!("upload accepted  {}  {how}, for {routed}", short(key))
                }
                UploadResponse::Rejected {
                    request_id,
                    reason,
                    message,
                } => {
                    format!("upload refused   {device} request {request_id}: {reason:?}: {message}")
                }
                UploadResponse::Completed { key, .. } => format!("upload completed {}", short(key)),
            },
            StackEvent::Stored { key, size, .. } => {
                let size = size.map(haul_pipeline::summary::bytes).unwrap_or_default();
                format!("object stored    {}  {size}", short(key))
            }
            StackEvent::Finished(o) => {
                let stage = o.stage.as_deref().unwrap_or("-");
                let ms = haul_pipeline::summary::number(o.duration.as_secs_f64() * 1e3);
                let first = format!("{stage} {}  {}  {ms} ms", o.status.label(), short(&o.key));
                match o.message.as_deref().or(o.summary.as_deref()) {
                    Some(detail) => format!("{first}\n      {detail}"),
                    None => first,
                }
            }
            StackEvent::Retrying {
                stage,
                key,
                attempt,
                delay,
                error,
            } => format!(
                "{stage} retry    {}  attempt {attempt} failed, again in {} s: {error}",
                short(key),
                haul_pipeline::summary::number(delay.as_secs_f64())
            ),
            StackEvent::DeadLettered {
                stage,
                key,
                attempts,
                error,
            } => format!(
                "{stage} DEAD LETTER  {}  after {attempts} deliveries: {error} (replay: haul replay --store DATA DATA/.haul/dlq/)",
                short(key)
            ),
        }
    }
}

/// Sends `event` if anyone listens.
pub(crate) fn emit(sender: Option<&EventSender>, event: StackEvent) {
    if let Some(tx) = sender {
        let _ = tx.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_pipeline::Status;

    #[test]
    fn a_finished_stage_is_one_line_and_its_summary_below() {
        let o = RecordOutcome {
            stage: Some("heart-sound".into()),
            bucket: "b".into(),
            key: "incoming/dev-1/2026/12/01/r-1/heart.wav".into(),
            status: Status::Succeeded,
            duration: Duration::from_micros(12_345),
            result_key: None,
            message: None,
            summary: Some("72 bpm, 14 beats".into()),
            size: None,
            event_time: None,
        };
        let line = StackEvent::Finished(o).line("incoming/");
        assert_eq!(
            line,
            "heart-sound ok  dev-1/heart.wav (request r-1)  12.3 ms\n      72 bpm, 14 beats"
        );
    }

    #[test]
    fn events_for_machines_name_their_kind() {
        let e = StackEvent::DeadLettered {
            stage: "plate".into(),
            key: "k".into(),
            attempts: 3,
            error: "boom".into(),
        };
        assert_eq!(e.to_json()["event"], "dead_lettered");
        assert!(e.line("incoming/").contains("DEAD LETTER  k  after 3 deliveries: boom"));
    }
}
