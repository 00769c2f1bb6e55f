//! Reconnect delays: exponential backoff with full jitter (docs/sdk.md, Refresh 4).

use std::time::Duration;

/// `random(0, min(cap, base · 2^attempt))`, with `unit` the random draw in `[0, 1)`.
pub(crate) fn delay(base: Duration, cap: Duration, attempt: u32, unit: f64) -> Duration {
    let ceiling = base.saturating_mul(1u32 << attempt.min(31)).min(cap);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// The reconnect attempt counter of one stream, with its jitter source.
#[derive(Debug)]
pub(crate) struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(base: Duration, cap: Duration) -> Self {
        Backoff { base, cap, attempt: 0 }
    }

    /// The delay before the next attempt; each call counts one more attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let unit: f64 = rand::random();
        let delay = delay(self.base, self.cap, self.attempt, unit);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// After a stream delivered an event.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(1);
    const CAP: Duration = Duration::from_secs(30);

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        assert_eq!(delay(BASE, CAP, 0, 0.999_999), Duration::from_secs(1).mul_f64(0.999_999));
        assert_eq!(delay(BASE, CAP, 3, 0.5), Duration::from_secs(4));
        assert_eq!(delay(BASE, CAP, 4, 1.0), Duration::from_secs(16));
        assert_eq!(delay(BASE, CAP, 5, 1.0), CAP);
        assert_eq!(delay(BASE, CAP, 500, 1.0), CAP, "huge attempts do not overflow");
        assert_eq!(delay(BASE, CAP, 7, 0.0), Duration::ZERO);
    }

    #[test]
    fn jittered_delays_stay_within_bounds_and_spread() {
        let mut backoff = Backoff::new(BASE, CAP);
        let mut seen = Vec::new();
        for attempt in 0..40u32 {
            let d = backoff.next_delay();
            let ceiling = BASE.saturating_mul(1u32 << attempt.min(31)).min(CAP);
            assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
            seen.push(d);
        }
        let late: Vec<_> = seen.iter().skip(10).collect();
        assert!(late.iter().any(|d| **d < CAP / 2) && late.iter().any(|d| **d > CAP / 2), "full jitter: {late:?}");
        backoff.reset();
        assert!(backoff.next_delay() <= BASE);
    }
}
