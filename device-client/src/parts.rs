//! Multipart parts in parallel (bounded), each streamed from its file offset and retried
//! on its own; every finished part is reported at once so it can be persisted.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

use tokio::task::JoinSet;

use crate::backoff::Backoff;
use crate::contract::PartPlan;
use crate::http::{Failure, HttpClient, HttpError, PutRange};
use crate::upload::is_expired;

/// How to run the parts.
#[derive(Clone)]
pub(crate) struct PartsRun {
    pub(crate) http: HttpClient,
    pub(crate) path: PathBuf,
    pub(crate) parallel: usize,
    pub(crate) retry: Backoff,
    pub(crate) stall_timeout: Duration,
    pub(crate) expires: Option<SystemTime>,
    pub(crate) progress: Arc<AtomicU64>,
}

/// How a round of parts ended.
#[derive(Debug)]
pub(crate) enum PartsOutcome {
    /// Every part was sent.
    Done,
    /// The URLs expired before every part was sent.
    Expired,
    /// A part failed after its retries (or permanently).
    Failed(HttpError),
}

enum PartFail {
    Expired,
    Failed(HttpError),
}

/// Sends `todo` with at most `run.parallel` parts in flight, calling `on_done(number,
/// etag)` as each succeeds. After the first failure no new part starts; parts in flight
/// are let finish (and reported) so no finished byte is lost.
pub(crate) async fn upload_parts<E>(
    run: &PartsRun,
    todo: Vec<PartPlan>,
    mut on_done: impl FnMut(u32, String) -> Result<(), E>,
) -> Result<PartsOutcome, E> {
    let mut queue = todo.into_iter();
    let mut set = JoinSet::new();
    let mut outcome = PartsOutcome::Done;
    loop {
        while matches!(outcome, PartsOutcome::Done) && set.len() < run.parallel.max(1) {
            let Some(part) = queue.next() else { break };
            set.spawn(put_part(run.clone(), part));
        }
        let Some(joined) = set.join_next().await else { break };
        match joined {
            Ok(Ok((number, etag))) => on_done(number, etag)?,
            Ok(Err(PartFail::Expired)) => {
                if matches!(outcome, PartsOutcome::Done) {
                    outcome = PartsOutcome::Expired;
                }
            }
            Ok(Err(PartFail::Failed(e))) => outcome = PartsOutcome::Failed(e),
            Err(join) => {
                let message = format!("part task ended abnormally: {join}");
                outcome = PartsOutcome::Failed(HttpError::Network {
                    host: String::new(),
                    message,
                });
            }
        }
    }
    Ok(outcome)
}

async fn put_part(run: PartsRun, part: PartPlan) -> Result<(u32, String), PartFail> {
    let mut headers = part.headers.clone();
    headers.insert("content-length".to_owned(), part.size.to_string());
    let mut failures = 0u32;
    loop {
        if is_expired(run.expires) {
            return Err(PartFail::Expired);
        }
        let put = PutRange {
            url: &part.url,
            headers: &headers,
            path: &run.path,
            offset: part.offset,
            len: part.size,
            stall_timeout: run.stall_timeout,
        };
        let error = match run.http.put(&put, &run.progress).await {
            Ok(Some(etag)) => return Ok((part.number, etag)),
            Ok(None) => {
                let message = format!("part {} stored without an ETag header", part.number);
                return Err(PartFail::Failed(HttpError::Invalid {
                    host: String::new(),
                    message,
                }));
            }
            Err(e) => e,
        };
        match error.failure() {
            Failure::Expired => return Err(PartFail::Expired),
            Failure::Retry if run.retry.allows(failures + 1) => {
                let delay = run.retry.delay(failures);
                tracing::warn!(part = part.number, error = %error, retry_in = ?delay, "Part failed, retrying.");
                failures += 1;
                tokio::time::sleep(delay).await;
            }
            Failure::Retry | Failure::Permanent => return Err(PartFail::Failed(error)),
        }
    }
}
