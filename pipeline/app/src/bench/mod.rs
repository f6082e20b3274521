//! `haul bench`: measurements that need real processes and sockets (criterion benches
//! cover the pure functions). Each prints its figures and, where there is one, the peer's
//! figure from the same run.

pub mod cold_start;
pub mod load;
pub mod presign;
pub mod upload;

use haul_pipeline::prelude::*;

/// A stage that reads nothing and returns at once, so that a benchmark measures the
/// transport, not the processing.
#[derive(Debug, Default)]
pub struct Discard;

impl Stage for Discard {
    fn name(&self) -> &str {
        "discard"
    }

    async fn process(&self, object: Object, _cx: &Context) -> Result<Output, StageError> {
        Ok(Output::json(serde_json::json!({ "size": object.size() })))
    }
}

/// A stack configuration routing everything to [`Discard`].
pub fn config(extra: &str) -> Result<haul_pipeline::config::HaulConfig, haul_pipeline::config::ConfigError> {
    haul_pipeline::config::HaulConfig::from_toml(&format!("{extra}\n[[routes]]\nstage = \"discard\"\n"), "bench")
}

/// The p-th percentile (0-100) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_ranks() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 51.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
