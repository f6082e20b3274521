//! The local topic and queues: S3 notifications fan out to one queue per routed stage (one
//! message per object, as S3 sends them); each queue runs its stage with the stage's
//! concurrency, decides what to do with each message as SQS runtimes do
//! ([`deliver`]), retries after a [`Backoff`], and after `max_receive_count` deliveries
//! moves the message and its last error to the [`Dlq`].
//!
//! Queues live in memory. A restart loses nothing: [`LocalBus::recover`] queues again every
//! object under the incoming prefix that has no result and no dead letter (the bucket
//! folder is the source of truth; deduplication makes a second run of a done object a
//! no-op).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};

use haul_pipeline::Pipeline;
use haul_pipeline::delivery::{Backoff, deliver};
use haul_pipeline::event::{EnvelopeError, ObjectEvent, notification_json, parse_str};
use haul_pipeline::result::result_key;
use haul_pipeline::store::StoreError;

use crate::attempts::Attempts;
use crate::dlq::Dlq;

/// Queue settings.
#[derive(Debug, Clone)]
pub struct BusOptions {
    /// Delay before the second delivery (doubled for each further one) and the longest.
    pub backoff: Backoff,
}

impl Default for BusOptions {
    fn default() -> Self {
        Self {
            backoff: Backoff {
                base: Duration::from_secs(1),
                max: Duration::from_secs(60),
            },
        }
    }
}

/// A queued message: the notification of one object, and which delivery it is.
struct Delivery {
    event: ObjectEvent,
    body: String,
    attempt: u32,
}

use crate::events::{EventSender, StackEvent, emit};

struct Shared {
    pipeline: Arc<Pipeline>,
    dlq: Dlq,
    attempts: Attempts,
    options: BusOptions,
    in_flight: AtomicUsize,
    idle: Notify,
    events: Option<EventSender>,
}

/// The running topic and queues.
pub struct LocalBus {
    shared: Arc<Shared>,
    queues: BTreeMap<String, mpsc::UnboundedSender<Delivery>>,
}

impl LocalBus {
    /// Starts one queue worker per built stage; `attempts` keeps delivery counts across
    /// restarts; each finished run, retry and dead letter also goes to `events`.
    pub fn start(
        pipeline: Arc<Pipeline>,
        dlq: Dlq,
        attempts: Attempts,
        options: BusOptions,
        events: Option<EventSender>,
    ) -> Self {
        let shared = Arc::new(Shared {
            pipeline: pipeline.clone(),
            dlq,
            attempts,
            options,
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            events,
        });
        let mut queues = BTreeMap::new();
        for stage in pipeline.stage_names() {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run_queue(shared.clone(), stage.to_owned(), tx.clone(), rx));
            queues.insert(stage.to_owned(), tx);
        }
        Self { shared, queues }
    }

    /// Publishes an S3 notification: each object goes to the queue of every stage whose
    /// route matches its key and size. Returns the number of deliveries queued.
    pub fn publish(&self, notification: &str) -> Result<usize, EnvelopeError> {
        let parsed = parse_str(notification)?;
        let mut queued = 0;
        for event in parsed.events {
            // A new upload starts its count afresh.
            for route in self.shared.pipeline.router().candidates(&event.key, event.size) {
                self.shared.attempts.clear(&route.stage, &event.bucket, &event.key);
            }
            queued += self.enqueue(&event, |_| true);
        }
        Ok(queued)
    }

    /// Delivers `notification` again to `stage` alone (a dead letter replayed from the
    /// console); its delivery count starts afresh. Returns the deliveries queued.
    pub fn redeliver(&self, stage: &str, notification: &str) -> Result<usize, EnvelopeError> {
        let parsed = parse_str(notification)?;
        let mut queued = 0;
        for event in parsed.events {
            self.shared.attempts.clear(stage, &event.bucket, &event.key);
            queued += self.enqueue(&event, |s| s == stage);
        }
        Ok(queued)
    }

    fn enqueue(&self, event: &ObjectEvent, keep: impl Fn(&str) -> bool) -> usize {
        let router = self.shared.pipeline.router();
        let mut queued = 0;
        for route in router.candidates(&event.key, event.size) {
            let Some(queue) = self.queues.get(&route.stage) else {
                continue;
            };
            if !keep(&route.stage) {
                continue;
            }
            self.shared.in_flight.fetch_add(1, Ordering::SeqCst);
            let region = &self.shared.pipeline.config().storage.region;
            let delivery = Delivery {
                event: event.clone(),
                body: notification_json(std::slice::from_ref(event), region),
                attempt: 1,
            };
            if queue.send(delivery).is_err() {
                self.shared.finish();
            } else {
                queued += 1;
            }
        }
        queued
    }

    /// Queues every object under `prefix` in `bucket` that has no result and no dead
    /// letter for a stage it routes to. Returns the number of deliveries queued.
    ///
    /// First it deletes every claim (see `haul_pipeline::claim`) left in the results: the
    /// local stack owns its data folder, so at start a claim can only be left over from a
    /// run that stopped mid-stage, and its object must run again now, not after the lease.
    pub async fn recover(&self, bucket: &str, prefix: &str) -> Result<usize, StoreError> {
        let pipeline = &self.shared.pipeline;
        let config = pipeline.config();
        let results_bucket = config.storage.results_bucket.as_deref().unwrap_or(bucket);
        let stale = clear_claims(
            pipeline.store().as_ref(),
            results_bucket,
            &config.storage.results_prefix,
        )
        .await?;
        if stale > 0 {
            tracing::info!(stale, "Claims of the previous run removed.");
        }
        let mut queued = 0;
        let mut next = None;
        loop {
            let page = pipeline.store().list_page(bucket, prefix, next).await?;
            for object in &page.objects {
                let event = ObjectEvent::synthesized(bucket, &object.key, Some(object.size), object.etag.clone());
                let mut pending = Vec::new();
                for route in pipeline.router().candidates(&object.key, Some(object.size)) {
                    let key = result_key(&config.storage.results_prefix, &route.stage, &object.key);
                    let done = pipeline.store().head(results_bucket, &key).await.is_ok();
                    if !done && !self.shared.dlq.contains(&route.stage, bucket, &object.key) {
                        pending.push(route.stage.clone());
                    }
                }
                queued += self.enqueue(&event, |stage| pending.iter().any(|s| s == stage));
            }
            next = page.next;
            if next.is_none() {
                return Ok(queued);
            }
        }
    }

    /// Deliveries queued, running or waiting for a retry.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until nothing is queued, running or waiting for a retry.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.shared.idle.notified();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Deletes every `*.claim` object under `prefix`; returns how many.
