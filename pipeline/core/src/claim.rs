//! Claims: one run of a stage per object version, whatever the deliveries.
//!
//! Delivery is at least once, and duplicates can arrive at the same moment (one S3
//! notification listing a record twice, a message delivered to two workers). Before it
//! checks for an existing result, a runtime claims the (stage, object) by creating
//! `{results_prefix}{stage}/{source key}.claim` with a conditional write (S3's
//! `If-None-Match: *`, an atomic create in the folder store). Exactly one delivery creates
//! it; the others see it and acknowledge themselves as duplicates, since the holder will
//! write the result or leave its own delivery for a retry.
//!
//! A claim is a lease: the holder renews it every third of [`LEASE`] while the stage runs,
//! and deletes it when done. A claim whose lease ran out (its holder crashed), or one for
//! another version of the object, is taken over with a compare-and-swap (`If-Match` on its
//! ETag), which again only one contender wins.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::event::ObjectVersion;
use crate::store::{ObjectStore, StoreError};

/// How long a claim lives without renewal.
pub const LEASE: Duration = Duration::from_secs(60);

/// What a claim object holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClaimDoc {
    owner: String,
    version: ObjectVersion,
    expires_at_ms: u64,
}

/// The result of trying to claim.
pub enum Claim {
    /// This delivery holds the claim; release it when done.
    Held(ClaimHandle),
    /// Another delivery holds a live claim for this object version.
    Busy {
        /// Who (a process-unique id).
        owner: String,
    },
}

/// Claims objects for a runtime.
pub struct Claimer {
    store: Arc<dyn ObjectStore>,
    owner: String,
}

impl Claimer {
    /// Claims in `store`, as a holder unique to this process.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        let nanos = now_ms();
        Self {
            store,
            owner: format!("{}-{}-{nanos}", host(), std::process::id()),
        }
    }

    /// Claims `key` in `bucket` (the claim object's own key) for `version`.
    pub async fn acquire(&self, bucket: &str, key: &str, version: &ObjectVersion) -> Result<Claim, StoreError> {
        let body = self.doc(version);
        if let Some(etag) = self.store.put_if_absent(bucket, key, body, "application/json").await? {
            return Ok(Claim::Held(self.handle(bucket, key, version, etag)));
        }
        let etag = match self.store.head(bucket, key).await {
            Ok(meta) => meta.etag.unwrap_or_default(),
            // Released between our attempt and now: try once more.
            Err(StoreError::NotFound { .. }) => return Box::pin(self.acquire(bucket, key, version)).await,
            Err(e) => return Err(e),
        };
        let current = self.store.get_bytes(bucket, key).await.ok();
        let doc = current.and_then(|b| serde_json::from_slice::<ClaimDoc>(&b).ok());
        if let Some(doc) = &doc
            && doc.expires_at_ms > now_ms()
            && doc.version.same_as(version)
        {
            return Ok(Claim::Busy {
                owner: doc.owner.clone(),
            });
        }
        // Expired, unreadable, or for another version: take it over, if nobody else does.
        match self
            .store
            .replace_if_match(bucket, key, self.doc(version), &etag)
            .await?
        {
            Some(etag) => {
                let previous = doc.map(|d| d.owner).unwrap_or_else(|| "unknown".into());
                tracing::info!(claim = key, %previous, "Stale claim taken over.");
                Ok(Claim::Held(self.handle(bucket, key, version, etag)))
            }
            None => Ok(Claim::Busy {
                owner: "another delivery".into(),
            }),
        }
    }

    fn doc(&self, version: &ObjectVersion) -> Bytes {
        let doc = ClaimDoc {
            owner: self.owner.clone(),
            version: version.clone(),
            expires_at_ms: now_ms() + LEASE.as_millis() as u64,
        };
        Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
    }

    fn handle(&self, bucket: &str, key: &str, version: &ObjectVersion, etag: String) -> ClaimHandle {
        let renewer = Renewer {
            claimer: Claimer {
                store: self.store.clone(),
                owner: self.owner.clone(),
            },
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: version.clone(),
        };
        ClaimHandle {
            store: self.store.clone(),
            owner: self.owner.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            renewal: tokio::spawn(renewer.run(etag)),
        }
    }
}

struct Renewer {
    claimer: Claimer,
    bucket: String,
    key: String,
    version: ObjectVersion,
}

impl Renewer {
    async fn run(self, mut etag: String) {
        loop {
            tokio::time::sleep(LEASE / 3).await;
            let body = self.claimer.doc(&self.version);
            match self
                .claimer
                .store
                .replace_if_match(&self.bucket, &self.key, body, &etag)
                .await
            {
                Ok(Some(next)) => etag = next,
                Ok(None) => {
                    tracing::warn!(claim = %self.key, "Claim lost while the stage ran (lease expired?).");
                    return;
                }
                Err(e) => tracing::warn!(claim = %self.key, error = %e, "Claim not renewed; trying again."),
            }
        }
    }
}

/// A held claim; [`ClaimHandle::release`] deletes it. Dropped without release, its lease
/// simply runs out.
pub struct ClaimHandle {
    store: Arc<dyn ObjectStore>,
    owner: String,
    bucket: String,
    key: String,
    renewal: tokio::task::JoinHandle<()>,
}

impl ClaimHandle {
    /// Stops renewing and deletes the claim if it is still this holder's (a failure only
    /// leaves it to expire).
    pub async fn release(self) {
        self.renewal.abort();
        let ours = match self.store.get_bytes(&self.bucket, &self.key).await {
            Ok(bytes) => serde_json::from_slice::<ClaimDoc>(&bytes).is_ok_and(|d| d.owner == self.owner),
            Err(_) => false,
        };
        if !ours {
            return;
        }
        if let Err(e) = self.store.delete(&self.bucket, &self.key).await {
            tracing::warn!(claim = %self.key, error = %e, "Claim not released; it expires with its lease.");
        }
    }
}

impl Drop for ClaimHandle {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FsStore;

    fn version(etag: &str) -> ObjectVersion {
        ObjectVersion {
            etag: Some(etag.into()),
            ..ObjectVersion::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn of_concurrent_claimants_exactly_one_holds_the_claim() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(FsStore::new(dir.path()));
        let tries = (0..8).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { Claimer::new(store).acquire("b", "r/x.claim", &version("e1")).await })
        });
        let mut held = 0;
        for t in tries {
            if let Ok(Ok(Claim::Held(_))) = t.await {
                held += 1;
            }
        }
        assert_eq!(held, 1);
    }

    #[tokio::test]
    async fn a_released_claim_or_one_for_another_version_can_be_taken() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(FsStore::new(dir.path()));
        let (a, b) = (Claimer::new(store.clone()), Claimer::new(store.clone()));
        let Claim::Held(first) = a.acquire("b", "k.claim", &version("v1")).await.unwrap() else {
            panic!("the first claim is free")
        };
        assert!(matches!(
            b.acquire("b", "k.claim", &version("v1")).await.unwrap(),
            Claim::Busy { .. }
        ));
        assert!(
            matches!(b.acquire("b", "k.claim", &version("v2")).await.unwrap(), Claim::Held(_)),
            "a new object version takes the claim over"
        );
        first.release().await;
        assert!(matches!(
            a.acquire("b", "k.claim", &version("v3")).await.unwrap(),
            Claim::Held(_)
        ));
    }
}
