//! `[presign]`: what devices may upload and how the URLs are signed. The settings and
//! their checks; the presign function (`haul-presign`) applies them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use haul_contract::s3::{MAX_OBJECT_SIZE, MAX_PRESIGN_EXPIRY_S, MIN_PART_SIZE};

use super::{ByteSize, ConfigError, invalid};

/// Where in the upload bucket the presign function keeps the per-device request counters
/// its containers share (the deployed bucket's lifecycle rule expires them after a day).
pub const RATE_LIMIT_PREFIX: &str = "rate-limit/";

/// Limits and signing settings for device uploads.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PresignConfig {
    /// Largest upload accepted. Default `5GiB`.
    pub max_size: ByteSize,
    /// How long a URL is valid at least. Default `15m`.
    #[serde(with = "humantime_serde")]
    pub expiry: Duration,
    /// The slowest link a device is expected to have, in bytes per second: a URL lives at
    /// least `size / min_bandwidth`, so a large file on a slow link does not expire
    /// mid-upload. Default `64KiB`.
    pub min_bandwidth: ByteSize,
    /// Upper bound of the expiry (at most 7 days, SigV4's limit; on AWS also bounded by the
    /// signing role's session). Default `12h`.
    #[serde(with = "humantime_serde")]
    pub max_expiry: Duration,
    /// Uploads at least this large use S3 multipart with presigned part URLs.
    /// Default `64MiB`.
    pub multipart_threshold: ByteSize,
    /// The smallest part a device may cut a multipart upload into (at least 5 MiB).
    /// Devices choose the part size, because their request declares each part's SHA-256;
    /// `haul-device` uses 16 MiB, raised to keep at most 1,500 parts. Default `16MiB`.
    pub part_size: ByteSize,
    /// Requests one device may make per `rate_window`. Default 30. Counted in memory by
    /// `haul dev`, in counter objects under [`RATE_LIMIT_PREFIX`] in the bucket by the
    /// deployed presign function (one budget for all its containers).
    pub rate_limit: u32,
    /// The window of `rate_limit`. Default `1m`.
    #[serde(with = "humantime_serde")]
    pub rate_window: Duration,
    /// Base URL devices use to reach S3, when it differs from the endpoint the cloud uses
    /// (e.g. a public name for a local endpoint). Default: the cloud's own endpoint.
    pub public_endpoint: Option<String>,
}

impl Default for PresignConfig {
    fn default() -> Self {
        Self {
            max_size: ByteSize(5 << 30),
            expiry: Duration::from_secs(15 * 60),
            min_bandwidth: ByteSize(64 << 10),
            max_expiry: Duration::from_secs(12 * 3600),
            multipart_threshold: ByteSize(64 << 20),
            part_size: ByteSize(16 << 20),
            rate_limit: 30,
            rate_window: Duration::from_secs(60),
            public_endpoint: None,
        }
    }
}

impl PresignConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_size.bytes() == 0 {
            return Err(invalid("presign.max_size", "must be above zero"));
        }
        if self.expiry.is_zero() || self.expiry > self.max_expiry {
            return Err(invalid(
                "presign.expiry",
                "must be above zero and at most presign.max_expiry",
            ));
        }
        if self.max_expiry > Duration::from_secs(MAX_PRESIGN_EXPIRY_S) {
            return Err(invalid(
                "presign.max_expiry",
                "SigV4 presigned URLs live at most 7 days (168h)",
            ));
        }
        if self.min_bandwidth.bytes() == 0 {
            return Err(invalid("presign.min_bandwidth", "must be above zero"));
        }
        if self.part_size.bytes() < MIN_PART_SIZE {
            return Err(invalid(
                "presign.part_size",
                format!("{} is below S3's minimum of 5 MiB", self.part_size),
            ));
        }
        if self.multipart_threshold.bytes() < self.part_size.bytes() {
            return Err(invalid(
                "presign.multipart_threshold",
                "must be at least presign.part_size",
            ));
        }
        if self.max_size.bytes() > MAX_OBJECT_SIZE {
            return Err(invalid("presign.max_size", "S3 objects are at most 5 TiB"));
        }
        if self.rate_limit == 0 || self.rate_window.is_zero() {
            return Err(invalid(
                "presign.rate_limit",
                "rate_limit and rate_window must be above zero",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_parts_are_rejected() {
        let c = PresignConfig {
            part_size: ByteSize(1 << 20),
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("5 MiB"));
    }
}