async fn clear_claims(
    store: &dyn haul_pipeline::store::ObjectStore,
    bucket: &str,
    prefix: &str,
) -> Result<usize, StoreError> {
    let mut cleared = 0;
    let mut next = None;
    loop {
        let page = match store.list_page(bucket, prefix, next).await {
            Ok(page) => page,
            Err(StoreError::NotFound { .. }) => return Ok(cleared),
            Err(e) => return Err(e),
        };
        for object in page.objects.iter().filter(|o| o.key.ends_with(".claim")) {
            store.delete(bucket, &object.key).await?;
            cleared += 1;
        }
        next = page.next;
        if next.is_none() {
            return Ok(cleared);
        }
    }
}

impl Shared {
    fn finish(&self) {
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }
}

async fn run_queue(
    shared: Arc<Shared>,
    stage: String,
    requeue: mpsc::UnboundedSender<Delivery>,
    mut rx: mpsc::UnboundedReceiver<Delivery>,
) {
    while let Some(delivery) = rx.recv().await {
        let (shared, stage, requeue) = (shared.clone(), stage.clone(), requeue.clone());
        // The pipeline's per-stage semaphore bounds how many run at once.
        tokio::spawn(async move { deliver_one(shared, stage, requeue, delivery).await });
    }
}

async fn deliver_one(shared: Arc<Shared>, stage: String, requeue: mpsc::UnboundedSender<Delivery>, delivery: Delivery) {
    let max = shared
        .pipeline
        .stage(&stage)
        .map_or(1, |s| s.settings.max_receive_count);
    let (bucket, key) = (delivery.event.bucket.clone(), delivery.event.key.clone());
    let attempt = match shared.attempts.start(&stage, &bucket, &key) {
        Ok(n) => n.max(delivery.attempt),
        Err(e) => {
            tracing::warn!(stage, %key, error = %e, "Delivery count not recorded.");
            delivery.attempt
        }
    };
    let delivery = Delivery { attempt, ..delivery };
    if attempt > max {
        let error = format!(
            "{} deliveries started without finishing (the process stopped during each)",
            attempt - 1
        );
        let delivery = Delivery {
            attempt: attempt - 1,
            ..delivery
        };
        dead_letter(&shared, &stage, &delivery, &error).await;
        shared.attempts.clear(&stage, &bucket, &key);
        shared.finish();
        return;
    }
    let delivered = deliver(&shared.pipeline, &delivery.body, delivery.attempt, Some(&stage)).await;
    let reason = delivered.retry_reason();
    for outcome in delivered.outcomes {
        emit(shared.events.as_ref(), StackEvent::Finished(outcome));
    }
    if delivered.disposition.is_done() {
        shared.attempts.clear(&stage, &bucket, &key);
        shared.finish();
        return;
    }
    let error = reason.unwrap_or_else(|| "retry".to_owned());
    if delivery.attempt >= max {
        dead_letter(&shared, &stage, &delivery, &error).await;
        shared.attempts.clear(&stage, &bucket, &key);
        shared.finish();
        return;
    }
    let delay = shared.options.backoff.delay(delivery.attempt);
    tracing::info!(stage, key = %delivery.event.key, attempt = delivery.attempt, delay_ms = delay.as_millis() as u64, %error, "Delivery failed, retrying.");
    emit(
        shared.events.as_ref(),
        StackEvent::Retrying {
            stage: stage.clone(),
            key: delivery.event.key.clone(),
            attempt: delivery.attempt,
            delay,
            error: error.clone(),
        },
    );
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let next = Delivery {
            attempt: delivery.attempt + 1,
            ..delivery
        };
        if requeue.send(next).is_err() {
            shared.finish();
        }
    });
}

async fn dead_letter(shared: &Shared, stage: &str, delivery: &Delivery, error: &str) {
    let region = &shared.pipeline.config().storage.region;
    let key = &delivery.event.key;
    match shared
        .dlq
        .put(stage, &delivery.event, delivery.attempt, error, region)
        .await
    {
        Ok(path) => {
            tracing::info!(stage, %key, attempts = delivery.attempt, dlq = %path.display(), %error, "Event moved to the DLQ.");
            let event = StackEvent::DeadLettered {
                stage: stage.to_owned(),
                key: key.clone(),
                attempts: delivery.attempt,
                error: error.to_owned(),
            };
            match shared.events.as_ref() {
                Some(_) => emit(shared.events.as_ref(), event),
                None => {
                    tracing::warn!(stage, %key, attempts = delivery.attempt, dlq = %path.display(), %error, "Event moved to the DLQ.")
                }
            }
        }
        Err(e) => tracing::error!(stage, %key, error = %e, "Event could not be written to the DLQ."),
    }
}
