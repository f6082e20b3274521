//! The Lambda SQS adapter: an `SqsEvent` batch in, an `SqsBatchResponse` out, listing only
//! the messages with a record that failed retryably (`ReportBatchItemFailures`).
//!
//! - A permanent failure has an error result written and is *not* listed: the message is
//!   deleted, retrying would fail the same way.
//! - A retryable failure, timeout or panic lists the message: SQS delivers it again, and
//!   after `maxReceiveCount` moves it to the DLQ.
//! - A body that is no known envelope is listed too: nothing can be written for it, and
//!   the DLQ keeps it for a human rather than dropping it.
//! - One record's failure never fails the batch.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;

use crate::event::parse_str;
use crate::pipeline::{Pipeline, RunOptions};

/// Processes a batch, for one stage (`Some`, as each stage's function does) or for every
/// routed stage (`None`).
pub async fn handle_sqs_event(pipeline: &Pipeline, stage: Option<&str>, event: SqsEvent) -> SqsBatchResponse {
    let results = join_all(event.records.iter().map(|m| handle_message(pipeline, stage, m))).await;
    let mut response = SqsBatchResponse::default();
    for (message, ok) in event.records.iter().zip(results) {
        if !ok {
            let mut failure = BatchItemFailure::default();
            // An empty identifier makes Lambda retry the whole batch: the safe side.
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Returns whether the message can be deleted.
async fn handle_message(pipeline: &Pipeline, stage: Option<&str>, message: &SqsMessage) -> bool {
    let id = message.message_id.as_deref().unwrap_or("");
    let attempt = message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let parsed = match parse_str(message.body.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(err) => {
            tracing::error!(message_id = id, error = %err, "Message is not an S3 event, left for the DLQ.");
            return false;
        }
    };
    for skipped in &parsed.skipped {
        tracing::info!(message_id = id, reason = ?skipped.reason, detail = %skipped.detail, "Entry acknowledged.");
    }
    let opts = RunOptions {
        force: false,
        attempt,
        only_stage: stage.map(str::to_owned),
    };
    let mut ok = true;
    for event in &parsed.events {
        for outcome in pipeline.process(event, &opts).await {
            if outcome.status.needs_retry() {
                ok = false;
            }
        }
    }
    ok
}

/// Runs the Lambda runtime loop with [`handle_sqs_event`] as the handler.
pub async fn run_sqs_handler(
    pipeline: std::sync::Arc<Pipeline>,
    stage: Option<String>,
) -> Result<(), lambda_runtime::Error> {
    let handler = lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<SqsEvent>| {
        let pipeline = pipeline.clone();
        let stage = stage.clone();
        async move { Ok::<_, lambda_runtime::Error>(handle_sqs_event(&pipeline, stage.as_deref(), event.payload).await) }
    });
    lambda_runtime::run(handler).await
}
