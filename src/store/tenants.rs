//! Tenants: their records (under each tenant's prefix), the global index of
//! tenant ids, API tokens (stored as SHA-256, found in one `HGET`), the
//! events signing secret, and the API rate limiters.

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::{keys, Store, StoreError};

static RATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/rate_limit.lua")));

/// The holder of a token, as the index says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub tenant: String,
    pub token_id: String,
}

impl Store {
    /// Adds a tenant id to the index; `false` if it was there already.
    pub async fn add_tenant_id(&self, id: &str) -> Result<bool, StoreError> {
        let mut c = self.conn();
        let added: u32 = c.sadd(keys::tenant_index(), id).await?;
        Ok(added == 1)
    }

    pub async fn remove_tenant_id(&self, id: &str) -> Result<(), StoreError> {
        let mut c = self.conn();
        let _: u32 = c.srem(keys::tenant_index(), id).await?;
        Ok(())
    }

    /// Every tenant id, sorted.
    pub async fn tenant_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut c = self.conn();
        let mut ids: Vec<String> = c.smembers(keys::tenant_index()).await?;
        ids.sort();
        Ok(ids)
    }

    /// This tenant's record (JSON), if it has one.
    pub async fn load_tenant(&self) -> Result<Option<String>, StoreError> {
        let mut c = self.conn();
        Ok(c.get(self.keys.tenant_record()).await?)
    }

    /// The records of `ids` (JSON), in one pipeline.
    pub async fn load_tenants(&self, ids: &[String]) -> Result<Vec<Option<String>>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.get(super::Keys::new(id).tenant_record());
        }
        let mut c = self.conn();
        Ok(pipe.query_async(&mut c).await?)
    }

    pub async fn save_tenant(&self, json: &str) -> Result<(), StoreError> {
        let mut c = self.conn();
        let _: () = c.set(self.keys.tenant_record(), json).await?;
        Ok(())
    }

    /// Forgets this tenant's record, tokens and events secret (its calls and
    /// campaigns stay until they expire).
    pub async fn delete_tenant(&self) -> Result<(), StoreError> {
        for (token_id, _) in self.tokens().await? {
            self.revoke_token(&token_id).await?;
        }
        let mut c = self.conn();
        let _: () = redis::pipe()
            .del(self.keys.tenant_record())
            .ignore()
            .del(self.keys.tenant_tokens())
            .ignore()
            .del(self.keys.events_secret())
            .ignore()
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    /// Stores a token of this tenant by its SHA-256 (hex): in the tenant's
    /// list first, then in the index that makes it usable.
    pub async fn add_token(
        &self,
        token_id: &str,
        sha256: &str,
        entry_json: &str,
    ) -> Result<(), StoreError> {
        let mut c = self.conn();
        let _: () = c
            .hset(self.keys.tenant_tokens(), token_id, entry_json)
            .await?;
        let owner = format!("{} {token_id}", self.keys.tenant());
        let _: () = c.hset(keys::token_index(), sha256, owner).await?;
        Ok(())
    }

    /// This tenant's tokens: id -> entry JSON.
    pub async fn tokens(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut c = self.conn();
        let mut all: Vec<(String, String)> = c.hgetall(self.keys.tenant_tokens()).await?;
        all.sort();
        Ok(all)
    }

    /// Revokes one of this tenant's tokens; `false` if it has no such token.
    /// The entry JSON must hold `"sha256"`.
    pub async fn revoke_token(&self, token_id: &str) -> Result<bool, StoreError> {
        let mut c = self.conn();
        let entry: Option<String> = c.hget(self.keys.tenant_tokens(), token_id).await?;
        let Some(entry) = entry else {
            return Ok(false);
        };
        let sha = serde_json::from_str::<serde_json::Value>(&entry)
            .ok()
            .and_then(|v| v["sha256"].as_str().map(str::to_string))
            .ok_or_else(|| StoreError::Corrupt(format!("token {token_id}: no sha256")))?;
        // Unusable first, then forgotten.
        let _: u32 = c.hdel(keys::token_index(), &sha).await?;
        let _: u32 = c.hdel(self.keys.tenant_tokens(), token_id).await?;
        Ok(true)
    }

    /// Who holds the token with this SHA-256 (hex). One `HGET`.
    pub async fn token_owner(&self, sha256: &str) -> Result<Option<TokenOwner>, StoreError> {
        let mut c = self.worker_conn().await;
        let owner: Option<String> = c.hget(keys::token_index(), sha256).await?;
        Ok(owner.and_then(|o| {
            let (tenant, token_id) = o.split_once(' ')?;
            Some(TokenOwner {
                tenant: tenant.to_string(),
                token_id: token_id.to_string(),
            })
        }))
    }

    pub async fn set_events_secret(&self, secret: &str) -> Result<(), StoreError> {
        let mut c = self.conn();
        let _: () = c.set(self.keys.events_secret(), secret).await?;
        Ok(())
    }

    pub async fn events_secret(&self) -> Result<Option<String>, StoreError> {
        let mut c = self.conn();
        Ok(c.get(self.keys.events_secret()).await?)
    }

    /// One request against the limiter at `key` (`keys::ip_rate` or
    /// `keys::token_rate`): `None` when allowed, else how long until it would
    /// be (microseconds).
    pub async fn rate_limit(
        &self,
        key: &str,
        per_s: f64,
        burst: u32,
    ) -> Result<Option<u64>, StoreError> {
        let interval_us = (1_000_000.0 / per_s).ceil().max(1.0) as u64;
        let mut c = self.worker_conn().await;
        let wait: u64 = RATE
            .key(key)
            .arg(interval_us)
            .arg(burst.max(1))
            .invoke_async(&mut c)
            .await?;
        Ok((wait > 0).then_some(wait))
    }
}
