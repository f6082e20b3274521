//! What to do with a queue message once the pipeline has run on it: one decision shared by
//! every queue runtime (the Lambda SQS adapter, `haul worker`, the local queues of
//! `haul dev`), so that they cannot drift apart.
//!
//! - Every record succeeded, was a duplicate, had no route, or failed permanently (its error
//!   result is written): [`Disposition::Done`], delete the message.
//! - A record failed retryably (also a timeout or a panic): [`Disposition::Retry`], leave
//!   the message; it comes back after a [`Backoff`] and, after `maxReceiveCount`
//!   deliveries, lands in the dead-letter queue.
//! - The body is no known envelope: [`Disposition::Unreadable`], also left for the DLQ,
//!   where a human can look at it (nothing can be written for it).

use std::time::Duration;

use crate::event::{EnvelopeError, Skipped, parse_str};
use crate::pipeline::{Pipeline, RecordOutcome, RunOptions};

/// What the queue runtime should do with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Delete it: nothing more can be gained by another delivery.
    Done,
    /// Leave it to be delivered again: a record failed retryably.
    Retry,
    /// Leave it for the dead-letter queue: the body is no S3 event.
    Unreadable,
}

impl Disposition {
    /// Whether the message can be deleted.
    pub fn is_done(&self) -> bool {
        matches!(self, Disposition::Done)
    }
}

/// One message's processing: the decision, the records' outcomes, the entries acknowledged
/// without an object (test events, removals) and, for an unreadable body, why.
#[derive(Debug)]
pub struct Delivered {
    /// What to do with the message.
    pub disposition: Disposition,
    /// One per (object, stage).
    pub outcomes: Vec<RecordOutcome>,
    /// Entries that carried no object.
    pub skipped: Vec<Skipped>,
    /// Why the body could not be read, for [`Disposition::Unreadable`].
    pub error: Option<EnvelopeError>,
}

impl Delivered {
    /// The first retryable failure's message (for logs and dead letters).
    pub fn retry_reason(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(e.to_string());
        }
        self.outcomes
            .iter()
            .find(|o| o.status.needs_retry())
            .map(|o| o.message.clone().unwrap_or_else(|| o.status.label()))
    }
}

/// Runs the pipeline on a message body (any envelope), as delivery number `receive_count`,
/// for one stage (a Lambda function or a worker serves one) or every routed stage.
pub async fn deliver(pipeline: &Pipeline, body: &str, receive_count: u32, stage: Option<&str>) -> Delivered {
    let parsed = match parse_str(body) {
        Ok(p) => p,
        Err(error) => {
            tracing::error!(error = %error, "Message is not an S3 event, left for the DLQ.");
            return Delivered {
                disposition: Disposition::Unreadable,
                outcomes: Vec::new(),
                skipped: Vec::new(),
                error: Some(error),
            };
        }
    };
    for skipped in &parsed.skipped {
        tracing::info!(reason = ?skipped.reason, detail = %skipped.detail, "Entry acknowledged.");
    }
    let opts = RunOptions {
        force: false,
        attempt: receive_count.max(1),
        only_stage: stage.map(str::to_owned),
    };
    let mut outcomes = Vec::new();
    for event in &parsed.events {
        outcomes.extend(pipeline.process(event, &opts).await);
    }
    let disposition = if outcomes.iter().any(|o| o.status.needs_retry()) {
        Disposition::Retry
    } else {
        Disposition::Done
    };
    Delivered {
        disposition,
        outcomes,
        skipped: parsed.skipped,
        error: None,
    }
}

/// The delivery number from SQS's `ApproximateReceiveCount` attribute (1 when absent or
/// unreadable).
pub fn receive_count(attribute: Option<&str>) -> u32 {
    attribute.and_then(|n| n.trim().parse().ok()).unwrap_or(1).max(1)
}

/// How long a message waits before its next delivery: `base` after the first, doubled for
/// each further one, never more than `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first delivery failed.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay after delivery number `attempt` (from 1) failed.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.base.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        let delays: Vec<u64> = (1..=8).map(|a| b.delay(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.delay(0), Duration::from_secs(1));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn receive_counts_default_to_the_first_delivery() {
        assert_eq!(receive_count(Some("3")), 3);
        assert_eq!(receive_count(Some("x")), 1);
        assert_eq!(receive_count(Some("0")), 1);
        assert_eq!(receive_count(None), 1);
    }
}
