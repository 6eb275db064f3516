//! The tenant's do-not-call list: one hash, number -> entry JSON.

use redis::AsyncCommands;

use super::{Store, StoreError};

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
}
