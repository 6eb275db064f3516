//! Time as the service sees it. Production uses the wall clock; the demo and
//! tests may start it at a chosen instant and run it faster
//! (`CALLFLOW_CLOCK_START`, `CALLFLOW_CLOCK_SPEED`), so calling windows and
//! retries can be shown and tested without waiting for real hours.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin_real: Instant,
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
        Self {
            origin_real: Instant::now(),
            origin: Utc::now(),
            speed: 1.0,
        }
    }

    /// A clock that reads `start` now and advances `speed` times faster than real time.
    pub fn starting_at(start: DateTime<Utc>, speed: f64) -> Self {
        Self {
            origin_real: Instant::now(),
            origin: start,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        if self.speed == 1.0 && self.origin_real.elapsed() < Duration::from_millis(1) {
            return self.origin;
        }
        let elapsed = self.origin_real.elapsed().as_secs_f64() * self.speed;
        self.origin + chrono::Duration::microseconds((elapsed * 1e6) as i64)
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
        let c = Clock::starting_at(start, 3600.0);
        assert!(c.now() >= start);
        assert_eq!(c.real_duration(3_600_000), Duration::from_secs(1));
        assert_eq!(Clock::starting_at(start, -1.0).speed(), 1.0);
    }
}
