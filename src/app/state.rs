//! The application state every request, callback and background task shares:
//! settings, store, clock, Twilio client, flows, the TwiML renderer, and the
//! listener told when a call is over.

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tracing::info;

use super::inbound::{InboundLine, InboundListeners, InboundRecord};
use super::ServiceError;
use crate::call::CallRecord;
use crate::clock::Clock;
use crate::compliance::NumberPolicy;
use crate::config::Settings;
use crate::flow::{Flow, FlowRegistry};
use crate::messaging::Templates;
use crate::phone::E164;
use crate::record_cache::RecordCache;
use crate::render::TwimlRenderer;
use crate::store::{Effect, Store, StoreError};
use crate::twilio::rest::TwilioClient;

/// Told once a call is over for good (ended and a final status known), so
/// what placed it (a campaign) can settle it without the core knowing campaigns.
pub trait CallListener: Send + Sync {
    fn call_finished<'a>(&'a self, app: &'a AppState, record: &'a CallRecord) -> BoxFuture<'a, ()>;
}

/// Several listeners, told in order.
impl CallListener for Vec<Arc<dyn CallListener>> {
    fn call_finished<'a>(&'a self, app: &'a AppState, record: &'a CallRecord) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            for listener in self {
                listener.call_finished(app, record).await;
            }
        })
    }
}

/// A do-not-call entry as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DncEntry {
    pub added_at: chrono::DateTime<Utc>,
    pub source: String,
}

/// What makes one tenant's view of the application differ from another's.
#[derive(Debug, Clone)]
pub struct TenantSettings {
    pub id: String,
    pub company_name: String,
    pub call_purpose: String,
    /// Its numbers; the first is the caller ID unless a call names another.
    pub numbers: Vec<E164>,
    /// Its share of the account's dial rate (calls per second), when set.
    pub max_cps: Option<f64>,
    /// Where its events go (signed), when set.
    pub events_url: Option<String>,
    /// Its zone (texts say instants in the recipient's zone when the number
    /// tells it, else in this one).
    pub timezone: chrono_tz::Tz,
    /// How its numbers answer calls that come in.
    pub inbound: InboundLine,
}

/// The application as one tenant sees it: its store view (keys under its
/// prefix), settings (caller ID, company, purpose, dial rate) and renderer.
/// Views share the connection, clock, Twilio client, flows and counters.
pub struct AppState {
    pub settings: Settings,
    pub store: Store,
    pub clock: Clock,
    pub twilio: TwilioClient,
    pub flows: Arc<FlowRegistry>,
    /// Text message templates (`FLOWS_DIR/sms/*.toml`).
    pub sms_templates: Arc<Templates>,
    /// Where the tenant's events go (its `events_url`), when set.
    pub events_url: Option<String>,
    /// The tenant's zone (`TIMEZONE_DEFAULT` for the configured tenant until it sets one).
    pub timezone: chrono_tz::Tz,
    pub renderer: TwimlRenderer,
    /// Which numbers may be dialed at all (country codes, toll fraud, own numbers).
    pub numbers: NumberPolicy,
    /// This instance's last version of each call (see `record_cache`).
    pub(crate) calls: RecordCache<CallRecord>,
    pub(crate) listener: Option<Arc<dyn CallListener>>,
    /// The tenant's share of the account's dial rate (calls a second), kept
    /// besides `TWILIO_MAX_CPS` (see `app::pace`).
    pub tenant_max_cps: Option<f64>,
    /// How this tenant's numbers answer calls that come in.
    pub inbound: InboundLine,
    /// This instance's last version of each inbound call.
    pub(crate) inbound_calls: RecordCache<InboundRecord>,
    /// Told of inbound call events; shared by every tenant's view.
    pub inbound_listeners: Arc<InboundListeners>,
    /// Flow versions this process has saved to the store (see `save_flow_once`).
    saved_flows: Mutex<HashSet<String>>,
    /// Callbacks of this tenant handled by this process, for `/api/stats`.
    pub callbacks: Arc<AtomicU64>,
    pub started: std::time::Instant,
}

impl AppState {
    pub fn new(
        settings: Settings,
        store: Store,
        flows: FlowRegistry,
        sms_templates: Templates,
        listener: Option<Arc<dyn CallListener>>,
    ) -> Arc<Self> {
        let renderer = renderer(&settings);
        let numbers = NumberPolicy {
            allow_premium: settings.allow_premium_numbers,
            allowed_country_codes: settings.allowed_country_codes.clone(),
            own_numbers: vec![settings.twilio.voice_number.clone()],
        };
        let settings_zone = settings.timezone_default;
        Arc::new(Self {
            numbers,
            clock: settings.clock,
            twilio: TwilioClient::new(&settings.twilio),
            settings,
            store,
            flows: Arc::new(flows),
            sms_templates: Arc::new(sms_templates),
            events_url: None,
            timezone: settings_zone,
            renderer,
            calls: RecordCache::default(),
            listener,
            tenant_max_cps: None,
            inbound: InboundLine::default(),
            inbound_calls: RecordCache::default(),
            inbound_listeners: Arc::default(),
            saved_flows: Default::default(),
            callbacks: Default::default(),
            started: std::time::Instant::now(),
        })
    }

