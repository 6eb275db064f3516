//! The per-number dial cap: one sorted set of recent dials per number (scored by
//! the service clock's epoch ms), checked and recorded by `scripts/dial_cap.lua`
//! together with the number's call in progress (one string per number, the
//! call's id, with a lease).

use std::sync::LazyLock;

use redis::Script;

use super::{Store, StoreError};

static DIAL_CAP: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/dial_cap.lua")));
static DIAL_CLAIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/dial_claim.lua")));
static DIAL_FORGET: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/dial_forget.lua")));

/// Where a number stands against its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapCheck {
    /// Under the cap: dials in the window (the one just recorded included).
    Under { dials: u32 },
    /// At the cap until the oldest dial leaves the window (epoch ms).
    Reached { until_ms: i64 },
    /// Another call to the number is in progress; its claim lasts `lease_ms` more at most.
    Busy { lease_ms: i64 },
}

/// One use of the cap: when, over what window, how many dials at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapWindow {
    pub now_ms: i64,
    pub window_ms: i64,
    pub cap: u32,
    /// How long the key lives untouched, in real milliseconds.
    pub expire_ms: i64,
    /// How long a claim on the number lasts at most, in real milliseconds.
    pub lease_ms: i64,
}

impl Store {
    /// Checks `number`: held by a call other than `call_id`, else against the
    /// cap; with `record` (a unique member), also counts a dial now when
    /// allowed and claims the number for `call_id`, in the same script.
    pub async fn dial_cap(
        &self,
        number: &str,
        at: CapWindow,
        record: Option<(&str, &str)>,
    ) -> Result<CapCheck, StoreError> {
        let (member, call_id) = record.unwrap_or_default();
        let (allowed, value): (i64, i64) = DIAL_CAP
            .key(self.keys().dial_attempts(number))
            .key(self.keys().number_busy(number))
            .arg(at.now_ms)
            .arg(at.window_ms)
            .arg(at.cap)
            .arg(member)
            .arg(at.expire_ms.max(1))
            .arg(call_id)
            .arg(at.lease_ms.max(1))
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok(match allowed {
            1 => CapCheck::Under {
                dials: value.clamp(0, u32::MAX as i64) as u32,
            },
            0 => CapCheck::Reached { until_ms: value },
            _ => CapCheck::Busy { lease_ms: value },
        })
    }

    /// Holds `number` for `call_id` for `lease_ms` (real time) from now, right
    /// before its dial goes out. `false`: another call holds it.
    pub async fn dial_claim(
        &self,
        number: &str,
        call_id: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let held: i64 = DIAL_CLAIM
            .key(self.keys().number_busy(number))
            .arg(call_id)
            .arg(lease_ms.max(1))
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok(held == 1)
    }

    /// Takes a counted dial (its member) back off the number's count, and the
    /// claim `call_id` holds on the number; without a member, only the claim.
    pub async fn dial_cap_forget(
        &self,
        number: &str,
        member: Option<&str>,
        call_id: &str,
    ) -> Result<(), StoreError> {
        let _: i64 = DIAL_FORGET
            .key(self.keys().dial_attempts(number))
            .key(self.keys().number_busy(number))
            .arg(member.unwrap_or_default())
            .arg(call_id)
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok(())
    }
}
