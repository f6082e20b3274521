//! Exponential backoff with jitter, shared by HTTP retries, re-requests and the spool folder.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Exponential backoff: `initial * 2^attempt`, capped at `max`, with "equal jitter" (the
/// delay is uniformly drawn from the upper half of that value), at most `max_attempts`
/// tries in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the second try.
    pub initial: Duration,
    /// Upper bound of any delay.
    pub max: Duration,
    /// Total tries, the first included (at least 1).
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// 500 ms, doubling up to 30 s, 8 tries.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            max_attempts: 8,
        }
    }
}

impl Backoff {
    /// The un-jittered delay after the `attempt`-th failure (0-based), capped at `max`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.checked_mul(factor).unwrap_or(self.max).min(self.max)
    }

    /// The delay to wait after the `attempt`-th failure (0-based): in `[ceiling/2, ceiling]`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        if spread == 0 {
            return ceiling;
        }
        half + Duration::from_nanos(jitter_seed() % (spread + 1))
    }

    /// Whether another try is allowed after `failures` failed tries.
    pub fn allows(&self, failures: u32) -> bool {
        failures < self.max_attempts.max(1)
    }
}

/// A cheap, non-cryptographic random number (jitter only needs to de-synchronize devices).
fn jitter_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut x = u64::from(nanos) ^ (u64::from(std::process::id()) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    // xorshift64* scramble
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_until_the_cap() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_attempts: 5,
        };
        assert_eq!(b.ceiling(0), Duration::from_millis(100));
        assert_eq!(b.ceiling(1), Duration::from_millis(200));
        assert_eq!(b.ceiling(3), Duration::from_millis(800));
        assert_eq!(b.ceiling(4), Duration::from_secs(1));
        assert_eq!(b.ceiling(200), Duration::from_secs(1));
    }

    #[test]
    fn jittered_delays_stay_in_the_upper_half() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_attempts: 5,
        };
        for attempt in 0..10 {
            let d = b.delay(attempt);
            let c = b.ceiling(attempt);
            assert!(
                d >= c / 2 && d <= c,
                "attempt {attempt}: {d:?} outside [{:?}, {c:?}]",
                c / 2
            );
        }
    }

    #[test]
    fn attempts_are_bounded() {
        let b = Backoff {
            max_attempts: 3,
            ..Backoff::default()
        };
        assert!(b.allows(0) && b.allows(2));
        assert!(!b.allows(3));
        let zero = Backoff {
            max_attempts: 0,
            ..Backoff::default()
        };
        assert!(zero.allows(0), "the first try is always allowed");
    }
}
