//! Multipart plans: validate, skip what is already stored, send the rest in parallel,
//! persist each part, then ask the cloud to complete.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::contract::{CompletedPart, PartPlan, RejectReason, TopicKind, UploadComplete, UploadPlan, UploadResponse};
use crate::error::UploadError;
use crate::parts::{PartsOutcome, PartsRun, upload_parts};
use crate::progress::Progress;
use crate::upload::{Job, Step, UploadKind};

impl Job<'_> {
    /// Follows a multipart plan (a first plan or a resume plan).
    pub(crate) async fn multipart(
        &mut self,
        key: String,
        expires: Option<SystemTime>,
        plan: UploadPlan,
    ) -> Result<Step, UploadError> {
        let UploadPlan::Multipart {
            upload_id,
            part_size,
            parts,
            received,
        } = plan
        else {
            return Err(self.bad_plan("expected a multipart plan".into()));
        };
        validate_parts(self.file.size, part_size, &parts).map_err(|m| self.bad_plan(m))?;
        if self.state.upload_id.as_deref() != Some(upload_id.as_str()) || self.state.part_size != Some(part_size) {
            self.state.forget_upload();
        }
        (self.state.key, self.state.upload_id, self.state.part_size) = (Some(key), Some(upload_id), Some(part_size));
        for part in received {
            self.state.parts.entry(part.number).or_insert(part.etag);
        }
        self.store.save(&self.state)?;
        let (todo, known) = parts_to_send(&self.state.parts, parts);
        self.parts_skipped += u32::try_from(known).unwrap_or(u32::MAX);
        if todo.is_empty() && !self.state.all_parts_done() {
            tracing::warn!(request_id = %self.state.request_id, "Cloud lists no missing part but some ETags are unknown; starting over.");
            self.restart()?;
            return Ok(Step::Refresh);
        }
        if !todo.is_empty() {
            match self.send_parts(todo, expires).await? {
                PartsOutcome::Done => self.progressed(),
                PartsOutcome::Expired => return Ok(Step::Refresh),
                PartsOutcome::Failed(e) if e.failure() == crate::http::Failure::Permanent => {
                    return Err(UploadError::Http {
                        file: self.file.path.clone(),
                        source: e,
                    });
                }
                PartsOutcome::Failed(e) => return Ok(Step::Retry(e.to_string())),
            }
        }
        if !self.state.all_parts_done() {
            return Ok(Step::Refresh); // a partial plan: ask for the remaining parts
        }
        self.complete().await
    }

    async fn send_parts(
        &mut self,
        todo: Vec<PartPlan>,
        expires: Option<SystemTime>,
    ) -> Result<PartsOutcome, UploadError> {
        let already = self.bytes_done();
        let progress = Progress::start(self.opts.progress, "uploading", self.file.size, already);
        let run = PartsRun {
            http: self.http.clone(),
            path: self.file.path.clone(),
            parallel: self.opts.parallel,
            retry: self.opts.retry,
            stall_timeout: self.opts.stall_timeout,
            expires,
            progress: progress.counter(),
        };
        let (store, state, sent) = (&self.store, &mut self.state, &mut self.parts_sent);
        let outcome = upload_parts(&run, todo, |number, etag| {
            state.parts.insert(number, etag);
            *sent += 1;
            store.save(state)
        })
        .await?;
        if matches!(outcome, PartsOutcome::Done) {
            progress.finish();
        }
        Ok(outcome)
    }

    fn bytes_done(&self) -> u64 {
        let part_size = self.state.part_size.unwrap_or(0);
        let size_of = |n: u32| {
            let start = u64::from(n.saturating_sub(1)).saturating_mul(part_size);
            self.file.size.saturating_sub(start).min(part_size)
        };
        self.state.parts.keys().map(|n| size_of(*n)).sum()
    }

    /// Publishes `complete` and waits for `Completed`; re-publishes on timeout.
    async fn complete(&mut self) -> Result<Step, UploadError> {
        let message = UploadComplete {
            request_id: self.state.request_id.clone(),
            key: self.state.key.clone().unwrap_or_default(),
            upload_id: self.state.upload_id.clone().unwrap_or_default(),
            size: self.file.size,
            parts: self
                .state
                .parts
                .iter()
                .map(|(n, e)| CompletedPart {
                    number: *n,
                    etag: e.clone(),
                })
                .collect(),
        };
        loop {
            let mut waiter = self.session.responses(&message.request_id);
            let sent = self
                .session
                .publish(TopicKind::Complete, &message, self.opts.response_timeout)
                .await;
            let response = match sent {
                Ok(()) => wait_completion(&mut waiter, self.opts.response_timeout).await,
                Err(e) => Err(e),
            };
            match response {
                Ok(UploadResponse::Completed { etag, .. }) => {
                    return Ok(Step::Done(self.finish(UploadKind::Multipart, Some(etag))?));
                }
                Ok(UploadResponse::Rejected { reason, message, .. }) if reason.is_transient() => {
                    self.backoff(format!("completion {reason:?}: {message}")).await?
                }
                Ok(UploadResponse::Rejected { reason, message, .. }) => {
                    return Err(self.completion_rejected(reason, message)?);
                }
                Ok(UploadResponse::Accepted { .. }) => {}
                Err(e) => self.backoff(e.to_string()).await?,
            }
        }
    }

    fn completion_rejected(&mut self, reason: RejectReason, message: String) -> Result<UploadError, UploadError> {
        self.store.remove(&self.state.path)?;
        Ok(UploadError::Rejected {
            file: self.file.path.clone(),
            request_id: self.state.request_id.clone(),
            reason,
            message,
        })
    }
}

