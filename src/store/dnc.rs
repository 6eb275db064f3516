//! The tenant's do-not-call list: one hash, number -> entry JSON.

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::{Store, StoreError};

static LIFT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/dnc_lift.lua")));

/// What an opt-in did to a number's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lift {
    Lifted,
    /// Listed by another source (the API, a voice opt-out): kept.
    Kept,
    NotListed,
}

impl Store {
    pub async fn dnc_add(&self, number: &str, entry_json: &str) -> Result<bool, StoreError> {
        let mut c = self.worker_conn().await;
        let added: bool = c.hset_nx(self.keys.dnc(), number, entry_json).await?;
        Ok(added)
    }

    pub async fn dnc_remove(&self, number: &str) -> Result<bool, StoreError> {
        let mut c = self.worker_conn().await;
        let removed: u32 = c.hdel(self.keys.dnc(), number).await?;
        Ok(removed > 0)
    }

    pub async fn dnc_get(&self, number: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.worker_conn().await;
        Ok(c.hget(self.keys.dnc(), number).await?)
    }

    /// Removes `number`'s entry only if `source` added it, in one script.
    pub async fn dnc_lift(&self, number: &str, source: &str) -> Result<Lift, StoreError> {
        let mut c = self.worker_conn().await;
        let done: i64 = LIFT
            .key(self.keys.dnc())
            .arg(number)
            .arg(source)
            .invoke_async(&mut c)
            .await?;
        Ok(match done {
            1 => Lift::Lifted,
            0 => Lift::Kept,
            _ => Lift::NotListed,
        })
    }
}
