//! Side effects a transition owes outside its record's slot: the do-not-call
//! entry of an opt-out (the list is one tenant-wide hash, in another Redis
//! Cluster slot than the call). Exactly once, with the transition:
//!
//! 1. before the transition, the record's key joins the pending effects
//!    ([`Store::expect_effect`]; harmless if the transition never happens);
//! 2. the transition script writes the effect into the record (field `fx`)
//!    with the new state, or not at all;
//! 3. after it, [`Store::perform_effect`] adds the entry (only if absent) and
//!    takes the record off the pending effects, in one script.
//!
//! An instance that dies between 2 and 3 leaves the record pending; the
//! reaper (`app::effects`) finds it and performs what its `fx` says, or drops
//! it when `fx` is absent (the transition never happened: a pending entry
//! older than any write deadline can no longer become one).

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

static EFFECT_DONE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/effect_done.lua")));
static EFFECT_DROP: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/effect_drop.lua")));

/// A side effect as the record keeps it (field `fx`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// Add `number` to the do-not-call list with this entry (JSON).
    DoNotCall { number: String, entry: String },
}

impl Effect {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("effects serialize")
    }
}

impl Store {
    /// Marks the record `record_key` as owing an effect, before the transition
    /// that records it.
    pub async fn expect_effect(&self, record_key: &str) -> Result<(), StoreError> {
        let mut c = self.worker_conn().await;
        let _: i64 = c
            .zadd(self.keys.pending_effects(), record_key, self.redis_now_ms())
            .await?;
        Ok(())
    }

    /// Performs `effect` for the record `record_key` and takes it off the
    /// pending effects. `true` when the number was added now.
    pub async fn perform_effect(
        &self,
        record_key: &str,
        effect: &Effect,
    ) -> Result<bool, StoreError> {
        let Effect::DoNotCall { number, entry } = effect;
        let added: i64 = EFFECT_DONE
            .key(self.keys.dnc())
            .key(self.keys.pending_effects())
            .arg(number)
            .arg(entry)
            .arg(record_key)
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok(added == 1)
    }

    /// Records pending since `older_than_ms` ago or longer (at most
    /// `limit`), and the time (Redis's clock, epoch ms) they were looked up by.
    pub async fn stale_effects(
        &self,
        older_than_ms: i64,
        limit: usize,
    ) -> Result<(Vec<String>, i64), StoreError> {
        let mut c = self.conn();
        let before = self.redis_now_ms() - older_than_ms;
        let stale = c
            .zrangebyscore_limit(
                self.keys.pending_effects(),
                "-inf",
                before,
                0,
                limit as isize,
            )
            .await?;
        Ok((stale, before))
    }

    /// The effect the record `record_key` owes, as its transition wrote it.
    pub async fn owed_effect(&self, record_key: &str) -> Result<Option<Effect>, StoreError> {
        let mut c = self.conn();
        let fx: Option<String> = c.hget(record_key, "fx").await?;
        fx.map(|json| {
            serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("effect of {record_key}: {e}")))
        })
        .transpose()
    }

    /// Takes a record that owes nothing off the pending effects, unless it
    /// was marked pending again after `before` (a new transition under way).
    pub async fn drop_pending_effect(
        &self,
        record_key: &str,
        before: i64,
    ) -> Result<(), StoreError> {
        let _: i64 = EFFECT_DROP
            .key(self.keys.pending_effects())
            .arg(record_key)
            .arg(before)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// How many records are pending (for checks and tests).
    pub async fn pending_effects(&self) -> Result<u64, StoreError> {
        let mut c = self.conn();
        Ok(c.zcard(self.keys.pending_effects()).await?)
    }
}