/// Checks that every part lies in the file at its number's offset.
pub(crate) fn validate_parts(file_size: u64, part_size: u64, parts: &[PartPlan]) -> Result<(), String> {
    if part_size == 0 {
        return Err("part_size is 0".into());
    }
    for p in parts {
        let expected_offset = u64::from(p.number.saturating_sub(1)).saturating_mul(part_size);
        let end = p.offset.checked_add(p.size);
        if p.number == 0
            || p.size == 0
            || p.size > part_size
            || p.offset != expected_offset
            || end.is_none_or(|e| e > file_size)
        {
            return Err(format!(
                "part {} (offset {}, size {}) does not fit a {file_size}-byte file in {part_size}-byte parts",
                p.number, p.offset, p.size
            ));
        }
    }
    Ok(())
}

/// The planned parts not yet stored (by the state's ETags), and how many were skipped.
pub(crate) fn parts_to_send(done: &BTreeMap<u32, String>, parts: Vec<PartPlan>) -> (Vec<PartPlan>, usize) {
    let planned = parts.len();
    let todo: Vec<PartPlan> = parts.into_iter().filter(|p| !done.contains_key(&p.number)).collect();
    let skipped = planned - todo.len();
    (todo, skipped)
}

async fn wait_completion(
    waiter: &mut crate::mqtt::ResponseWaiter,
    timeout: std::time::Duration,
) -> Result<UploadResponse, crate::mqtt::MqttError> {
    loop {
        let response = waiter.next(timeout, "completion response").await?;
        if !matches!(response, UploadResponse::Accepted { .. }) {
            return Ok(response);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(file_size: u64, part_size: u64) -> Vec<PartPlan> {
        (0..file_size.div_ceil(part_size))
            .map(|i| PartPlan {
                number: u32::try_from(i + 1).unwrap(),
                offset: i * part_size,
                size: part_size.min(file_size - i * part_size),
                url: format!("http://s3/part{}", i + 1),
                headers: Default::default(),
            })
            .collect()
    }

    #[test]
    fn resume_skips_the_parts_already_stored() {
        let done = BTreeMap::from([(1, "\"e1\"".to_owned()), (3, "\"e3\"".to_owned())]);
        let (todo, skipped) = parts_to_send(&done, plan(10, 2));
        assert_eq!(todo.iter().map(|p| p.number).collect::<Vec<_>>(), [2, 4, 5]);
        assert_eq!(skipped, 2);
    }

    #[test]
    fn plans_that_do_not_fit_the_file_are_refused() {
        assert!(validate_parts(10, 4, &plan(10, 4)).is_ok());
        assert!(validate_parts(10, 0, &[]).is_err());
        let mut beyond = plan(10, 4);
        beyond[2].size = 4; // 8..12 of a 10-byte file
        assert!(validate_parts(10, 4, &beyond).unwrap_err().contains("part 3"));
        let mut shifted = plan(10, 4);
        shifted[1].offset = 3;
        assert!(validate_parts(10, 4, &shifted).is_err());
    }
}
