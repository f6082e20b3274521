//! The pipeline: routes an object event to its stages and runs each one with
//! deduplication, concurrency limits and result writing. Every runtime (Lambda, worker,
//! `haul dev`, `haul replay`) goes through [`Pipeline::process`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::claim::{Claim, ClaimHandle, Claimer};
use crate::config::{ConfigError, HaulConfig, StageSettings};
use crate::error::ErrorKind;
use crate::event::ObjectEvent;
use crate::invoke::{Failure, invoke};
use crate::object::Object;
use crate::registry::Registry;
use crate::result::{ResultRecord, ResultWriter, SourceInfo, claim_key};
use crate::router::Router;
use crate::stage::DynStage;
use crate::store::{ObjectStore, StoreError};

/// Told about every result written (the local stack publishes it to the device over MQTT,
/// AWS to the results SNS topic). A sink failure is logged, never fails the record.
#[async_trait]
pub trait ResultSink: Send + Sync {
    /// A result was written at `result_key`.
    async fn result_written(&self, record: &ResultRecord, result_key: &str);
}

/// How to process.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run the stage even if a result for this object version exists.
    pub force: bool,
    /// Which delivery this is (1 for the first); `0` is treated as 1.
    pub attempt: u32,
    /// Only this stage (a Lambda function or worker serves one stage).
    pub only_stage: Option<String>,
}

/// How one (object, stage) pair ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The stage succeeded; its result was written.
    Succeeded,
    /// A result for this object version already existed; the stage did not run.
    Duplicate,
    /// The stage failed; permanent failures have an error result, the others will be
    /// delivered again.
    Failed(ErrorKind),
    /// No route matches the object.
    NoRoute,
}

impl Status {
    /// Whether the record must be delivered again (SQS batch item failure, local retry).
    pub fn needs_retry(&self) -> bool {
        matches!(self, Status::Failed(kind) if kind.is_retryable())
    }

    /// Whether this counts as a failure for exit codes.
    pub fn is_failure(&self) -> bool {
        matches!(self, Status::Failed(_))
    }

    /// A short label: `ok`, `duplicate`, `permanent`, `retryable`, `timeout`, `panic`, `no route`.
    pub fn label(&self) -> String {
        match self {
            Status::Succeeded => "ok".to_owned(),
            Status::Duplicate => "duplicate".to_owned(),
            Status::Failed(kind) => kind.to_string(),
            Status::NoRoute => "no route".to_owned(),
        }
    }
}

/// The outcome of processing an object with one stage.
#[derive(Debug, Clone)]
pub struct RecordOutcome {
    /// The stage (`None` when no route matched).
    pub stage: Option<String>,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// How it ended.
    pub status: Status,
    /// Time spent in the stage.
    pub duration: Duration,
    /// Where the result is (written now or earlier).
    pub result_key: Option<String>,
    /// The failure message.
    pub message: Option<String>,
    /// The stage's one line about its output (a result written now).
    pub summary: Option<String>,
    /// The object's size, when the event said.
    pub size: Option<u64>,
    /// When the object was created (the event's time): the start of end-to-end latency.
    pub event_time: Option<chrono::DateTime<chrono::Utc>>,
}

/// A built stage with its settings and concurrency limit.
pub struct StageEntry {
    /// The stage.
    pub stage: Arc<dyn DynStage>,
    /// Its settings from `haul.toml`.
    pub settings: StageSettings,
    permits: Arc<Semaphore>,
}

/// Routes events to stages and runs them.
pub struct Pipeline {
    config: Arc<HaulConfig>,
    router: Router,
    stages: BTreeMap<String, StageEntry>,
    store: Arc<dyn ObjectStore>,
    results: ResultWriter,
    claims: Claimer,
    sinks: Vec<Arc<dyn ResultSink>>,
}

impl Pipeline {
    /// Builds every stage that a route or a `[stages.NAME]` table names; an unknown stage
    /// or a bad option is an error.
    pub fn new(config: HaulConfig, registry: &Registry, store: Arc<dyn ObjectStore>) -> Result<Self, ConfigError> {
        let mut names: Vec<&str> = config.routes.iter().map(|r| r.stage.as_str()).collect();
        names.extend(config.stages.keys().map(String::as_str));
        let mut stages = BTreeMap::new();
        for name in names {
            if stages.contains_key(name) {
                continue;
            }
            let settings = config.stage_settings(name);
            let stage = registry.build(name, &settings.options)?;
            let permits = Arc::new(Semaphore::new(settings.concurrency));
            stages.insert(
                name.to_owned(),
                StageEntry {
                    stage,
                    settings,
                    permits,
                },
            );
        }
        let router = Router::new(&config);
        let config = Arc::new(config);
        let results = ResultWriter::new(store.clone(), config.clone());
        let claims = Claimer::new(store.clone());
        Ok(Self {
            config,
            router,
            stages,
            store,
            results,
            claims,
            sinks: Vec::new(),
        })
    }

