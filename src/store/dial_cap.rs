//! The per-number dial cap: one sorted set of recent dials per number (scored by
//! the service clock's epoch ms), checked and recorded by `scripts/dial_cap.lua`.

use std::sync::LazyLock;

use redis::Script;

use super::{Store, StoreError};

static DIAL_CAP: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/dial_cap.lua")));

/// Where a number stands against its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapCheck {
    /// Under the cap: dials in the window (the one just recorded included).
    Under { dials: u32 },
    /// At the cap until the oldest dial leaves the window (epoch ms).
    Reached { until_ms: i64 },
}

/// One use of the cap: when, over what window, how many dials at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapWindow {
    pub now_ms: i64,
    pub window_ms: i64,
    pub cap: u32,
    /// How long the key lives untouched, in real milliseconds.
    pub expire_ms: i64,
}

impl Store {
    /// Checks `number` against the cap; with `record` (a unique member), also
    /// counts a dial now when under it, in the same script.
    pub async fn dial_cap(
        &self,
        number: &str,
        at: CapWindow,
        record: Option<&str>,
    ) -> Result<CapCheck, StoreError> {
        let member = record.unwrap_or_default();
        let (allowed, value): (i64, i64) = DIAL_CAP
            .key(self.keys().dial_attempts(number))
            .arg(at.now_ms)
            .arg(at.window_ms)
            .arg(at.cap)
            .arg(member)
            .arg(at.expire_ms.max(1))
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok(if allowed == 1 {
            CapCheck::Under {
                dials: value.clamp(0, u32::MAX as i64) as u32,
            }
        } else {
            CapCheck::Reached { until_ms: value }
        })
    }

    /// Takes a counted dial (its member) back off the number's count.
    pub async fn dial_cap_forget(&self, number: &str, member: &str) -> Result<(), StoreError> {
        let mut c = self.worker_conn().await;
        let _: i64 = redis::cmd("ZREM")
            .arg(self.keys().dial_attempts(number))
            .arg(member)
            .query_async(&mut c)
            .await?;
        Ok(())
    }
}
