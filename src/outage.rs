//! Saying that Redis is unavailable to a background loop without flooding the
//! log: once when it starts, then at most every [`LOG_EVERY`] with the
//! failures since, and once when it is over.

use std::time::{Duration, Instant};

use tracing::{info, warn};

/// How often, at most, a loop says Redis is still unavailable.
pub const LOG_EVERY: Duration = Duration::from_secs(30);

/// One loop's view of a Redis outage; `what` names the loop in the log.
pub struct Outage {
    what: &'static str,
    since: Option<Instant>,
    last_said: Option<Instant>,
    pub failures: u64,
}

impl Outage {
    pub fn new(what: &'static str) -> Self {
        Self {
            what,
            since: None,
            last_said: None,
            failures: 0,
        }
    }

    /// `true` when this failure was logged.
    pub fn failed(&mut self, e: &crate::store::StoreError) -> bool {
        self.failures += 1;
        let now = Instant::now();
        self.since.get_or_insert(now);
        let say = self.last_said.is_none_or(|t| now - t >= LOG_EVERY);
        if say {
            warn!(error = %e, failures = self.failures, "{}: redis unavailable", self.what);
            self.last_said = Some(now);
        }
        say
    }

    pub fn over(&mut self) {
        if let Some(since) = self.since.take() {
            info!(
                after_s = since.elapsed().as_secs(),
                failures = self.failures,
                "{}: redis available again",
                self.what
            );
        }
        *self = Outage::new(self.what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_said_once_then_at_most_every_thirty_seconds() {
        let mut outage = Outage::new("test");
        let e = crate::store::StoreError::Corrupt("x".into());
        assert!(outage.failed(&e), "the first failure is said");
        assert!((0..50).all(|_| !outage.failed(&e)), "the next ones are not");
        assert_eq!(outage.failures, 51);
        outage.over();
        assert!(outage.failed(&e), "a new outage is said again");
    }
}
