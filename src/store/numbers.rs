//! Which tenant holds which phone number: one global index (number -> tenant)
//! and each tenant's set of numbers, under one hash tag so every change is one
//! script. A number belongs to at most one tenant; a claim by another tenant
//! fails and names the holder.
//!
//! The methods act for the store's tenant (`Store::for_tenant`), except
//! [`Store::number_tenant`], which resolves any number (inbound webhooks).

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::{keys, Store, StoreError};

static CLAIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/number_claim.lua")));
static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/number_release.lua")));
static SET: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/number_set.lua")));

/// What a claim did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberClaim {
    /// The number is this tenant's now.
    Claimed,
    /// It already was.
    AlreadyYours,
    /// Another tenant holds it (its id); nothing changed.
    HeldBy(String),
}

/// Another tenant holds `number`; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberHeld {
    pub number: String,
    pub holder: String,
}

impl Store {
    /// Makes `number` this store's tenant's, unless another tenant holds it.
    pub async fn claim_number(&self, number: &str) -> Result<NumberClaim, StoreError> {
        let tenant = self.keys.tenant();
        let mut c = self.conn();
        let (code, holder): (u8, String) = CLAIM
            .key(keys::number_owners())
            .key(keys::tenant_numbers(tenant))
            .arg(number)
            .arg(tenant)
            .invoke_async(&mut c)
            .await?;
        Ok(match code {
            1 => NumberClaim::Claimed,
            2 => NumberClaim::AlreadyYours,
            _ => NumberClaim::HeldBy(holder),
        })
    }

    /// Gives `number` up; `false` (and nothing changed) if this tenant did not hold it.
    pub async fn release_number(&self, number: &str) -> Result<bool, StoreError> {
        let tenant = self.keys.tenant();
        let mut c = self.conn();
        let released: u8 = RELEASE
            .key(keys::number_owners())
            .key(keys::tenant_numbers(tenant))
            .arg(number)
            .arg(tenant)
            .invoke_async(&mut c)
            .await?;
        Ok(released == 1)
    }

    /// Makes this tenant's numbers exactly `numbers` (claiming the new ones,
    /// releasing the others), or changes nothing if another tenant holds one.
    pub async fn set_numbers(
        &self,
        numbers: &[String],
    ) -> Result<Result<(), NumberHeld>, StoreError> {
        let tenant = self.keys.tenant();
        let mut c = self.conn();
        let reply: Vec<String> = SET
            .key(keys::number_owners())
            .key(keys::tenant_numbers(tenant))
            .arg(tenant)
            .arg(numbers)
            .invoke_async(&mut c)
            .await?;
        match reply.as_slice() {
            [ok] if ok == "ok" => Ok(Ok(())),
            [_, number, holder] => Ok(Err(NumberHeld {
                number: number.clone(),
                holder: holder.clone(),
            })),
            _ => Err(StoreError::Corrupt(format!(
                "number_set.lua answered {reply:?}"
            ))),
        }
    }

    /// The numbers this tenant holds, sorted.
    pub async fn numbers(&self) -> Result<Vec<String>, StoreError> {
        let mut c = self.conn();
        let mut numbers: Vec<String> = c.smembers(keys::tenant_numbers(self.keys.tenant())).await?;
        numbers.sort();
        Ok(numbers)
    }

    /// The tenant holding `number`, whichever tenant this store acts for. One `HGET`.
    pub async fn number_tenant(&self, number: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.worker_conn().await;
        Ok(c.hget(keys::number_owners(), number).await?)
    }
}
