//! A durable outbox for outgoing webhook deliveries, shared by all instances.

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::{Store, StoreError};

static CLAIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/outbox_claim.lua")));

impl Store {
    pub async fn outbox_push(
        &self,
        id: &str,
        item_json: &str,
        due_ms: i64,
    ) -> Result<(), StoreError> {
        let k = self.keys();
        let _: () = redis::pipe()
            .atomic()
            .hset(k.outbox_items(), id, item_json)
            .ignore()
            .zadd(k.outbox(), id, due_ms)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Claims due items for `lease_ms`: (id, item JSON).
    pub async fn outbox_claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        max: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let k = self.keys();
        let flat: Vec<String> = CLAIM
            .key(k.outbox())
            .key(k.outbox_items())
            .arg(now_ms)
            .arg(lease_ms)
            .arg(max)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(flat
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect())
    }

    pub async fn outbox_done(&self, id: &str) -> Result<(), StoreError> {
        let k = self.keys();
        let _: () = redis::pipe()
            .atomic()
            .zrem(k.outbox(), id)
            .ignore()
            .hdel(k.outbox_items(), id)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Schedules another attempt with the item's updated JSON.
    pub async fn outbox_retry(
        &self,
        id: &str,
        item_json: &str,
        due_ms: i64,
    ) -> Result<(), StoreError> {
        self.outbox_push(id, item_json, due_ms).await
    }

    pub async fn outbox_len(&self) -> Result<u64, StoreError> {
        Ok(self.conn().zcard(self.keys().outbox()).await?)
    }
}
