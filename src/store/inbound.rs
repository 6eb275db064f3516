//! What inbound calls keep outside their records: the round-robin rotation
//! shared by every instance and the missed-call text's cooldown per caller.

use std::time::Duration;

use redis::AsyncCommands;

use super::{Store, StoreError};

impl Store {
    /// The next place in the tenant's round-robin rotation (one `INCR`).
    pub async fn next_ring_turn(&self) -> Result<u64, StoreError> {
        let mut c = self.worker_conn().await;
        let n: i64 = c.incr(self.keys.ring_turn(), 1).await?;
        Ok(n.saturating_sub(1).max(0) as u64)
    }

    /// Claims the missed-call text to `caller` for `ttl` (real time); `false`:
    /// already claimed within it. One `SET NX PX`.
    pub async fn claim_missed_call_text(
        &self,
        caller: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut c = self.worker_conn().await;
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(ms));
        let set: Option<String> = c
            .set_options(self.keys.missed_text(caller), "1", options)
            .await?;
        Ok(set.is_some())
    }
}
