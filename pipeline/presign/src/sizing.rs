//! How long an upload's URLs live, from `[presign]`.

use std::time::Duration;

use haul_pipeline::config::PresignConfig;

/// How long URLs for an upload of `size` bytes stay valid: at least `expiry`, raised to
/// `size / min_bandwidth` so a large file on a slow link does not expire mid-upload,
/// at most `max_expiry`.
pub fn expiry_for(config: &PresignConfig, size: u64) -> Duration {
    let floor = Duration::from_secs(size.div_ceil(config.min_bandwidth.bytes().max(1)));
    config.expiry.max(floor).min(config.max_expiry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_has_a_floor_from_size_and_bandwidth() {
        let c = PresignConfig::default();
        assert_eq!(expiry_for(&c, 1000), Duration::from_secs(900));
        // 1 GiB at 64 KiB/s takes 16384 s, above 15 minutes.
        assert_eq!(expiry_for(&c, 1 << 30), Duration::from_secs(16384));
        assert_eq!(expiry_for(&c, 1 << 40), c.max_expiry);
    }
}
