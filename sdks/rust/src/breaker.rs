//! The circuit breaker of the refresh loop (docs/sdk.md, Refresh 6).

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Closed,
    Open { until: Instant },
    HalfOpen,
}

/// After `threshold` consecutive failed checks the breaker opens for `open_for`: no
/// request at all. Then one check is let through (half-open): a success closes it, a
/// failure opens it again.
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    open_for: Duration,
    failures: u32,
    state: State,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, open_for: Duration) -> Self {
        Breaker { threshold: threshold.max(1), open_for, failures: 0, state: State::Closed }
    }

    /// `Ok` when a check may run now, else how long to wait.
    pub(crate) fn permit(&mut self, now: Instant) -> Result<(), Duration> {
        match self.state {
            State::Closed | State::HalfOpen => Ok(()),
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen;
                Ok(())
            }
            State::Open { until } => Err(until - now),
        }
    }

    pub(crate) fn success(&mut self) {
        self.failures = 0;
        self.state = State::Closed;
    }

    pub(crate) fn failure(&mut self, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        if self.state == State::HalfOpen || self.failures >= self.threshold {
            self.state = State::Open { until: now + self.open_for };
        }
    }

    #[cfg(test)]
    pub(crate) fn state(&self) -> State {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_then_half_opens() {
        let t0 = Instant::now();
        let open_for = Duration::from_secs(30);
        let mut breaker = Breaker::new(5, open_for);
        for _ in 0..4 {
            assert_eq!(breaker.permit(t0), Ok(()));
            breaker.failure(t0);
        }
        assert_eq!(breaker.state(), State::Closed);
        breaker.failure(t0);
        assert_eq!(breaker.state(), State::Open { until: t0 + open_for });
        assert_eq!(breaker.permit(t0 + Duration::from_secs(10)), Err(Duration::from_secs(20)));
        // Half-open: one try; a failure opens it again for a full period.
        let t1 = t0 + open_for;
        assert_eq!(breaker.permit(t1), Ok(()));
        assert_eq!(breaker.state(), State::HalfOpen);
        breaker.failure(t1);
        assert_eq!(breaker.permit(t1 + Duration::from_secs(1)), Err(Duration::from_secs(29)));
        // A success in half-open closes it and resets the count.
        let t2 = t1 + open_for;
        assert_eq!(breaker.permit(t2), Ok(()));
        breaker.success();
        assert_eq!(breaker.state(), State::Closed);
        for _ in 0..4 {
            breaker.failure(t2);
        }
        assert_eq!(breaker.state(), State::Closed, "the count restarted after the success");
    }

    #[test]
    fn a_success_resets_the_consecutive_count() {
        let now = Instant::now();
        let mut breaker = Breaker::new(3, Duration::from_secs(1));
        breaker.failure(now);
        breaker.failure(now);
        breaker.success();
        breaker.failure(now);
        breaker.failure(now);
        assert_eq!(breaker.state(), State::Closed);
        breaker.failure(now);
        assert!(matches!(breaker.state(), State::Open { .. }));
    }
}