    /// This application as `tenant` sees it. Cheap: no new connection; the
    /// record cache and saved flows are the view's own (their keys are the
    /// tenant's), and so are its callback counter.
    pub fn for_tenant(&self, tenant: &TenantSettings) -> Arc<AppState> {
        let mut settings = self.settings.clone();
        settings.tenant = tenant.id.clone();
        settings.company_name = tenant.company_name.clone();
        settings.call_purpose = tenant.call_purpose.clone();
        if let Some(first) = tenant.numbers.first() {
            settings.twilio.voice_number = first.clone();
        }
        let mut numbers = self.numbers.clone();
        numbers.own_numbers = tenant.numbers.clone();
        if numbers.own_numbers.is_empty() {
            numbers
                .own_numbers
                .push(settings.twilio.voice_number.clone());
        }
        Arc::new(Self {
            renderer: renderer(&settings),
            numbers,
            clock: self.clock,
            twilio: self.twilio.clone(),
            store: self.store.for_tenant(&tenant.id),
            settings,
            flows: self.flows.clone(),
            sms_templates: self.sms_templates.clone(),
            events_url: tenant.events_url.clone(),
            timezone: tenant.timezone,
            calls: RecordCache::default(),
            listener: self.listener.clone(),
            tenant_max_cps: tenant.max_cps,
            inbound: tenant.inbound.clone(),
            inbound_calls: RecordCache::default(),
            inbound_listeners: self.inbound_listeners.clone(),
            saved_flows: Default::default(),
            callbacks: Default::default(),
            started: self.started,
        })
    }

    /// The tenant this view acts for.
    pub fn tenant(&self) -> &str {
        &self.settings.tenant
    }

    /// A flow version: from memory, else from the store (saved with its first call).
    pub async fn flow_for_version(
        &self,
        flow_id: &str,
        version: &str,
    ) -> Result<Arc<Flow>, ServiceError> {
        if let Some(flow) = self.flows.version(flow_id, version) {
            return Ok(flow);
        }
        let source = self
            .store
            .load_flow(flow_id, version)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("flow version {version} missing")))?;
        let flow = Flow::parse(flow_id, &source, "stored flow")
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let flow = Arc::new(flow);
        self.flows.remember(flow.clone());
        Ok(flow)
    }

    /// Saves a flow version's text with its first call; once per version and process.
    pub async fn save_flow_once(&self, flow: &Flow) -> Result<(), StoreError> {
        let key = format!("{}:{}", flow.id, flow.version);
        let saved = |set: &Mutex<HashSet<String>>| {
            set.lock().unwrap_or_else(|p| p.into_inner()).contains(&key)
        };
        if saved(&self.saved_flows) {
            return Ok(());
        }
        self.store
            .save_flow(&flow.id, &flow.version, &flow.source)
            .await?;
        self.saved_flows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key);
        Ok(())
    }

    /// How long (real time) a call's record, timeline and CallSid lookup are
    /// kept: the retention, on the service clock.
    pub fn record_ttl(&self) -> std::time::Duration {
        let ms = i64::try_from(self.settings.call_log_retention.as_millis()).unwrap_or(i64::MAX);
        self.clock.real_duration(ms)
    }

    /// Call log entries created before this instant (ms, service clock) are past retention.
    pub fn call_log_cutoff_ms(&self) -> i64 {
        let ms = i64::try_from(self.settings.call_log_retention.as_millis()).unwrap_or(i64::MAX);
        self.clock.now_ms().saturating_sub(ms)
    }

    /// The do-not-call entry for `number` as an effect a transition owes.
    pub fn dnc_effect(&self, number: &E164, source: &str) -> Effect {
        Effect::DoNotCall {
            number: number.as_str().to_string(),
            entry: self.dnc_entry(source),
        }
    }

    fn dnc_entry(&self, source: &str) -> String {
        let entry = DncEntry {
            added_at: self.clock.now(),
            source: source.to_string(),
        };
        serde_json::to_string(&entry).expect("entries serialize")
    }

    pub async fn add_to_dnc(&self, number: &E164, source: &str) -> Result<bool, StoreError> {
        let json = self.dnc_entry(source);
        let added = self.store.dnc_add(number.as_str(), &json).await?;
        if added {
            info!(number = %number.masked(), source, "added to do-not-call list");
        }
        Ok(added)
    }
}

fn renderer(settings: &Settings) -> TwimlRenderer {
    TwimlRenderer {
        public_base_url: settings.public_base_url.clone(),
        company: settings.company_name.clone(),
        purpose: settings.call_purpose.clone(),
        callback_number: settings.twilio.voice_number.as_str().to_string(),
    }
}
