//! Holding a campaign contact whose stored state cannot be read: never dialed,
//! never dropped, counted once in its shard's `errors` counter.

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::keys::shard_of;
use super::{Store, StoreError};

static HOLD: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/hold_unreadable.lua")));

impl Store {
    /// Holds contact `idx` until `recheck_ms` and drops its lease; true the
    /// first time it is held (see `scripts/hold_unreadable.lua`).
    pub async fn hold_unreadable(
        &self,
        id: &str,
        shards: u32,
        idx: u32,
        recheck_ms: i64,
    ) -> Result<bool, StoreError> {
        let k = self.keys();
        let shard = shard_of(idx, shards);
        let mut c = self.conn();
        let first: i64 = HOLD
            .key(k.campaign_due(id, shard))
            .key(k.campaign_unreadable(id, shard))
            .key(k.campaign_shard(id, shard))
            .arg(idx)
            .arg(recheck_ms)
            .invoke_async(&mut c)
            .await?;
        // The lease is in the campaign's slot, a separate command.
        let _: () = c.zrem(k.campaign_leases(id), idx).await?;
        Ok(first == 1)
    }
}
