//! Answers remembered for `Idempotency-Key`: one string per key (JSON the caller
//! defines), claimed atomically before the work starts, so concurrent
//! duplicates run the work once. Key names in [`super::keys`], scripts in
//! `scripts/idem_*.lua`.

use std::sync::LazyLock;
use std::time::Duration;

use redis::{AsyncCommands, Script};
use sha2::{Digest, Sha256};

use super::{Store, StoreError};

static CLAIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/idem_claim.lua")));
static SWAP: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/idem_swap.lua")));

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free and now holds the pending marker: run the request.
    Claimed,
    /// The key was already taken: its value (a marker or an answer).
    Taken(String),
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn millis(d: Duration) -> u64 {
    d.as_millis().clamp(1, u64::MAX as u128) as u64
}

impl Store {
    fn idempotency_key(&self, key: &str) -> String {
        self.keys.idempotency(&sha256_hex(key.as_bytes()))
    }

    /// Puts `marker` under `key` for `ttl` if the key is free (SET NX), in one step.
    pub async fn idempotency_claim(
        &self,
        key: &str,
        marker: &str,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let found: Option<String> = CLAIM
            .key(self.idempotency_key(key))
            .arg(marker)
            .arg(millis(ttl))
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok(found.map_or(Claim::Claimed, Claim::Taken))
    }

    /// The value under `key`, if any.
    pub async fn idempotency_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .worker_conn()
            .await
            .get(self.idempotency_key(key))
            .await?)
    }

    /// Replaces `expected` (this request's marker) by `value` kept for `ttl`, or
    /// frees the key when `value` is `None`. `false`: the key held something else.
    pub async fn idempotency_swap(
        &self,
        key: &str,
        expected: &str,
        value: Option<&str>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let swapped: i64 = SWAP
            .key(self.idempotency_key(key))
            .arg(expected)
            .arg(value.unwrap_or(""))
            .arg(millis(ttl))
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok(swapped == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
