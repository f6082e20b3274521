//! Single-part plans: one `PUT` of the whole file with the cloud's headers, sent exactly.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::error::UploadError;
use crate::http::{Failure, PutRange};
use crate::progress::Progress;
use crate::upload::{Job, Step, UploadKind, is_expired};

/// Network failures on one URL before a fresh plan is asked for.
const SAME_URL_NETWORK_FAILURES: u32 = 3;

impl Job<'_> {
    /// Uploads the file to `url`; retries network errors on the same URL until it expires.
    pub(crate) async fn single(
        &mut self,
        key: String,
        expires: Option<SystemTime>,
        url: &str,
        method: &str,
        mut headers: BTreeMap<String, String>,
    ) -> Result<Step, UploadError> {
        if !method.eq_ignore_ascii_case("PUT") {
            return Err(self.bad_plan(format!("method {method:?} (only PUT is supported)")));
        }
        let size = self.file.size.to_string();
        match headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
            Some((_, v)) if *v != size => {
                return Err(self.bad_plan(format!("content-length {v} but the file has {size} bytes")));
            }
            Some(_) => {}
            None => {
                headers.insert("content-length".into(), size);
            }
        }
        self.state.key = Some(key);
        self.state.forget_upload_id_only();
        self.store.save(&self.state)?;
        // An endpoint may refuse a URL (expired, say) and close the connection while the
        // body is still being written: then the device sees a broken connection, not the
        // 403. After a few such failures on one URL, ask for a fresh plan.
        let mut broken = 0;
        loop {
            if is_expired(expires) || broken >= SAME_URL_NETWORK_FAILURES {
                return Ok(Step::Refresh);
            }
            let progress = Progress::start(self.opts.progress, "uploading", self.file.size, 0);
            let put = PutRange {
                url,
                headers: &headers,
                path: &self.file.path,
                offset: 0,
                len: self.file.size,
                stall_timeout: self.opts.stall_timeout,
            };
            let result = self.http.put(&put, &progress.counter()).await;
            match result {
                Ok(etag) => {
                    progress.finish();
                    return Ok(Step::Done(self.finish(UploadKind::Single, etag)?));
                }
                Err(e) => match e.failure() {
                    Failure::Retry => {
                        broken += 1;
                        self.backoff(e.to_string()).await?
                    }
                    Failure::Expired => return Ok(Step::Refresh),
                    Failure::Permanent => {
                        return Err(UploadError::Http {
                            file: self.file.path.clone(),
                            source: e,
                        });
                    }
                },
            }
        }
    }

    /// Bad-plan errors name what does not fit.
    pub(crate) fn bad_plan(&self, message: String) -> UploadError {
        UploadError::BadPlan {
            file: self.file.path.clone(),
            message,
        }
    }
}
