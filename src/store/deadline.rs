//! Deadlines a Redis script checks against the server's own clock (`TIME`):
//! this process's clock and Redis's may differ, so the difference is measured
//! when the store connects and every deadline is given in Redis's time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Store, StoreError};

/// How long a Redis command may take before the store gives up on it
/// (connect and response timeouts). A callback's write deadline is set
/// shorter (see `app::outbound::CALLBACK_WRITE_BUDGET`), so a write refused as
/// late and a reply given up on are the same writes.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// An instant in Redis's clock (epoch ms), past which a script writes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub(super) i64);

/// Redis's clock minus this process's, in ms.
#[derive(Debug, Default)]
pub(super) struct ClockOffset(AtomicI64);

fn local_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    /// The deadline `budget` from now.
    pub fn deadline_in(&self, budget: Duration) -> Deadline {
        Deadline(local_ms() + self.offset.0.load(Ordering::Relaxed) + budget.as_millis() as i64)
    }

    /// Redis's time now, by this process's clock and the measured offset (epoch ms).
    pub(super) fn redis_now_ms(&self) -> i64 {
        local_ms() + self.offset.0.load(Ordering::Relaxed)
    }

    /// Measures how far Redis's clock is from this process's (one `TIME`,
    /// taking the middle of the round trip).
    pub(super) async fn measure_clock(&self) -> Result<(), StoreError> {
        let mut c = self.conn();
        let before = local_ms();
        let (secs, micros): (i64, i64) = redis::cmd("TIME").query_async(&mut c).await?;
        let after = local_ms();
        let redis_ms = secs * 1000 + micros / 1000;
        let offset = redis_ms - (before + after) / 2;
        self.offset.0.store(offset, Ordering::Relaxed);
        if offset.abs() > 1000 {
            tracing::warn!(
                offset_ms = offset,
                "Redis's clock differs from this host's; deadlines are set in Redis's time"
            );
        }
        Ok(())
    }
}
