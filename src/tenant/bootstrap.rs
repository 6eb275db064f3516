//! Tenants at startup: the configured tenant (`TENANT_ID`, made from
//! `API_TOKEN`, `TWILIO_VOICE_NUMBER`, `COMPANY_NAME`, `CALL_PURPOSE`), then
//! those of `TENANTS_FILE`. The settings and the file win over earlier
//! changes to the same fields. The configured tenant's record is stored only
//! once the admin API changes it (until then it is made from the settings on
//! every start); its numbers are always claimed.

use super::admin::{self, TenantError};
use super::model::{Defaults, Message, Name, TenantFields, TenantId};
use super::registry::Tenants;
use super::tokens::{new_events_secret, TokenEntry};
use crate::campaign::create::input::FieldError;
use crate::config::{FileTenant, TenantsFile};
use crate::render::UNNAMED_TENANT;

/// Why startup cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{0}")]
    Settings(String),
    #[error("TENANTS_FILE {0}")]
    File(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

pub async fn run(tenants: &Tenants) -> Result<(), BootstrapError> {
    configured(tenants).await?;
    if let Some(file) = &tenants.root().settings.tenants_file {
        for entry in &file.tenants {
            from_file(tenants, file, entry).await?;
        }
    }
    tenants.refresh().await?;
    Ok(())
}

fn setting_error(name: &str, reason: impl std::fmt::Display) -> BootstrapError {
    BootstrapError::Settings(format!("configuration: {name}: {reason}"))
}

/// The tenant of the single-tenant settings.
async fn configured(tenants: &Tenants) -> Result<(), BootstrapError> {
    let root = tenants.root().clone();
    let s = &root.settings;
    let company =
        Name::try_from(s.company_name.clone()).map_err(|e| setting_error("COMPANY_NAME", e))?;
    let purpose =
        Message::try_from(s.call_purpose.clone()).map_err(|e| setting_error("CALL_PURPOSE", e))?;
    let fields = TenantFields {
        name: Some(company.clone()),
        company_name: Some(company),
        call_purpose: Some(purpose),
        ..TenantFields::default()
    };
    let stored = admin::stored(tenants, &s.tenant).await.map_err(other)?;
    let was_stored = stored.is_some();
    let mut tenant = match stored {
        Some(mut t) => {
            t.apply(
                TenantFields {
                    name: None,
                    ..fields
                },
                root.clock.now(),
            );
            t
        }
        None => TenantFields {
            id: Some(TenantId::configured(&s.tenant)),
            ..fields
        }
        .create(defaults(tenants), root.clock.now())
        .map_err(|m| setting_error("TENANT_ID", m))?,
    };
    // The voice number is the caller ID: first.
    let voice = s.twilio.voice_number.clone();
    tenant.numbers.retain(|n| *n != voice);
    tenant.numbers.insert(0, voice);
    root.store.add_tenant_id(&tenant.id).await?;
    let store = root.store.for_tenant(&tenant.id);
    if let Err(held) = store.set_numbers(&tenant.number_strings()).await? {
        return Err(setting_error(
            "TWILIO_VOICE_NUMBER",
            format!(
                "{} is held by tenant '{}'",
                crate::phone::mask(&held.number),
                held.holder
            ),
        ));
    }
    if was_stored {
        store
            .save_tenant(&serde_json::to_string(&tenant).expect("tenants serialize"))
            .await?;
    }
    tenants.set_configured(tenant);
    Ok(())
}

fn defaults(tenants: &Tenants) -> Defaults<'_> {
    let s = &tenants.root().settings;
    Defaults {
        timezone: s.timezone_default,
        call_purpose: &s.call_purpose,
    }
}

fn other(e: TenantError) -> BootstrapError {
    match e {
        TenantError::Store(e) => BootstrapError::Store(e),
        e => BootstrapError::Settings(e.to_string()),
    }
}

/// One tenant of the file: created or updated, its numbers claimed, its file
/// tokens made exactly those listed.
async fn from_file(
    tenants: &Tenants,
    file: &TenantsFile,
    entry: &FileTenant,
) -> Result<(), BootstrapError> {
    let fail = |message: String| BootstrapError::File(file.error(&entry.id, message));
    let fields: TenantFields = serde_path_to_error::deserialize(&entry.fields)
        .map_err(|e| fail(FieldError::from_serde(e, "tenant").to_string()))?;
    if entry.id == UNNAMED_TENANT && tenants.configured_id() != UNNAMED_TENANT
        || entry.id == tenants.configured_id()
    {
        return Err(fail(
            "id: is the tenant made from the settings (TENANT_ID)".into(),
        ));
    }
    let root = tenants.root().clone();
    let now = root.clock.now();
    let tenant = match admin::get(tenants, &entry.id).await {
        Ok(mut t) => {
            t.apply(TenantFields { id: None, ..fields }, now);
            t
        }
        Err(TenantError::NotFound(_)) => fields
            .create(defaults(tenants), now)
            .map_err(|m| fail(m.to_string()))?,
        Err(e) => return Err(other(e)),
    };
    root.store.add_tenant_id(&tenant.id).await?;
    admin::save(tenants, &tenant, true)
        .await
        .map_err(|e| match e {
            TenantError::NumberHeld(held) => fail(format!(
                "numbers: {} is held by tenant '{}'",
                crate::phone::mask(&held.number),
                held.holder
            )),
            e => other(e),
        })?;
    let store = root.store.for_tenant(&tenant.id);
    let wanted: Vec<(String, &String)> = entry
        .token_hashes
        .iter()
        .map(|h| (format!("file-{}", &h[..12]), h))
        .collect();
    for (token_id, json) in store.tokens().await? {
        let from_file = serde_json::from_str::<TokenEntry>(&json).is_ok_and(|t| t.source == "file");
        if from_file && !wanted.iter().any(|(id, _)| *id == token_id) {
            store.revoke_token(&token_id).await?;
        }
    }
    for (token_id, hash) in &wanted {
        admin::add_token_hash(tenants, &tenant.id, token_id, hash, "file")
            .await
            .map_err(other)?;
    }
    match &entry.events_secret {
        Some(secret) => store.set_events_secret(secret.expose()).await?,
        None if store.events_secret().await?.is_none() => {
            store.set_events_secret(&new_events_secret()).await?
        }
        None => {}
    }
    Ok(())
}
