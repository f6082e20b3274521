//! Per-device request limits: in one process ([`in_process`]), or shared by every process
//! presigning for one bucket ([`shared`], what the Lambda function uses: there each container
//! would otherwise grant the whole budget again, multiplying it with concurrency).

mod in_process;
mod shared;

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use haul_pipeline::store::ObjectStore;

pub use in_process::RateLimiter;
pub use shared::SharedLimit;

/// Where the budget is kept.
pub enum Limiter {
    /// In this process's memory.
    InProcess(RateLimiter),
    /// In counter objects in the bucket.
    Shared(SharedLimit),
}

impl Limiter {
    /// Counters in `bucket` through `store`, for `limit` requests per `window`.
    pub fn shared(store: Arc<dyn ObjectStore>, bucket: &str, limit: u32, window: std::time::Duration) -> Self {
        Limiter::Shared(SharedLimit::new(store, bucket, limit, window))
    }

    /// Counts one request of `device`: `Ok(false)` when it is over its limit; an error when
    /// the shared counters are unavailable.
    pub async fn allow(&self, device: &str) -> Result<bool, String> {
        match self {
            Limiter::InProcess(l) => Ok(l.allow(device, Instant::now())),
            Limiter::Shared(l) => l.allow(device, Utc::now()).await,
        }
    }
}
