//! Time as the service sees it. Production uses the wall clock; the demo and
//! tests may start it at a chosen instant and run it faster
//! (`CALLFLOW_CLOCK_START`, `CALLFLOW_CLOCK_SPEED`), so calling windows and
//! retries can be shown and tested without waiting for real hours. Several
//! processes given the same `CALLFLOW_CLOCK_ORIGIN` (the real instant at which
//! the clock reads its start) read the same time.

use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The real instant at which this clock read `origin`.
    origin_real: DateTime<Utc>,
    origin: DateTime<Utc>,
    speed: f64,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    pub fn system() -> Self {
        let now = Utc::now();
        Self {
            origin_real: now,
            origin: now,
            speed: 1.0,
        }
    }

    /// A clock that read `start` at the real instant `origin_real` (default: now)
    /// and advances `speed` times faster than real time.
    pub fn starting_at(
        start: DateTime<Utc>,
        speed: f64,
        origin_real: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            origin_real: origin_real.unwrap_or_else(Utc::now),
            origin: start,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let real = Utc::now();
        if self.speed == 1.0 && self.origin_real == self.origin {
            return real;
        }
        let elapsed = (real - self.origin_real).num_microseconds().unwrap_or(0) as f64 * self.speed;
        self.origin + chrono::Duration::microseconds(elapsed as i64)
    }

    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// How long to really sleep for `clock_ms` of this clock's time.
    pub fn real_duration(&self, clock_ms: i64) -> Duration {
        Duration::from_secs_f64((clock_ms.max(0) as f64 / 1000.0) / self.speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerated_clock_runs_faster() {
        let start = DateTime::parse_from_rfc3339("2026-03-08T06:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = Clock::starting_at(start, 3600.0, None);
        assert!(c.now() >= start);
        assert_eq!(c.real_duration(3_600_000), Duration::from_secs(1));
        assert_eq!(Clock::starting_at(start, -1.0, None).speed(), 1.0);
        // Two processes with one origin agree.
        let origin = Utc::now() - chrono::Duration::seconds(10);
        let a = Clock::starting_at(start, 60.0, Some(origin));
        let b = Clock::starting_at(start, 60.0, Some(origin));
        assert!((a.now() - b.now()).num_seconds().abs() <= 1);
        assert!(a.now() >= start + chrono::Duration::seconds(590));
    }
}
