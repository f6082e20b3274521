//! One file's upload: hash, request over MQTT, follow the plan (single or multipart),
//! refresh expired plans, retry with backoff, resume from the state file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::contract::{RejectReason, Resume, TopicKind, UploadRequest, UploadResponse};
use crate::error::UploadError;
use crate::hash::{FileInfo, HashError};
use crate::http::HttpClient;
use crate::mqtt::{MqttError, MqttSession};
use crate::options::UploadOptions;
use crate::progress::Progress;
use crate::state::{StateStore, UploadState};

/// How the bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadKind {
    /// One presigned `PUT`.
    Single,
    /// S3 multipart, completed by the cloud.
    Multipart,
}

/// A finished upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadOutcome {
    /// The file as given.
    pub path: PathBuf,
    /// The name sent to the cloud.
    pub file_name: String,
    /// The request id (correlates results).
    pub request_id: String,
    /// The object key the cloud chose.
    pub key: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 (hex).
    pub sha256: String,
    /// Single or multipart.
    pub kind: UploadKind,
    /// The object's ETag, when the endpoint returned one.
    pub etag: Option<String>,
    /// Multipart parts sent by this call.
    pub parts_sent: u32,
    /// Multipart parts already stored before this call (not sent again).
    pub parts_skipped: u32,
    /// Whether an earlier, interrupted upload was continued.
    pub resumed: bool,
    /// Whether a completed state file showed the file was already uploaded.
    pub already_uploaded: bool,
    /// Wall time of this call, in milliseconds.
    pub elapsed_ms: u64,
    /// Of which hashing the file took, in milliseconds.
    pub hash_ms: u64,
    /// The stages the cloud routed the file to (each sends one result); empty when the
    /// cloud did not say or the file was not sent again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
}

/// What a plan step asks the driving loop to do next.
pub(crate) enum Step {
    /// Finished.
    Done(UploadOutcome),
    /// Ask the cloud again (expired URLs, more parts to fetch).
    Refresh,
    /// Count a failure, back off, ask again.
    Retry(String),
}

/// The state of one upload call.
pub(crate) struct Job<'a> {
    pub(crate) session: &'a MqttSession,
    pub(crate) http: &'a HttpClient,
    pub(crate) opts: &'a UploadOptions,
    pub(crate) file: FileInfo,
    pub(crate) store: StateStore,
    pub(crate) state: UploadState,
    pub(crate) started: Instant,
    pub(crate) hash_ms: u64,
    pub(crate) resumed: bool,
    pub(crate) parts_sent: u32,
    pub(crate) parts_skipped: u32,
    failures: u32,
    refreshes: u32,
    stages: Vec<String>,
}

/// Uploads `path` (see the crate docs for the protocol).
pub(crate) async fn run(
    session: &MqttSession,
    http: &HttpClient,
    path: &Path,
    opts: &UploadOptions,
) -> Result<UploadOutcome, UploadError> {
    let started = Instant::now();
    let absolute = std::path::absolute(path).map_err(|source| HashError::Io {
        path: path.to_owned(),
        source,
    })?;
    let (size, _) = crate::hash::stat(path)?;
    let hashing = Progress::start(opts.progress, "hashing", size, 0);
    let file = crate::hash::inspect(path, opts.part_size, hashing.counter()).await?;
    hashing.finish();
    let hash_ms = millis(started.elapsed());
    let store = StateStore::new(&opts.state_dir);
    let saved = store.load(&absolute)?.filter(|s| s.matches(&file));
    let resumed = saved.as_ref().is_some_and(|s| s.upload_id.is_some());
    let state = match saved {
        Some(state) => state,
        None => UploadState::new(
            &file,
            absolute,
            opts.request_id.clone().unwrap_or_else(|| new_request_id(&file.sha256)),
        ),
    };
    store.save(&state)?;
    let mut job = Job {
        session,
        http,
        opts,
        file,
        store,
        state,
        started,
        hash_ms,
        resumed,
        parts_sent: 0,
        parts_skipped: 0,
        failures: 0,
        refreshes: 0,
        stages: Vec::new(),
    };
    if job.state.completed {
        tracing::info!(file = %path.display(), key = ?job.state.key, "Already uploaded, not sent again.");
        return Ok(job.outcome(UploadKind::Single, job.state.etag.clone(), true));
    }
    tracing::info!(file = %path.display(), size, request_id = %job.state.request_id, resumed, "Upload starting.");
    let outcome = job.drive().await;
    session.done(&job.state.request_id).await;
    outcome
}

