//! The host clock: what `now` means when a caller does not pass it.

use pennon_core::time::Millis;

/// The system clock in ms since the Unix epoch (negative before 1970; saturating far in
/// either direction). Evaluation never reads a clock itself: bindings pass this as `now` when the
/// caller gave none. (The wasm builds read JavaScript's `Date.now()` instead: there is no
/// system clock in `wasm32-unknown-unknown`.)
pub fn now() -> Millis {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => Millis::try_from(since.as_millis()).unwrap_or(Millis::MAX),
        Err(before) => Millis::try_from(before.duration().as_millis()).map_or(Millis::MIN, |ms| -ms),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_system_clock() {
        // 2026-01-01T00:00:00Z: the clock of any machine running this test is past it.
        assert!(super::now() > 1_767_225_600_000);
    }
}
