//! A per-device request limit shared by every process that presigns for one bucket (every
//! Lambda container of the presign function): a counter object per device and window in the
//! bucket, changed only with S3's conditional writes, so concurrent containers never both
//! spend the last request of a budget.
//!
//! The limit is a sliding-window estimate: the requests of the current fixed window plus
//! those of the previous window weighted by how much of it still overlaps the sliding one
//! (`previous * (1 - elapsed) + current`). Each decision is a HEAD and a GET of the
//! current counter and one conditional PUT (plus one read of the previous window's counter,
//! remembered per process once that window is over); a lost race (412) reads again.
//! Counters live under `rate-limit/`, which the bucket's lifecycle rule expires after a day.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use haul_pipeline::config::RATE_LIMIT_PREFIX;
use haul_pipeline::store::{ObjectStore, StoreError};

/// Conditional writes tried before a decision is given up (many concurrent requests of one
/// device; the device is told to retry).
const MAX_ATTEMPTS: u32 = 12;

/// A limit of `limit` requests per `window` per device, kept in `bucket` through `store`.
pub struct SharedLimit {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    limit: u32,
    window_s: i64,
    /// Final counts of past windows, by counter key (they no longer change).
    past: Mutex<HashMap<String, u32>>,
}

/// A counter as read: its value and the ETag a conditional write must match.
struct Counter {
    count: u32,
    etag: Option<String>,
}

impl SharedLimit {
    /// `window` is rounded to whole seconds (at least one).
    pub fn new(store: Arc<dyn ObjectStore>, bucket: &str, limit: u32, window: Duration) -> Self {
        Self {
            store,
            bucket: bucket.to_owned(),
            limit,
            window_s: i64::try_from(window.as_secs().max(1)).unwrap_or(i64::MAX),
            past: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `device` at `now` if the budget allows it: `Ok(true)` when
    /// counted, `Ok(false)` when the device is over its limit; an error when the counters
    /// cannot be read or written (or the race for them was lost too often).
    pub async fn allow(&self, device: &str, now: DateTime<Utc>) -> Result<bool, String> {
        let window = now.timestamp().div_euclid(self.window_s);
        let elapsed = (now.timestamp_millis() - window * self.window_s * 1000) as f64 / (self.window_s * 1000) as f64;
        let previous = self.previous_count(&self.key(device, window - 1)).await?;
        let carried = f64::from(previous) * (1.0 - elapsed.clamp(0.0, 1.0));
        let key = self.key(device, window);
        for attempt in 0..MAX_ATTEMPTS {
            let current = self.read(&key).await?;
            if carried + f64::from(current.count) + 1.0 > f64::from(self.limit) {
                return Ok(false);
            }
            let body = Bytes::from((current.count + 1).to_string());
            let written = match &current.etag {
                None => self.store.put_if_absent(&self.bucket, &key, body, "text/plain").await,
                Some(etag) => self.store.replace_if_match(&self.bucket, &key, body, etag).await,
            };
            match written {
                Ok(Some(_)) => return Ok(true),
                Ok(None) => tokio::time::sleep(jitter(attempt)).await,
                Err(e) => return Err(format!("rate-limit counter {key}: {e}")),
            }
        }
        Err(format!(
            "rate-limit counter {key}: {MAX_ATTEMPTS} concurrent updates lost in a row"
        ))
    }

    fn key(&self, device: &str, window: i64) -> String {
        format!("{RATE_LIMIT_PREFIX}{device}/{}", window * self.window_s)
    }

    /// The final count of a past window (read once per process).
    async fn previous_count(&self, key: &str) -> Result<u32, String> {
        if let Some(n) = self.past.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
            return Ok(*n);
        }
        let count = self.read(key).await?.count;
        let mut past = self.past.lock().unwrap_or_else(|e| e.into_inner());
        if past.len() > 100_000 {
            past.clear();
        }
        past.insert(key.to_owned(), count);
        Ok(count)
    }

    async fn read(&self, key: &str) -> Result<Counter, String> {
        let fail = |e: StoreError| format!("rate-limit counter {key}: {e}");
        let etag = match self.store.head(&self.bucket, key).await {
            Ok(meta) => meta.etag,
            Err(StoreError::NotFound { .. }) => return Ok(Counter { count: 0, etag: None }),
            Err(e) => return Err(fail(e)),
        };
        let body = match self.store.get_bytes(&self.bucket, key).await {
            Ok(body) => body,
            // Expired between the two calls: a fresh window.
            Err(StoreError::NotFound { .. }) => return Ok(Counter { count: 0, etag: None }),
            Err(e) => return Err(fail(e)),
        };
        let count = std::str::from_utf8(&body)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| {
                format!(
                    "rate-limit counter {key} holds {:?}, not a count",
                    String::from_utf8_lossy(&body)
                )
            })?;
        // No ETag from the store: the write must create, and fails if the object exists.
        Ok(Counter { count, etag })
    }
}

/// 5-25 ms growing with the attempt, spread by the clock's nanoseconds so racing
/// containers do not retry in step.
fn jitter(attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(5 + u64::from(nanos % 20) + 5 * u64::from(attempt.min(8)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_pipeline::store::FsStore;

    fn limit(dir: &std::path::Path, n: u32) -> SharedLimit {
        SharedLimit::new(Arc::new(FsStore::new(dir)), "b", n, Duration::from_secs(60))
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn containers_share_one_budget_per_device() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (limit(dir.path(), 3), limit(dir.path(), 3));
        let t = at("2026-12-01T10:00:10Z");
        assert!(a.allow("d", t).await.unwrap());
        assert!(b.allow("d", t).await.unwrap());
        assert!(a.allow("d", t).await.unwrap());
        assert!(
            !b.allow("d", t).await.unwrap(),
            "the fourth request, from another container"
        );
        assert!(b.allow("e", t).await.unwrap(), "another device has its own budget");
    }

    #[tokio::test]
    async fn the_previous_window_counts_by_its_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let l = limit(dir.path(), 4);
        for _ in 0..4 {
            assert!(l.allow("d", at("2026-12-01T10:00:50Z")).await.unwrap());
        }
        // 15 s into the next window, 3/4 of the previous one still counts: 3 + 1 fits, 3 + 2 not.
        let early = at("2026-12-01T10:01:15Z");
        assert!(l.allow("d", early).await.unwrap());
        assert!(!l.allow("d", early).await.unwrap());
        // At 45 s only 1/4 does: with the one counted, 1 + 2 and 1 + 3 fit, 1 + 4 not.
        let later = at("2026-12-01T10:01:45Z");
        assert!(l.allow("d", later).await.unwrap());
        assert!(l.allow("d", later).await.unwrap());
        assert!(!l.allow("d", later).await.unwrap());
    }

    #[tokio::test]
    async fn a_counter_that_is_not_a_number_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::new(dir.path());
        store
            .put(
                "b",
                "rate-limit/d/1796119200",
                haul_pipeline::store::PutBody::Bytes(Bytes::from("x")),
                "text/plain",
            )
            .await
            .unwrap();
        let l = limit(dir.path(), 3);
        let err = l.allow("d", at("2026-12-01T10:00:10Z")).await.unwrap_err();
        assert!(
            err.contains("rate-limit/d/1796119200") && err.contains("\"x\""),
            "{err}"
        );
    }
}