    /// Adds a sink told about every result written.
    pub fn with_sink(mut self, sink: Arc<dyn ResultSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &HaulConfig {
        &self.config
    }

    /// The routing table.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The object store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// A built stage.
    pub fn stage(&self, name: &str) -> Option<&StageEntry> {
        self.stages.get(name)
    }

    /// Names of the built stages.
    pub fn stage_names(&self) -> Vec<&str> {
        self.stages.keys().map(String::as_str).collect()
    }

    /// Processes one object event with every stage it routes to (or only
    /// `opts.only_stage`), concurrently. Never fails as a whole: each stage's outcome is
    /// reported separately.
    pub async fn process(&self, event: &ObjectEvent, opts: &RunOptions) -> Vec<RecordOutcome> {
        let candidates: Vec<_> = self
            .router
            .candidates(&event.key, event.size)
            .into_iter()
            .filter(|r| opts.only_stage.as_deref().is_none_or(|s| s == r.stage))
            .collect();
        if candidates.is_empty() {
            return vec![self.outcome(event, None, Status::NoRoute, Duration::ZERO, None)];
        }
        let needs_head = event.size.is_none() || candidates.iter().any(|r| !r.content_types.is_empty());
        let (size, content_type) = if needs_head {
            match self.store.head(&event.bucket, &event.key).await {
                Ok(meta) => (meta.size, meta.content_type),
                Err(err) => return self.head_failed(event, &candidates, err),
            }
        } else {
            (event.size.unwrap_or(0), None)
        };
        let ct = content_type
            .as_deref()
            .unwrap_or_else(|| crate::content_type::from_name(&event.key));
        let stages: Vec<&str> = candidates
            .iter()
            .filter(|r| r.matches_content_type(ct))
            .map(|r| r.stage.as_str())
            .collect();
        if stages.is_empty() {
            return vec![self.outcome(event, None, Status::NoRoute, Duration::ZERO, None)];
        }
        let runs = stages
            .into_iter()
            .map(|stage| self.process_stage(stage, event, size, content_type.clone(), opts));
        futures_util::future::join_all(runs).await
    }

    fn head_failed(
        &self,
        event: &ObjectEvent,
        candidates: &[&crate::router::Route],
        err: StoreError,
    ) -> Vec<RecordOutcome> {
        let kind = if err.is_retryable() {
            ErrorKind::Retryable
        } else {
            ErrorKind::Permanent
        };
        tracing::warn!(bucket = %event.bucket, key = %event.key, error = %err, "Object metadata unavailable.");
        candidates
            .iter()
            .map(|r| {
                let mut o = self.outcome(event, Some(&r.stage), Status::Failed(kind), Duration::ZERO, None);
                o.message = Some(err.to_string());
                o
            })
            .collect()
    }

    /// Processes an object with one named stage.
    pub async fn process_stage(
        &self,
        stage_name: &str,
        event: &ObjectEvent,
        size: u64,
        content_type: Option<String>,
        opts: &RunOptions,
    ) -> RecordOutcome {
        let span = tracing::info_span!("record", stage = stage_name, bucket = %event.bucket, key = %event.key);
        self.process_stage_inner(stage_name, event, size, content_type, opts)
            .instrument(span)
            .await
    }

    async fn process_stage_inner(
        &self,
        stage_name: &str,
        event: &ObjectEvent,
        size: u64,
        content_type: Option<String>,
        opts: &RunOptions,
    ) -> RecordOutcome {
        let Some(entry) = self.stages.get(stage_name) else {
            let mut o = self.outcome(
                event,
                Some(stage_name),
                Status::Failed(ErrorKind::Permanent),
                Duration::ZERO,
                None,
            );
            o.message = Some(format!("stage {stage_name:?} is not built in this runtime"));
            return o;
        };
        let result_key = self.results.key(stage_name, &event.key);
        let claim = match self.claim(stage_name, event).await {
            Ok(Some(claim)) => claim,
            Ok(None) => {
                let mut o = self.outcome(event, Some(stage_name), Status::Duplicate, Duration::ZERO, None);
                o.message = Some("being processed by another delivery".into());
                return o;
            }
            Err(err) => return self.store_failed(event, stage_name, &err, Duration::ZERO),
        };
        let outcome = self
            .run_claimed(entry, stage_name, event, size, content_type, opts, result_key)
            .await;
        if let Some(claim) = claim {
            claim.release().await;
        }
        outcome
    }

    /// Claims (stage, object version) for this delivery: `Ok(Some(Some(handle)))` held,
    /// `Ok(None)` another delivery holds it, `Ok(Some(None))` the store has no conditional
    /// writes (a custom store): processing goes ahead unclaimed.
    async fn claim(&self, stage: &str, event: &ObjectEvent) -> Result<Option<Option<ClaimHandle>>, StoreError> {
        let key = claim_key(&self.config.storage.results_prefix, stage, &event.key);
        match self
            .claims
            .acquire(self.results.bucket(&event.bucket), &key, &event.version())
            .await
        {
            Ok(Claim::Held(handle)) => Ok(Some(Some(handle))),
            Ok(Claim::Busy { owner }) => {
                tracing::info!(%owner, "Object skipped, being processed by another delivery.");
                Ok(None)
            }
            Err(StoreError::Unsupported { store, .. }) => {
                tracing::warn!(%store, "The store has no conditional writes: no claim, duplicates may run twice.");
                Ok(Some(None))
            }
            Err(e) => Err(e),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_claimed(
        &self,
        entry: &StageEntry,
        stage_name: &str,
        event: &ObjectEvent,
        size: u64,
        content_type: Option<String>,
        opts: &RunOptions,
        result_key: String,
    ) -> RecordOutcome {
        if !opts.force {
            match self.results.existing(event, stage_name).await {
                Ok(Some(_)) => {
                    tracing::info!("Object skipped, already processed.");
                    return self.outcome(
                        event,
                        Some(stage_name),
                        Status::Duplicate,
                        Duration::ZERO,
                        Some(result_key),
                    );
                }
                Ok(None) => {}
                Err(err) => return self.store_failed(event, stage_name, &err, Duration::ZERO),
            }
        }
        let Ok(_permit) = entry.permits.acquire().await else {
            return self.failed(
                event,
                stage_name,
                ErrorKind::Retryable,
                "shutting down".into(),
                Duration::ZERO,
            );
        };
        let object = Object::from_store(event, size, content_type, self.store.clone());
        let source = SourceInfo::from_event(event, size);
        let attempt = opts.attempt.max(1);
        let invocation = invoke(entry.stage.as_ref(), object, attempt, entry.settings.timeout).await;
        let elapsed = invocation.elapsed;
        let record = match invocation.result {
            Ok(output) => {
                self.results
                    .success(entry.stage.as_ref(), source, output, attempt, elapsed)
                    .await
            }
            Err(Failure {
                kind: ErrorKind::Permanent,
                message,
            }) => {
                self.results
                    .failure(entry.stage.as_ref(), source, message, attempt, elapsed)
                    .await
            }
            Err(Failure { kind, message }) => {
                tracing::warn!(error_kind = %kind, error = %message, attempt, "Stage failed, will be retried.");
                return self.failed(event, stage_name, kind, message, elapsed);
            }
        };
        match record {
            Ok(record) => {
                for sink in &self.sinks {
                    sink.result_written(&record, &result_key).await;
                }
                let status = match &record.error {
                    None => Status::Succeeded,
                    Some(_) => Status::Failed(ErrorKind::Permanent),
                };
                let mut o = self.outcome(event, Some(stage_name), status, elapsed, Some(result_key));
                o.message = record.error.map(|e| e.message);
                o.summary = record.summary;
                o
            }
            Err(err) => {
                let mut o = self.store_failed(event, stage_name, &err, elapsed);
                o.message = Some(format!("writing the result: {err}"));
                o
            }
        }
    }

    /// A store failure around the stage: retryable unless the store says trying again
    /// cannot help (a key the store refuses, such as one with `..` or NUL).
    fn store_failed(&self, event: &ObjectEvent, stage: &str, err: &StoreError, d: Duration) -> RecordOutcome {
        let kind = match err.is_retryable() {
            true => ErrorKind::Retryable,
            false => ErrorKind::Permanent,
        };
        self.failed(event, stage, kind, err.to_string(), d)
    }

    fn failed(&self, event: &ObjectEvent, stage: &str, kind: ErrorKind, message: String, d: Duration) -> RecordOutcome {
        let mut o = self.outcome(event, Some(stage), Status::Failed(kind), d, None);
        o.message = Some(message);
        o
    }

    fn outcome(
        &self,
        event: &ObjectEvent,
        stage: Option<&str>,
        status: Status,
        duration: Duration,
        result_key: Option<String>,
    ) -> RecordOutcome {
        RecordOutcome {
            stage: stage.map(str::to_owned),
            bucket: event.bucket.clone(),
            key: event.key.clone(),
            status,
            duration,
            result_key,
            message: None,
            summary: None,
            size: event.size,
            event_time: event.event_time,
        }
    }
}
