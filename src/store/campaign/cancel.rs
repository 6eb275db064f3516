//! Settling a canceled campaign's contacts that were never dialed, one bounded
//! step per shard at a time (see `scripts/cancel.lua`), so canceling a huge
//! campaign never holds Redis or a request for long.

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use crate::store::{Store, StoreError};

static CANCEL: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/cancel.lua")));

/// What one step did in one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelStep {
    /// Contacts settled `canceled` by this step.
    pub settled: u64,
    /// Unfinished contacts left in the shard (dials under way, held ones, and
    /// any beyond this step's bound).
    pub left: u64,
}

impl Store {
    /// Contacts of a campaign under a lease that has not expired at `now_ms`:
    /// a dispatcher may be about to dial them.
    pub async fn live_leases(&self, id: &str, now_ms: i64) -> Result<Vec<u32>, StoreError> {
        let held: Vec<u32> = self
            .conn()
            .zrangebyscore(self.keys().campaign_leases(id), now_ms, "+inf")
            .await?;
        Ok(held)
    }

    /// Settles up to `most` never-dialed contacts of one shard of a canceled
    /// campaign, leaving alone dials under way and the contacts in `held`.
    pub async fn cancel_step(
        &self,
        id: &str,
        shard: u32,
        held: &[u32],
        most: u32,
    ) -> Result<CancelStep, StoreError> {
        let k = self.keys();
        let (settled, left): (u64, u64) = CANCEL
            .key(k.campaign_shard(id, shard))
            .key(k.campaign_states(id, shard))
            .key(k.campaign_due(id, shard))
            .key(k.campaign_retrying(id, shard))
            .arg(most)
            .arg(held)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(CancelStep { settled, left })
    }
}
