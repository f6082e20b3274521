//! `haul worker`: long-polls an SQS queue and runs the pipeline on its messages, for
//! payloads beyond Lambda's limits (15 minutes, 10 GB of disk) on ECS, Kubernetes or VMs.
//!
//! - At most `concurrency` messages are processed at once; more are received only when a
//!   slot is free, so a slow stage never holds messages it cannot start.
//! - While a message is processed, its visibility is extended every third of
//!   `visibility` (ChangeMessageVisibility), so a large object is never delivered twice
//!   because it takes long.
//! - Success and permanent failure (after its error result is written) delete the
//!   message. A retryable failure leaves it, made visible again after a backoff that grows
//!   with the receive count; after the queue's `maxReceiveCount` SQS moves it to the DLQ.
//!   A body that is no known envelope is left alone for the DLQ too.
//! - Each run prints its metrics as one EMF line on stdout ([`haul_pipeline::metrics`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use tokio::sync::Semaphore;

use haul_pipeline::Pipeline;
use haul_pipeline::delivery::{Backoff, deliver, receive_count};

/// How the worker polls.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The queue.
    pub queue_url: String,
    /// Only this stage (the queue's stage).
    pub stage: Option<String>,
    /// Messages processed at once.
    pub concurrency: usize,
    /// Visibility granted at receive and at each heartbeat.
    pub visibility: Duration,
    /// Long-poll wait (at most 20 s).
    pub wait: Duration,
    /// First retry delay after a retryable failure; doubled per receive, capped at `visibility`.
    pub retry_backoff: Duration,
}

impl WorkerOptions {
    /// Defaults: 4 at once, 5 minutes of visibility, 20 s long polls, 10 s first backoff.
    pub fn new(queue_url: &str) -> Self {
        Self {
            queue_url: queue_url.to_owned(),
            stage: None,
            concurrency: 4,
            visibility: Duration::from_secs(300),
            wait: Duration::from_secs(20),
            retry_backoff: Duration::from_secs(10),
        }
    }
}

/// What the worker did.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Messages received.
    pub received: AtomicU64,
    /// Messages deleted (done).
    pub deleted: AtomicU64,
    /// Messages left for another delivery.
    pub retried: AtomicU64,
    /// Visibility extensions.
    pub heartbeats: AtomicU64,
    /// Stage runs by stage and outcome.
    pub runs: haul_pipeline::metrics::RunCounts,
}

impl WorkerStats {
    /// The counters in Prometheus' text format (`haul worker --metrics-addr`).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        for (name, help, counter) in [
            (
                "haul_worker_messages_received_total",
                "SQS messages received.",
                &self.received,
            ),
            (
                "haul_worker_messages_deleted_total",
                "Messages deleted (done).",
                &self.deleted,
            ),
            (
                "haul_worker_messages_retried_total",
                "Messages left for another delivery.",
                &self.retried,
            ),
            (
                "haul_worker_heartbeats_total",
                "Visibility extensions.",
                &self.heartbeats,
            ),
        ] {
            let value = counter.load(Ordering::Relaxed);
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            ));
        }
        self.runs.write_prometheus(&mut out);
        out
    }
}

/// A failure of the worker itself (not of a message).
#[derive(Debug, thiserror::Error)]
#[error("SQS {op} on {queue}: {message}")]
pub struct WorkerError {
    op: &'static str,
    queue: String,
    message: String,
}

/// Polls until `shutdown` resolves, then waits for the messages in progress.
pub async fn run(
    pipeline: Arc<Pipeline>,
    sqs: Client,
    options: WorkerOptions,
    stats: Arc<WorkerStats>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), WorkerError> {
    let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let options = Arc::new(options);
    tokio::pin!(shutdown);
    loop {
        let free = tokio::select! {
            () = &mut shutdown => break,
            permit = slots.clone().acquire_many_owned(1) => { drop(permit); slots.available_permits() }
        };
        let batch = free.clamp(1, 10) as i32;
        let received = tokio::select! {
            () = &mut shutdown => break,
            r = receive(&sqs, &options, batch) => r?,
        };
        for message in received {
            stats.received.fetch_add(1, Ordering::Relaxed);
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let (pipeline, sqs, options, stats) = (pipeline.clone(), sqs.clone(), options.clone(), stats.clone());
            tokio::spawn(async move {
                handle(&pipeline, &sqs, &options, &stats, message).await;
                drop(permit);
            });
        }
    }
    // Wait for the messages in progress.
    let _ = slots.acquire_many(options.concurrency.max(1) as u32).await;
    Ok(())
}

async fn receive(sqs: &Client, options: &WorkerOptions, max: i32) -> Result<Vec<Message>, WorkerError> {
    let out = sqs
        .receive_message()
        .queue_url(&options.queue_url)
        .max_number_of_messages(max)
        .wait_time_seconds(options.wait.as_secs().min(20) as i32)
        .visibility_timeout(options.visibility.as_secs() as i32)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .map_err(|e| WorkerError {
            op: "ReceiveMessage",
            queue: options.queue_url.clone(),
            message: crate::one_line_error(&e),
        })?;
    Ok(out.messages.unwrap_or_default())
}

async fn handle(
    pipeline: &Pipeline,
    sqs: &Client,
    options: &Arc<WorkerOptions>,
    stats: &Arc<WorkerStats>,
    message: Message,
) {
    let receipt = message.receipt_handle().unwrap_or_default().to_owned();
    let attempt = receive_count(
        message
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .map(String::as_str),
    );
    let heartbeat = tokio::spawn(heartbeat(sqs.clone(), options.clone(), receipt.clone(), stats.clone()));
    let body = message.body().unwrap_or("");
    let delivered = deliver(pipeline, body, attempt, options.stage.as_deref()).await;
    // One EMF line per run on stdout, for the CloudWatch agent (logs go to stderr).
    haul_pipeline::metrics::emit(&delivered.outcomes, attempt);
    for outcome in &delivered.outcomes {
        stats.runs.observe(outcome);
    }
    let done = delivered.disposition.is_done();
    heartbeat.abort();
    let result = if done {
        stats.deleted.fetch_add(1, Ordering::Relaxed);
        sqs.delete_message()
            .queue_url(&options.queue_url)
            .receipt_handle(&receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| crate::one_line_error(&e))
    } else {
        stats.retried.fetch_add(1, Ordering::Relaxed);
        let backoff = Backoff {
            base: options.retry_backoff,
            max: options.visibility,
        };
        let delay = backoff.delay(attempt);
        sqs.change_message_visibility()
            .queue_url(&options.queue_url)
            .receipt_handle(&receipt)
            .visibility_timeout(delay.as_secs() as i32)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| crate::one_line_error(&e))
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "Acknowledgement failed; the message will return.");
    }
}

async fn heartbeat(sqs: Client, options: Arc<WorkerOptions>, receipt: String, stats: Arc<WorkerStats>) {
    let every = (options.visibility / 3).max(Duration::from_secs(1));
    loop {
        tokio::time::sleep(every).await;
        let result = sqs
            .change_message_visibility()
            .queue_url(&options.queue_url)
            .receipt_handle(&receipt)
            .visibility_timeout(options.visibility.as_secs() as i32)
            .send()
            .await;
        match result {
            Ok(_) => {
                stats.heartbeats.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("Visibility extended.");
            }
            Err(e) => tracing::warn!(error = %crate::one_line_error(&e), "Visibility not extended."),
        }
    }
}
