//! This instance's copy of every tenant and its view of the application
//! (`AppState::for_tenant`), so a webhook finds its tenant without a Redis
//! round trip. Kept fresh by `refresh` (at startup, every few seconds in the
//! background, and at once on this instance's admin writes); a tenant another
//! instance just created is read from Redis on first use.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::model::Tenant;
use crate::app::inbound::InboundLine;
use crate::app::{AppState, TenantSettings};
use crate::inbound::Ringee;
use crate::store::StoreError;

/// One tenant and the application as it sees it.
pub struct TenantApp {
    pub tenant: Tenant,
    pub app: Arc<AppState>,
}

pub struct Tenants {
    /// The application built from the settings (the configured tenant's).
    root: Arc<AppState>,
    views: RwLock<HashMap<String, Arc<TenantApp>>>,
    /// Number -> the tenant holding it, from the views' records.
    numbers: RwLock<HashMap<String, String>>,
    /// The configured tenant as the settings make it: used while Redis holds
    /// no record of it (one is stored only once the admin API changes it).
    configured: RwLock<Option<Tenant>>,
}

impl Tenants {
    pub fn new(root: Arc<AppState>) -> Self {
        Self {
            root,
            views: RwLock::default(),
            numbers: RwLock::default(),
            configured: RwLock::default(),
        }
    }

    pub fn root(&self) -> &Arc<AppState> {
        &self.root
    }

    /// `TENANT_ID`: the tenant of callbacks whose URL names none.
    pub fn configured_id(&self) -> &str {
        &self.root.settings.tenant
    }

    /// Sets (and installs) the configured tenant as the settings make it.
    pub fn set_configured(&self, tenant: Tenant) {
        *self.configured.write().unwrap_or_else(|p| p.into_inner()) = Some(tenant.clone());
        self.install(tenant);
    }

    /// The configured tenant as the settings make it (see `set_configured`).
    pub fn configured(&self) -> Option<Tenant> {
        self.configured
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The tenant as this instance last saw it.
    pub fn get(&self, id: &str) -> Option<Arc<TenantApp>> {
        self.views
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// The tenant, read from Redis if this instance has not seen it yet.
    pub async fn resolve(&self, id: &str) -> Result<Option<Arc<TenantApp>>, StoreError> {
        if let Some(view) = self.get(id) {
            return Ok(Some(view));
        }
        let stored = self.root.store.for_tenant(id).load_tenant().await?;
        match stored {
            Some(json) => Ok(Some(self.install(parse(id, &json)?))),
            None if id == self.configured_id() => Ok(self.configured().map(|t| self.install(t))),
            None => Ok(None),
        }
    }

    /// Every tenant this instance knows, by id.
    pub fn all(&self) -> Vec<Arc<TenantApp>> {
        let mut all: Vec<_> = self
            .views
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.tenant.id.cmp(&b.tenant.id));
        all
    }

    /// The tenant holding `number`, as this instance last saw it.
    pub fn holder_of(&self, number: &str) -> Option<String> {
        self.numbers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(number)
            .cloned()
    }

    /// The tenant holding `number` and its view: the tenant of a call or text
    /// that came in to that number. No Redis round trip.
    pub fn by_number(&self, number: &str) -> Option<Arc<TenantApp>> {
        self.holder_of(number).and_then(|id| self.get(&id))
    }

    /// Keeps the number index in step with a view replaced or removed.
    fn reindex(&self, old: Option<&TenantApp>, new: Option<&TenantApp>) {
        let mut numbers = self.numbers.write().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = old {
            for n in &old.tenant.numbers {
                if numbers.get(n.as_str()) == Some(&old.tenant.id) {
                    numbers.remove(n.as_str());
                }
            }
        }
        if let Some(new) = new {
            for n in &new.tenant.numbers {
                numbers.insert(n.as_str().to_string(), new.tenant.id.clone());
            }
        }
    }

    /// Makes `tenant` current here; an unchanged tenant keeps its view (and
    /// the view's record cache).
    pub fn install(&self, tenant: Tenant) -> Arc<TenantApp> {
        let mut views = self.views.write().unwrap_or_else(|p| p.into_inner());
        if let Some(current) = views.get(&tenant.id) {
            if current.tenant == tenant {
                return current.clone();
            }
        }
        let settings = TenantSettings {
            id: tenant.id.clone(),
            company_name: tenant.company_name.as_str().to_string(),
            call_purpose: tenant.call_purpose.as_str().to_string(),
            numbers: tenant.numbers.clone(),
            max_cps: tenant.max_cps.map(|r| r.get()),
            events_url: tenant.events_url.as_ref().map(|u| u.as_str().to_string()),
            timezone: tenant.timezone.tz(),
            inbound: inbound_line(&tenant),
        };
        let view = Arc::new(TenantApp {
            app: self.root.for_tenant(&settings),
            tenant,
        });
        // Both under the views' lock (always taken first), so the number
        // index never disagrees with the views.
        let old = views.insert(view.tenant.id.clone(), view.clone());
        self.reindex(old.as_deref(), Some(&view));
        view
    }

    pub fn remove(&self, id: &str) {
        let mut views = self.views.write().unwrap_or_else(|p| p.into_inner());
        let old = views.remove(id);
        self.reindex(old.as_deref(), None);
    }

    /// Reads every tenant from Redis: one `SMEMBERS` and one pipeline of `GET`s.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let store = &self.root.store;
        let ids = store.tenant_ids().await?;
        let records = store.load_tenants(&ids).await?;
        let mut seen = std::collections::HashSet::new();
        if let Some(configured) = self.configured() {
            if !ids.contains(&configured.id) {
                seen.insert(configured.id.clone());
                self.install(configured);
            }
        }
        for (id, json) in ids.iter().zip(records) {
            let Some(json) = json else {
                if let Some(configured) = self.configured().filter(|c| c.id == *id) {
                    seen.insert(id.clone());
                    self.install(configured);
                }
                continue;
            };
            match parse(id, &json) {
                Ok(tenant) => {
                    seen.insert(id.clone());
                    self.install(tenant);
                }
                Err(e) => {
                    tracing::warn!(tenant = %id, error = %e, "tenant record unreadable; kept as it was")
                }
            }
        }
        let gone: Vec<String> = self
            .all()
            .iter()
            .map(|v| v.tenant.id.clone())
            .filter(|id| !seen.contains(id))
            .collect();
        for id in gone {
            self.remove(&id);
        }
        Ok(())
    }
}

/// How the tenant's numbers answer calls, in the core's terms.
fn inbound_line(tenant: &Tenant) -> InboundLine {
    let people = tenant
        .forward_to
        .as_ref()
        .map(|f| f.people())
        .unwrap_or_default()
        .into_iter()
        .map(|p| Ringee {
            number: p.number.as_str().to_string(),
            name: p.name.map(|n| n.as_str().to_string()),
            timeout_secs: p.timeout_s.map(|t| t.get()),
        })
        .collect();
    InboundLine {
        people,
        ring_strategy: tenant.ring_strategy,
        after_hours: tenant.after_hours_forward_to.clone(),
        hours: tenant.business_hours.open_hours(),
        timezone: tenant.timezone.clone().tz(),
        voicemail_greeting: tenant
            .voicemail_greeting
            .as_ref()
            .map(|m| m.as_str().to_string()),
        missed_call_sms: tenant
            .missed_call_sms
            .as_ref()
            .map(|m| m.as_str().to_string()),
    }
}

fn parse(id: &str, json: &str) -> Result<Tenant, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("tenant {id}: {e}")))
}
