//! Single calls scheduled for their callee's next calling window: one sorted
//! set of call ids by due time, claimed with a lease so that exactly one
//! instance handles each due call at a time and a dead instance's claims come
//! back when their lease ends.

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::{Store, StoreError};

static CLAIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/scheduled_claim.lua")));

impl Store {
    /// Schedules (or reschedules) a call for `due_ms`.
    pub async fn schedule_call(&self, call_id: &str, due_ms: i64) -> Result<(), StoreError> {
        let mut c = self.conn();
        let _: () = c.zadd(self.keys.scheduled_calls(), call_id, due_ms).await?;
        Ok(())
    }

    /// Up to `limit` calls due at `now_ms`, each held until `lease_end_ms`.
    pub async fn claim_due_calls(
        &self,
        now_ms: i64,
        lease_end_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut c = self.conn();
        Ok(CLAIM
            .key(self.keys.scheduled_calls())
            .arg(now_ms)
            .arg(lease_end_ms)
            .arg(limit)
            .invoke_async(&mut c)
            .await?)
    }

    /// The call is dialed or given up: no longer scheduled.
    pub async fn unschedule_call(&self, call_id: &str) -> Result<(), StoreError> {
        let mut c = self.conn();
        let _: () = c.zrem(self.keys.scheduled_calls(), call_id).await?;
        Ok(())
    }
}
