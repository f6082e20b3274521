//! How long an upload's URLs live and how it is cut into parts, from `[presign]` and S3's
//! limits.

use std::time::Duration;

use haul_contract::s3::MAX_PARTS;
use haul_pipeline::config::PresignConfig;

/// How long URLs for an upload of `size` bytes stay valid: at least `expiry`, raised to
/// `size / min_bandwidth` so a large file on a slow link does not expire mid-upload,
/// at most `max_expiry`.
pub fn expiry_for(config: &PresignConfig, size: u64) -> Duration {
    let floor = Duration::from_secs(size.div_ceil(config.min_bandwidth.bytes().max(1)));
    config.expiry.max(floor).min(config.max_expiry)
}

/// The part size for an upload of `size` bytes: the configured one, raised (in whole MiB)
/// so that the upload needs at most 10,000 parts.
pub fn part_size_for(config: &PresignConfig, size: u64) -> u64 {
    let needed = size.div_ceil(MAX_PARTS);
    let mib = 1u64 << 20;
    config.part_size.bytes().max(needed.div_ceil(mib) * mib)
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

    #[test]
    fn part_size_grows_to_stay_within_ten_thousand_parts() {
        let c = PresignConfig::default();
        assert_eq!(part_size_for(&c, 100 << 20), 16 << 20);
        let big = 500u64 << 30;
        let p = part_size_for(&c, big);
        assert!(big.div_ceil(p) <= MAX_PARTS, "{p}");
    }
}
