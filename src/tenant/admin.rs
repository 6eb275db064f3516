//! What the admin API (and startup) does to tenants: create, change, delete,
//! issue and revoke tokens. Redis first, then this instance's registry.

use serde::Serialize;

use super::model::{Defaults, Tenant, TenantFields};
use super::registry::Tenants;
use super::tokens::{new_api_token, new_events_secret, new_token_id, token_hash, TokenEntry};
use crate::phone::E164;
use crate::render::UNNAMED_TENANT;
use crate::store::{NumberHeld, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("tenant '{0}' does not exist")]
    NotFound(String),
    #[error("id: tenant '{0}' already exists")]
    Exists(String),
    #[error("id: '{0}' is reserved for the tenant of TENANT_ID")]
    Reserved(String),
    #[error("id: cannot be changed")]
    IdChange,
    #[error("numbers: {} is held by another tenant", crate::phone::mask(&.0.number))]
    NumberHeld(NumberHeld),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("token '{0}' does not exist")]
    NoSuchToken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TenantError {
    fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::Invalid {
            field: field.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// A token as issued: shown once.
#[derive(Debug, Serialize)]
pub struct Issued {
    pub api_token: String,
    pub token_id: String,
}

/// A new tenant with its first token and its events secret (shown once).
#[derive(Debug, Serialize)]
pub struct Created {
    pub tenant: Tenant,
    pub api_token: String,
    pub token_id: String,
    pub events_secret: String,
}

/// A token as listed: never the token itself.
#[derive(Debug, Serialize)]
pub struct TokenInfo {
    pub token_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub source: String,
}

fn defaults(tenants: &Tenants) -> Defaults<'_> {
    let s = &tenants.root().settings;
    Defaults {
        timezone: s.timezone_default,
        call_purpose: &s.call_purpose,
    }
}

/// Refuses an events URL whose host resolves to a private address (unless
/// `ALLOW_PRIVATE_WEBHOOKS`).
async fn check_events_url(tenants: &Tenants, fields: &TenantFields) -> Result<(), TenantError> {
    let Some(Some(url)) = &fields.events_url else {
        return Ok(());
    };
    let parsed =
        url::Url::parse(url.as_str()).map_err(|e| TenantError::invalid("events_url", e))?;
    crate::egress::resolve(&parsed, tenants.root().settings.allow_private_webhooks)
        .await
        .map_err(|e| TenantError::invalid("events_url", e))?;
    Ok(())
}

/// Creates a tenant: its id in the index (taken atomically), its numbers
/// (all or nothing), its record, first token and events secret.
pub async fn create(tenants: &Tenants, fields: TenantFields) -> Result<Created, TenantError> {
    check_events_url(tenants, &fields).await?;
    let root = tenants.root();
    let tenant = fields
        .create(defaults(tenants), root.clock.now())
        .map_err(|m| TenantError::invalid(m.field, m.reason))?;
    if tenant.id == UNNAMED_TENANT && tenants.configured_id() != UNNAMED_TENANT {
        return Err(TenantError::Reserved(tenant.id));
    }
    if !root.store.add_tenant_id(&tenant.id).await? {
        return Err(TenantError::Exists(tenant.id));
    }
    let store = root.store.for_tenant(&tenant.id);
    match store.set_numbers(&tenant.number_strings()).await {
        Ok(Ok(())) => {}
        Ok(Err(held)) => {
            root.store.remove_tenant_id(&tenant.id).await?;
            return Err(TenantError::NumberHeld(held));
        }
        Err(e) => {
            let _ = root.store.remove_tenant_id(&tenant.id).await;
            return Err(e.into());
        }
    }
    store.save_tenant(&to_json(&tenant)).await?;
    let events_secret = new_events_secret();
    store.set_events_secret(&events_secret).await?;
    let issued = issue(tenants, &tenant.id, "api").await?;
    tracing::info!(tenant = %tenant.id, "tenant created");
    tenants.install(tenant.clone());
    Ok(Created {
        tenant,
        api_token: issued.api_token,
        token_id: issued.token_id,
        events_secret,
    })
}

/// The tenant as stored (the configured tenant: as the settings make it,
/// until the admin API changes it).
pub async fn get(tenants: &Tenants, id: &str) -> Result<Tenant, TenantError> {
    match stored(tenants, id).await? {
        Some(tenant) => Ok(tenant),
        None if id == tenants.configured_id() => tenants
            .configured()
            .ok_or_else(|| TenantError::NotFound(id.to_string())),
        None => Err(TenantError::NotFound(id.to_string())),
    }
}

/// The tenant's stored record, if it has one.
pub(super) async fn stored(tenants: &Tenants, id: &str) -> Result<Option<Tenant>, TenantError> {
    let Some(json) = tenants.root().store.for_tenant(id).load_tenant().await? else {
        return Ok(None);
    };
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("tenant {id}: {e}")).into())
}

