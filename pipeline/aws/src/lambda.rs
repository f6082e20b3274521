//! The Lambda SQS adapter: an `SqsEvent` batch in, an `SqsBatchResponse` out, listing only
//! the messages that [`deliver`] says to retry or leave for the DLQ
//! (`ReportBatchItemFailures`). One record's failure never fails the batch. Each run
//! prints its metrics as an EMF line ([`haul_pipeline::metrics`]).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::future::join_all;
use haul_pipeline::Pipeline;
use haul_pipeline::delivery::{deliver, receive_count};

/// Processes a batch, for one stage (`Some`, as each stage's function does) or for every
/// routed stage (`None`).
pub async fn handle_sqs_event(pipeline: &Pipeline, stage: Option<&str>, event: SqsEvent) -> SqsBatchResponse {
    let results = join_all(event.records.iter().map(|m| handle_message(pipeline, stage, m))).await;
    let mut response = SqsBatchResponse::default();
    for (message, done) in event.records.iter().zip(results) {
        if !done {
            let mut failure = BatchItemFailure::default();
            // An empty identifier makes Lambda retry the whole batch: the safe side.
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Whether the message can be deleted.
async fn handle_message(pipeline: &Pipeline, stage: Option<&str>, message: &SqsMessage) -> bool {
    let id = message.message_id.as_deref().unwrap_or("");
    let attempt = receive_count(message.attributes.get("ApproximateReceiveCount").map(String::as_str));
    let span = tracing::info_span!("message", message_id = id, attempt);
    let body = message.body.as_deref().unwrap_or("");
    let delivered = tracing::Instrument::instrument(deliver(pipeline, body, attempt, stage), span).await;
    // One EMF line per run: Lambda's log pipeline makes the metrics.
    haul_pipeline::metrics::emit(&delivered.outcomes, attempt);
    delivered.disposition.is_done()
}

/// Runs the Lambda runtime loop with [`handle_sqs_event`] as the handler.
pub async fn run_sqs_handler(pipeline: Arc<Pipeline>, stage: Option<String>) -> Result<(), lambda_runtime::Error> {
    let handler = lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<SqsEvent>| {
        let pipeline = pipeline.clone();
        let stage = stage.clone();
        async move { Ok::<_, lambda_runtime::Error>(handle_sqs_event(&pipeline, stage.as_deref(), event.payload).await) }
    });
    lambda_runtime::run(handler).await
}
