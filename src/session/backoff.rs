//! Reconnect delays: exponential backoff with jitter.
//!
//! Jitter spreads the reconnects of many gateway processes after a shared outage (a SpacetimeDB
//! restart) so they do not all hit the server in the same instant.

use std::time::Duration;

/// How a session waits between reconnect attempts.
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffPolicy {
    /// The delay before the first retry.
    pub initial: Duration,
    /// The longest delay between two attempts.
    pub max: Duration,
    /// Each failed attempt multiplies the delay by this (≥ 1).
    pub multiplier: f64,
    /// The fraction of each delay that is random: a delay `d` becomes uniform in `[d·(1−jitter), d]`.
    pub jitter: f64,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(10),
            multiplier: 2.0,
            jitter: 0.5,
        }
    }
}

impl BackoffPolicy {
    /// The delay before attempt number `attempt` (1 = the first retry), with `random` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let base = self.initial.as_secs_f64() * self.multiplier.max(1.0).powi(exponent);
        let capped = base.min(self.max.as_secs_f64());
        let jitter = self.jitter.clamp(0.0, 1.0);
        Duration::from_secs_f64(capped * (1.0 - jitter * random.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        let p = BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            multiplier: 2.0,
            jitter: 0.0,
        };
        let delays: Vec<u128> = (1..=6).map(|a| p.delay(a, 0.7).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.delay(u32::MAX, 0.0), Duration::from_secs(1), "no overflow on huge attempt numbers");
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let p = BackoffPolicy { jitter: 0.5, ..BackoffPolicy::default() };
        assert_eq!(p.delay(1, 0.0), Duration::from_millis(200));
        assert_eq!(p.delay(1, 1.0), Duration::from_millis(100));
        let mid = p.delay(1, 0.5).as_millis();
        assert!((140..=160).contains(&mid), "{mid}");
    }

    #[test]
    fn nonsense_settings_are_clamped() {
        let p = BackoffPolicy {
            initial: Duration::from_millis(50),
            max: Duration::from_secs(1),
            multiplier: 0.1,
            jitter: 7.0,
        };
        assert_eq!(p.delay(5, 0.0), Duration::from_millis(50), "a multiplier below 1 never shrinks the delay");
        assert_eq!(p.delay(1, 1.0), Duration::ZERO, "jitter is at most the whole delay");
    }
}