/// Every tenant, by id.
pub async fn list(tenants: &Tenants) -> Result<Vec<Tenant>, TenantError> {
    let store = &tenants.root().store;
    let ids = store.tenant_ids().await?;
    let records = store.load_tenants(&ids).await?;
    let mut all: Vec<Tenant> = ids
        .iter()
        .zip(records)
        .filter_map(|(id, json)| {
            let json = json?;
            serde_json::from_str(&json)
                .inspect_err(
                    |e| tracing::warn!(tenant = %id, error = %e, "tenant record unreadable"),
                )
                .ok()
        })
        .collect();
    if let Some(configured) = tenants.configured() {
        if !all.iter().any(|t| t.id == configured.id) {
            all.push(configured);
        }
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

/// Applies a change; new numbers are claimed (all or nothing) before the
/// record is written.
pub async fn update(
    tenants: &Tenants,
    id: &str,
    fields: TenantFields,
) -> Result<Tenant, TenantError> {
    if fields.id.as_ref().is_some_and(|given| given.as_str() != id) {
        return Err(TenantError::IdChange);
    }
    check_events_url(tenants, &fields).await?;
    let mut tenant = get(tenants, id).await?;
    let numbers_changed = fields.numbers.is_some();
    tenant.apply(fields, tenants.root().clock.now());
    save(tenants, &tenant, numbers_changed).await?;
    Ok(tenant)
}

/// Adds a number to the tenant (one it bought or attached): claimed for it
/// (another tenant's -> `NumberHeld`, nothing changed), then in its record,
/// so its caller IDs and this instance's number index include it at once.
pub async fn add_number(tenants: &Tenants, id: &str, number: &E164) -> Result<Tenant, TenantError> {
    let mut tenant = get(tenants, id).await?;
    if !tenant.numbers.contains(number) {
        tenant.numbers.push(number.clone());
        tenant.updated_at = tenants.root().clock.now();
        save(tenants, &tenant, true).await?;
    }
    Ok(tenant)
}

/// Removes a number from the tenant's record and releases it.
pub async fn remove_number(
    tenants: &Tenants,
    id: &str,
    number: &E164,
) -> Result<Tenant, TenantError> {
    let mut tenant = get(tenants, id).await?;
    if tenant.numbers.contains(number) {
        tenant.numbers.retain(|n| n != number);
        tenant.updated_at = tenants.root().clock.now();
        save(tenants, &tenant, true).await?;
    } else {
        tenants
            .root()
            .store
            .for_tenant(id)
            .release_number(number.as_str())
            .await?;
    }
    Ok(tenant)
}

/// Writes a tenant (claiming its numbers first when they changed) and makes it current here.
pub(super) async fn save(
    tenants: &Tenants,
    tenant: &Tenant,
    numbers_changed: bool,
) -> Result<(), TenantError> {
    let store = tenants.root().store.for_tenant(&tenant.id);
    if numbers_changed {
        if let Err(held) = store.set_numbers(&tenant.number_strings()).await? {
            return Err(TenantError::NumberHeld(held));
        }
    }
    store.save_tenant(&to_json(tenant)).await?;
    tenants.install(tenant.clone());
    Ok(())
}

/// Deletes a tenant: tokens revoked, numbers released, record gone; its
/// calls and campaigns are no longer reachable through the API.
pub async fn delete(tenants: &Tenants, id: &str) -> Result<(), TenantError> {
    if id == tenants.configured_id() {
        return Err(TenantError::invalid(
            "id",
            "the tenant of TENANT_ID is made from the settings and cannot be deleted",
        ));
    }
    get(tenants, id).await?;
    let root = tenants.root();
    let store = root.store.for_tenant(id);
    store.delete_tenant().await?;
    store
        .set_numbers(&[])
        .await?
        .map_err(TenantError::NumberHeld)?;
    root.store.remove_tenant_id(id).await?;
    tenants.remove(id);
    tracing::info!(tenant = %id, "tenant deleted");
    Ok(())
}

/// Issues another token to an existing tenant.
pub async fn issue_token(tenants: &Tenants, id: &str) -> Result<Issued, TenantError> {
    get(tenants, id).await?;
    issue(tenants, id, "api").await
}

async fn issue(tenants: &Tenants, id: &str, source: &str) -> Result<Issued, TenantError> {
    let api_token = new_api_token();
    let token_id = new_token_id();
    add_token_hash(tenants, id, &token_id, &token_hash(&api_token), source).await?;
    tracing::info!(tenant = %id, token_id, "token issued");
    Ok(Issued {
        api_token,
        token_id,
    })
}

pub(super) async fn add_token_hash(
    tenants: &Tenants,
    id: &str,
    token_id: &str,
    sha256: &str,
    source: &str,
) -> Result<(), TenantError> {
    let entry = TokenEntry {
        sha256: sha256.to_string(),
        created_at: tenants.root().clock.now(),
        source: source.to_string(),
    };
    let json = serde_json::to_string(&entry).expect("entries serialize");
    tenants
        .root()
        .store
        .for_tenant(id)
        .add_token(token_id, sha256, &json)
        .await?;
    Ok(())
}

/// Revokes one token: the next request with it is refused.
pub async fn revoke_token(tenants: &Tenants, id: &str, token_id: &str) -> Result<(), TenantError> {
    get(tenants, id).await?;
    if !tenants
        .root()
        .store
        .for_tenant(id)
        .revoke_token(token_id)
        .await?
    {
        return Err(TenantError::NoSuchToken(token_id.to_string()));
    }
    tracing::info!(tenant = %id, token_id, "token revoked");
    Ok(())
}

/// The tenant's tokens (ids and dates, never the tokens).
pub async fn tokens(tenants: &Tenants, id: &str) -> Result<Vec<TokenInfo>, TenantError> {
    let all = tenants.root().store.for_tenant(id).tokens().await?;
    Ok(all
        .into_iter()
        .filter_map(|(token_id, json)| {
            let entry: TokenEntry = serde_json::from_str(&json).ok()?;
            Some(TokenInfo {
                token_id,
                created_at: entry.created_at,
                source: entry.source,
            })
        })
        .collect())
}

fn to_json(tenant: &Tenant) -> String {
    serde_json::to_string(tenant).expect("tenants serialize")
}