impl Job<'_> {
    async fn drive(&mut self) -> Result<UploadOutcome, UploadError> {
        loop {
            let step = match self.request().await {
                Err(e) => Step::Retry(e.to_string()),
                Ok(UploadResponse::Accepted {
                    key,
                    expires_at,
                    upload,
                    stages,
                    ..
                }) => {
                    self.stages = stages;
                    let expires = parse_expiry(&expires_at);
                    self.check_trusted(&upload)?;
                    match upload {
                        crate::contract::UploadPlan::Single { url, method, headers } => {
                            self.single(key, expires, &url, &method, headers).await?
                        }
                        plan @ crate::contract::UploadPlan::Multipart { .. } => {
                            self.multipart(key, expires, plan).await?
                        }
                    }
                }
                Ok(UploadResponse::Completed { key, etag, .. }) => {
                    self.state.key = Some(key);
                    Step::Done(self.finish(UploadKind::Multipart, Some(etag))?)
                }
                Ok(UploadResponse::Rejected { reason, message, .. }) => self.rejected(reason, message)?,
            };
            match step {
                Step::Done(outcome) => return Ok(outcome),
                Step::Refresh => {
                    self.refreshes += 1;
                    if self.refreshes > self.opts.max_refreshes {
                        return Err(self.gave_up(format!("asked for a fresh plan {} times", self.refreshes - 1)));
                    }
                }
                Step::Retry(why) => self.backoff(why).await?,
            }
        }
    }

    /// Publishes the request (with `resume` when a multipart upload is known) and waits
    /// for its response.
    async fn request(&mut self) -> Result<UploadResponse, MqttError> {
        let resume = match (&self.state.key, &self.state.upload_id) {
            (Some(key), Some(upload_id)) => Some(Resume {
                key: key.clone(),
                upload_id: upload_id.clone(),
            }),
            _ => None,
        };
        let request = UploadRequest {
            request_id: self.state.request_id.clone(),
            file_name: self.file.file_name.clone(),
            size: self.file.size,
            sha256: self.file.sha256.clone(),
            content_type: self.opts.content_type.clone(),
            resume,
            parts: self.file.parts.clone(),
        };
        let mut waiter = self.session.responses(&request.request_id);
        self.session
            .publish(TopicKind::Request, &request, self.opts.response_timeout)
            .await?;
        loop {
            let response = waiter.next(self.opts.response_timeout, "upload response").await?;
            if !matches!(response, UploadResponse::Completed { .. }) || request.resume.is_some() {
                return Ok(response);
            }
        }
    }

    /// Refuses a plan naming any URL off the trusted S3 endpoint, before a byte is sent.
    fn check_trusted(&self, plan: &crate::contract::UploadPlan) -> Result<(), UploadError> {
        let urls: Vec<&str> = match plan {
            crate::contract::UploadPlan::Single { url, .. } => vec![url],
            crate::contract::UploadPlan::Multipart { parts, .. } => parts.iter().map(|p| p.url.as_str()).collect(),
        };
        for url in urls {
            self.opts.s3.check(url).map_err(|source| UploadError::Untrusted {
                file: self.file.path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    fn rejected(&mut self, reason: RejectReason, message: String) -> Result<Step, UploadError> {
        if reason == RejectReason::InvalidResume && self.state.upload_id.is_some() {
            tracing::warn!(request_id = %self.state.request_id, %message, "Cloud cannot resume the upload, starting over.");
            self.restart()?;
            return Ok(Step::Refresh);
        }
        if reason.is_transient() {
            return Ok(Step::Retry(format!("rejected ({reason:?}): {message}")));
        }
        self.store.remove(&self.state.path)?;
        let request_id = self.state.request_id.clone();
        Err(UploadError::Rejected {
            file: self.file.path.clone(),
            request_id,
            reason,
            message,
        })
    }

    /// Forgets the multipart upload and takes a new request id.
    pub(crate) fn restart(&mut self) -> Result<(), UploadError> {
        self.state.forget_upload();
        self.state.request_id = new_request_id(&self.file.sha256);
        self.resumed = false;
        self.store.save(&self.state)?;
        Ok(())
    }

    /// Counts a failure; sleeps the backoff delay, or gives up.
    pub(crate) async fn backoff(&mut self, why: String) -> Result<(), UploadError> {
        self.failures += 1;
        if !self.opts.retry.allows(self.failures) {
            return Err(self.gave_up(why));
        }
        let delay = self.opts.retry.delay(self.failures - 1);
        tracing::warn!(file = %self.file.path.display(), error = %why, retry_in = ?delay, "Upload attempt failed, retrying.");
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// Progress was made: failures so far no longer count towards giving up.
    pub(crate) fn progressed(&mut self) {
        self.failures = 0;
    }

    fn gave_up(&self, last: String) -> UploadError {
        UploadError::GaveUp {
            file: self.file.path.clone(),
            attempts: self.failures.max(1),
            last,
        }
    }

    /// Records success: deletes the state file, or marks it completed when asked to keep it.
    pub(crate) fn finish(&mut self, kind: UploadKind, etag: Option<String>) -> Result<UploadOutcome, UploadError> {
        if self.opts.keep_completed_state {
            self.state.completed = true;
            self.state.etag = etag.clone();
            self.store.save(&self.state)?;
        } else {
            self.store.remove(&self.state.path)?;
        }
        let outcome = self.outcome(kind, etag, false);
        tracing::info!(file = %self.file.path.display(), key = %outcome.key, elapsed_ms = outcome.elapsed_ms, "Upload finished.");
        Ok(outcome)
    }

    fn outcome(&self, kind: UploadKind, etag: Option<String>, already_uploaded: bool) -> UploadOutcome {
        UploadOutcome {
            path: self.file.path.clone(),
            file_name: self.file.file_name.clone(),
            request_id: self.state.request_id.clone(),
            key: self.state.key.clone().unwrap_or_default(),
            size: self.file.size,
            sha256: self.file.sha256.clone(),
            kind: if self.state.upload_id.is_some() {
                UploadKind::Multipart
            } else {
                kind
            },
            etag,
            parts_sent: self.parts_sent,
            parts_skipped: self.parts_skipped,
            resumed: self.resumed,
            already_uploaded,
            elapsed_ms: millis(self.started.elapsed()),
            hash_ms: self.hash_ms,
            stages: self.stages.clone(),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `expires_at` as a time; `None` when unreadable (then only the endpoint's 403 tells).
fn parse_expiry(expires_at: &str) -> Option<SystemTime> {
    let parsed = chrono::DateTime::parse_from_rfc3339(expires_at).ok()?;
    Some(SystemTime::from(parsed))
}

/// Whether a plan expiring at `expires` is too close to expiry to start a transfer.
pub(crate) fn is_expired(expires: Option<SystemTime>) -> bool {
    const MARGIN: Duration = Duration::from_secs(5);
    expires.is_some_and(|t| SystemTime::now() + MARGIN >= t)
}

/// A fresh request id: 1-64 of `A-Z a-z 0-9 _ -`, unique per device in practice.
pub(crate) fn new_request_id(sha256: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let prefix: String = sha256.chars().take(12).collect();
    format!(
        "{:x}{:05x}-{prefix}-{:x}{n:x}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::valid_request_id;

    #[test]
    fn generated_request_ids_are_valid_and_distinct() {
        let a = new_request_id(&"a".repeat(64));
        let b = new_request_id(&"a".repeat(64));
        assert!(valid_request_id(&a), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn expiry_is_read_from_rfc3339_with_a_margin() {
        assert!(is_expired(parse_expiry("2020-01-01T00:00:00Z")));
        assert!(!is_expired(parse_expiry("2999-01-01T00:00:00+01:00")));
        assert!(
            !is_expired(parse_expiry("not a date")),
            "unknown expiry never blocks an attempt"
        );
    }
}
