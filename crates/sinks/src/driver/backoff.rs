//! Exponential backoff with jitter that never undercuts the server.
//!
//! The delay before attempt `n + 1` is drawn from the upper half of
//! `min(max, initial * multiplier^n)` ("equal jitter": spread out, never
//! near zero), and is at least the server's `Retry-After` / `RetryInfo`
//! when one was given. Randomness is passed in (`unit` in `[0, 1)`) so the
//! schedule is a pure function, tested without a clock.

use std::time::Duration;

/// Backoff settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The first delay's ceiling.
    pub initial: Duration,
    /// The largest delay's ceiling.
    pub max: Duration,
    /// Growth per attempt.
    pub multiplier: f64,
    /// Give up (dead-letter) once this much time has passed since the first
    /// attempt.
    pub max_elapsed: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            max_elapsed: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The delay after `failures` consecutive failures (1 for the first),
    /// with `unit` in `[0, 1)` from any random source, at least
    /// `retry_after`. A server's `retry_after` beyond `max` is still obeyed.
    pub fn delay(&self, failures: u32, unit: f64, retry_after: Option<Duration>) -> Duration {
        let exp = i32::try_from(failures.saturating_sub(1)).unwrap_or(i32::MAX);
        let ceiling = (self.initial.as_secs_f64() * self.multiplier.max(1.0).powi(exp))
            .min(self.max.as_secs_f64());
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let jittered = Duration::from_secs_f64(ceiling / 2.0 + unit * ceiling / 2.0);
        match retry_after {
            Some(server) => jittered.max(server),
            None => jittered,
        }
    }

    /// Whether to keep trying after `elapsed` since the first attempt.
    pub fn should_retry(&self, elapsed: Duration) -> bool {
        elapsed < self.max_elapsed
    }
}

/// A small, fast source of `unit` values (xorshift64*), seeded per sink so
/// many sinks retrying at once do not move in step. Not for secrets.
#[derive(Clone, Debug)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded from the process's random hasher keys.
    pub fn new() -> Jitter {
        use std::hash::BuildHasher;
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x6a69_7474_6572_u64);
        Jitter(seed | 1)
    }

    /// The next value in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Jitter::new()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn delays_grow_to_the_cap_and_stay_in_the_upper_half() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 0.0, None), Duration::from_millis(250));
        assert_eq!(b.delay(1, 1.0, None), Duration::from_millis(500));
        assert_eq!(b.delay(3, 1.0, None), Duration::from_secs(2));
        assert_eq!(b.delay(40, 1.0, None), Duration::from_secs(30));
        assert_eq!(b.delay(40, 0.0, None), Duration::from_secs(15));
    }

    #[test]
    fn the_server_hint_is_a_floor_even_past_the_cap() {
        let b = Backoff::default();
        let hint = Some(Duration::from_secs(90));
        assert_eq!(b.delay(1, 0.5, hint), Duration::from_secs(90));
        assert_eq!(
            b.delay(1, 0.5, Some(Duration::from_millis(1))),
            Duration::from_millis(375)
        );
    }

    #[test]
    fn jitter_spreads_values_over_the_unit_interval() {
        let mut j = Jitter::new();
        let v: Vec<f64> = (0..10_000).map(|_| j.unit()).collect();
        assert!(v.iter().all(|x| (0.0..1.0).contains(x)));
        let low = v.iter().filter(|&&x| x < 0.5).count();
        assert!((4_000..6_000).contains(&low), "{low} of 10000 below 0.5");
    }

    proptest! {
        #[test]
        fn delays_are_bounded(failures in 1u32..200, unit in any::<f64>(), hint in proptest::option::of(0u64..10_000)) {
            let b = Backoff::default();
            let hint = hint.map(Duration::from_millis);
            let d = b.delay(failures, unit, hint);
            prop_assert!(d >= Duration::from_millis(250).min(b.max / 2));
            prop_assert!(d <= b.max.max(hint.unwrap_or_default()));
            if let Some(h) = hint {
                prop_assert!(d >= h);
            }
        }
    }
}
