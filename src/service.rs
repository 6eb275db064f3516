//! The call service: places calls and runs every Twilio callback through
//! load -> machine -> one atomic write -> TwiML.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;
use tracing::{info, warn};

use crate::call::apply::{apply_callback, apply_event, rules_for, via_names, Applied};
use crate::call::{ApiFailure, CallRecord, CallState, CampaignLink, Event, TimelineEntry};
use crate::clock::Clock;
use crate::config::Settings;
use crate::flow::{Flow, FlowRegistry};
use crate::phone::{mask, E164};
use crate::record_cache::RecordCache;
use crate::render::{webhook_url, Voice};
use crate::store::{Cas, Store, StoreError, REPLY_IN_TIMELINE};
use crate::twilio::rest::{CreateCall, TwilioClient, TwilioError};
use crate::twilio::webhook::Callback;
use crate::twiml;

/// How often a transition is retried when another callback wins the race.
const MAX_CAS_ATTEMPTS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("flow '{0}' does not exist")]
    UnknownFlow(String),
    #[error("to: {0} is on the do-not-call list")]
    DoNotCall(String),
    #[error("Twilio refused the call: {message}")]
    TwilioRejected {
        call_id: String,
        code: Option<u64>,
        message: String,
    },
    #[error("Twilio did not confirm the call: {message}")]
    TwilioUncertain { call_id: String, message: String },
    #[error("call not found")]
    NotFound,
    #[error("the call changed too often to update; try again")]
    Contended,
}

/// A request to place one call.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub to: E164,
    pub flow: String,
    pub name: Option<String>,
    pub variables: BTreeMap<String, String>,
}

/// What became of a dial.
#[derive(Debug, Clone)]
pub enum Dialed {
    Placed(Box<CallRecord>),
    /// Twilio refused: nothing was placed. The record is failed.
    Rejected {
        status: u16,
        code: Option<u64>,
        message: String,
    },
    /// No clear answer: the call may exist. Never retried blindly.
    Uncertain(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct PlacedCall {
    pub call_id: String,
    pub call_sid: Option<String>,
    pub status: String,
    pub state: String,
    pub to: String,
    pub from: String,
}

/// A do-not-call entry as stored.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DncEntry {
    pub added_at: chrono::DateTime<Utc>,
    pub source: String,
}

pub struct CallService {
    cache: RecordCache,
    /// Flow versions this process has saved to the store (see `save_flow_once`).
    saved_flows: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Callbacks handled by this process, for `/api/stats`.
    pub callbacks: std::sync::atomic::AtomicU64,
    pub started: std::time::Instant,
    pub clock: Clock,
    pub settings: Settings,
    pub store: Store,
    pub flows: FlowRegistry,
    pub twilio: TwilioClient,
    pub voice: Voice,
}

impl CallService {
    pub fn new(settings: Settings, store: Store, flows: FlowRegistry) -> Arc<Self> {
        let voice = Voice {
            public_base_url: settings.public_base_url.clone(),
            company: settings.company_name.clone(),
            purpose: settings.call_purpose.clone(),
            callback_number: settings.twilio.voice_number.as_str().to_string(),
        };
        Arc::new(Self {
            cache: RecordCache::default(),
            saved_flows: Default::default(),
            callbacks: Default::default(),
            started: std::time::Instant::now(),
            clock: settings.clock,
            twilio: TwilioClient::new(&settings.twilio),
            settings,
            store,
            flows,
            voice,
        })
    }

    /// The flow version a call started with.
    async fn flow_for(&self, record: &CallRecord) -> Result<Arc<Flow>, ServiceError> {
        self.flow_for_version(&record.flow_id, &record.flow_version)
            .await
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

    fn parse_record(json: &str) -> Result<CallRecord, StoreError> {
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("call record: {e}")))
    }

    fn entry(
        event: &str,
        before: &CallState,
        applied: &CallRecord,
        via: Vec<String>,
        twiml: Option<String>,
    ) -> String {
        let entry = TimelineEntry {
            at: applied.updated_at,
            event: event.to_string(),
            from: before.name().to_string(),
            to: applied.state.name().to_string(),
            via,
            twiml,
        };
        serde_json::to_string(&entry).expect("timeline entries serialize")
    }

    /// Handles one verified callback and returns the TwiML to answer with.
    /// A retry of a handled callback gets the first reply and changes nothing.
    pub async fn handle_callback(
        &self,
        call_id: &str,
        callback: &Callback,
        call_sid: Option<&str>,
    ) -> Result<String, ServiceError> {
        self.callbacks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let idem = callback.idempotency_key();
        let voice_doc = matches!(callback, Callback::Answer { .. } | Callback::Gather { .. });
        let mut cached = self.cache.get(call_id);
        // The record as a failed compare-and-set found it: current, like a read.
        let mut fresh: Option<(u64, Arc<CallRecord>)> = None;
        for _ in 0..MAX_CAS_ATTEMPTS {
            // The record as this instance last saw it, else one read.
            let from_cache = cached.is_some();
            let (version, record) = match (fresh.take(), cached.take()) {
                (Some(current), _) => current,
                (None, Some((version, record))) => (version, record),
                (None, None) => {
                    let loaded = self.store.load(call_id, &idem).await?;
                    if let Some(reply) = loaded.seen {
                        return Ok(remembered(reply));
                    }
                    let Some(json) = loaded.record else {
                        return Err(ServiceError::NotFound);
                    };
                    (loaded.version, Arc::new(Self::parse_record(&json)?))
                }
            };
            let flow = self.flow_for(&record).await?;
            let applied = apply_callback(
                &record,
                callback,
                call_sid,
                &flow,
                self.settings.require_recording_consent,
                self.clock.now(),
            );
            let reply = if voice_doc {
                self.voice.twiml(&flow, &applied.record, applied.effects())
            } else {
                twiml::empty()
            };
            if !applied.changed && !from_cache {
                return Ok(reply);
            }
            if applied.adds_to_dnc() {
                // Written before the transition: an opt-out is never lost, and adding twice is harmless.
                self.add_to_dnc(&record.to, &format!("call:{call_id}"))
                    .await?;
            }
            if let (None, Some(sid)) = (&record.call_sid, &applied.record.call_sid) {
                // Also before: once the record holds the CallSid nobody indexes it
                // again, so an instance dying between the two must not lose it.
                self.store.index_call_sid(sid, call_id).await?;
            }
            // Nothing changed, but the reply came from the cache: the script still
            // confirms the version (and that this callback was not seen) before it counts.
            let (new_json, entries) = if applied.changed {
                let entry = Self::entry(
                    &applied.event,
                    &record.state,
                    &applied.record,
                    applied.step.as_ref().map(via_names).unwrap_or_default(),
                    voice_doc.then(|| reply.clone()),
                );
                let json = serde_json::to_string(&applied.record).expect("records serialize");
                (json, vec![entry])
            } else {
                (String::new(), Vec::new())
            };
            // A voice reply is already in the timeline entry: remember it by reference.
            let remember = if voice_doc && applied.changed {
                REPLY_IN_TIMELINE
            } else if !voice_doc {
                EMPTY_REPLY
            } else {
                reply.as_str()
            };
            match self
                .store
                .transition(
                    call_id,
                    version,
                    &new_json,
                    Some((&idem, remember)),
                    &entries,
                )
                .await?
            {
                Cas::Written { version } => {
                    if applied.changed {
                        self.after_write(&record, &applied).await;
                    }
                    if applied.record.is_finished() {
                        self.cache.forget(call_id);
                    } else {
                        self.cache.put(call_id, version, applied.record);
                    }
                    return Ok(reply);
                }
                Cas::Seen(previous) => return Ok(remembered(previous)),
                Cas::Conflict { current } => {
                    self.cache.forget(call_id);
                    let (version, json) = current.ok_or(ServiceError::NotFound)?;
                    fresh = Some((version, Arc::new(Self::parse_record(&json)?)));
                    continue;
                }
            }
        }
        Err(ServiceError::Contended)
    }

    /// Follow-ups that must not hold up the reply much: settling a campaign
    /// contact, and logs.
    async fn after_write(&self, before: &CallRecord, applied: &Applied) {
        let after = &applied.record;
        if after.campaign.is_some() && after.is_finished() && !before.is_finished() {
            if let Err(e) = crate::campaign::settle::call_finished(self, after).await {
                warn!(call_id = %after.call_id, error = %e, "could not settle the campaign contact");
            }
        }
        if before.state != after.state {
            info!(
                call_id = %after.call_id,
                event = %applied.event,
                from = before.state.name(),
                to = after.state.name(),
                disposition = after.disposition.map(|d| d.as_str()),
                "call moved"
            );
        }
    }

    pub async fn add_to_dnc(&self, number: &E164, source: &str) -> Result<bool, StoreError> {
        let entry = DncEntry {
            added_at: self.clock.now(),
            source: source.to_string(),
        };
        let json = serde_json::to_string(&entry).expect("entries serialize");
        let added = self.store.dnc_add(number.as_str(), &json).await?;
        if added {
            info!(number = %number.masked(), source, "added to do-not-call list");
        }
        Ok(added)
    }

    /// Writes a change that is not a callback (creation, dial result) with retries
    /// on conflict. Starts from this instance's last version of the call when it
    /// has one (the script checks the version, so a stale one only costs a retry).
    async fn update(
        &self,
        call_id: &str,
        event_name: &str,
        change: impl Fn(&CallRecord) -> CallRecord,
    ) -> Result<CallRecord, ServiceError> {
        let mut cached = self.cache.get(call_id);
        let mut fresh: Option<(u64, CallRecord)> = None;
        for _ in 0..MAX_CAS_ATTEMPTS {
            let from_cache = cached.is_some() && fresh.is_none();
            let (version, record) = match (fresh.take(), cached.take()) {
                (Some(current), _) => current,
                (None, Some((version, record))) => (version, (*record).clone()),
                (None, None) => {
                    let loaded = self.store.load(call_id, "").await?;
                    let record = Self::parse_record(
                        loaded.record.as_deref().ok_or(ServiceError::NotFound)?,
                    )?;
                    (loaded.version, record)
                }
            };
            let next = change(&record);
            if next == record {
                if from_cache {
                    // Nothing to write is only believed of the stored record.
                    continue;
                }
                return Ok(record);
            }
            let entry = Self::entry(event_name, &record.state, &next, Vec::new(), None);
            let json = serde_json::to_string(&next).expect("records serialize");
            match self
                .store
                .transition(call_id, version, &json, None, &[entry])
                .await?
            {
                Cas::Written { version } => {
                    self.cache.put(call_id, version, next.clone());
                    return Ok(next);
                }
                Cas::Conflict { current } => {
                    self.cache.forget(call_id);
                    let (version, json) = current.ok_or(ServiceError::NotFound)?;
                    fresh = Some((version, Self::parse_record(&json)?));
                    continue;
                }
                Cas::Seen(_) => {
                    self.cache.forget(call_id);
                    continue;
                }
            }
        }
        Err(ServiceError::Contended)
    }

    /// Validates, records and places one call. The record exists before Twilio
    /// is asked, because Twilio may call the answer URL before it answers us.
    pub async fn place_call(&self, new: NewCall) -> Result<PlacedCall, ServiceError> {
        let flow = self
            .flows
            .current(&new.flow)
            .ok_or_else(|| ServiceError::UnknownFlow(new.flow.clone()))?;
        flow.check_variables(&new.variables)
            .map_err(|(field, reason)| ServiceError::Invalid { field, reason })?;
        if self.store.dnc_get(new.to.as_str()).await?.is_some() {
            return Err(ServiceError::DoNotCall(new.to.masked()));
        }
        let record = self.create_record(&flow, new, None).await?;
        let call_id = record.call_id.clone();
        match self.dial(&record, &flow).await? {
            Dialed::Placed(record) => Ok(placed(&record)),
            Dialed::Rejected { code, message, .. } => Err(ServiceError::TwilioRejected {
                call_id,
                code,
                message,
            }),
            Dialed::Uncertain(message) => Err(ServiceError::TwilioUncertain { call_id, message }),
        }
    }

    /// Saves a flow version's text with its first call; once per version and process.
    pub async fn save_flow_once(&self, flow: &Flow) -> Result<(), StoreError> {
        let key = format!("{}:{}", flow.id, flow.version);
        if self
            .saved_flows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
        {
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

    /// Stores a new call record (version 1) and the flow version it will use.
    pub async fn create_record(
        &self,
        flow: &Flow,
        new: NewCall,
        campaign: Option<CampaignLink>,
    ) -> Result<CallRecord, ServiceError> {
        self.save_flow_once(flow).await?;
        let now = self.clock.now();
        let call_id = uuid::Uuid::new_v4().simple().to_string();
        let record = CallRecord {
            call_id: call_id.clone(),
            tenant: self.settings.tenant.clone(),
            flow_id: flow.id.clone(),
            flow_version: flow.version.clone(),
            to: new.to,
            from: self.settings.twilio.voice_number.clone(),
            name: new.name.filter(|n| !n.trim().is_empty()),
            variables: new.variables,
            call_sid: None,
            status: "queued".into(),
            state: CallState::Queued,
            consent: None,
            recording_sid: None,
            recording_status: None,
            disposition: None,
            answered_by: None,
            turn: 0,
            last_sequence: None,
            duration_secs: None,
            error: None,
            created_at: now,
            updated_at: now,
            answered_at: None,
            ended_at: None,
            campaign,
        };
        let json = serde_json::to_string(&record).expect("records serialize");
        let entry = Self::entry("created", &CallState::Queued, &record, Vec::new(), None);
        if self
            .store
            .transition(&call_id, 0, &json, None, &[entry])
            .await?
            != (Cas::Written { version: 1 })
        {
            return Err(StoreError::Corrupt(format!("call id {call_id} already exists")).into());
        }
        self.cache.put(&call_id, 1, record.clone());
        Ok(record)
    }

    /// Asks Twilio to place a stored call and records the answer. Never retried
    /// here: create-call is not idempotent.
    pub async fn dial(&self, record: &CallRecord, flow: &Flow) -> Result<Dialed, ServiceError> {
        let call_id = record.call_id.clone();
        info!(call_id, to = %mask(record.to.as_str()), flow = %flow.id, "placing call");
        let base = &self.settings.public_base_url;
        let url = webhook_url(base, "incoming", &call_id);
        let status_callback = webhook_url(base, "status", &call_id);
        let request = CreateCall {
            to: record.to.as_str(),
            from: record.from.as_str(),
            url: &url,
            status_callback: &status_callback,
            machine_detection: flow.machine_detection.as_deref(),
        };
        match self.twilio.create_call(&request).await {
            Ok(resource) => {
                let sid = resource.sid.clone();
                // Indexed before the record holds it (see `handle_callback`).
                self.store.index_call_sid(&sid, &call_id).await?;
                let updated = self
                    .update(&call_id, "dialed", |r| {
                        let mut next = r.clone();
                        next.call_sid.get_or_insert_with(|| sid.clone());
                        next
                    })
                    .await?;
                Ok(Dialed::Placed(Box::new(updated)))
            }
            Err(TwilioError::Api {
                code,
                message,
                status,
            }) => {
                warn!(call_id, status, ?code, %message, "Twilio refused the call");
                let rules = rules_for(record, flow, self.settings.require_recording_consent);
                let failure = ApiFailure {
                    code,
                    message: message.clone(),
                };
                let now = self.clock.now();
                self.update(&call_id, "rejected", |r| {
                    let (mut next, _) = apply_event(r, &Event::Rejected, rules, now);
                    next.status = "failed".into();
                    next.error = Some(failure.clone());
                    next.ended_at.get_or_insert(now);
                    next
                })
                .await?;
                Ok(Dialed::Rejected {
                    status,
                    code,
                    message,
                })
            }
            Err(TwilioError::Uncertain(message)) => {
                // The call's own callbacks (they carry our call id) settle it if it was placed.
                warn!(call_id, %message, "Twilio did not confirm the call");
                let failure = ApiFailure {
                    code: None,
                    message: format!("uncertain: {message}"),
                };
                self.update(&call_id, "uncertain", |r| {
                    let mut next = r.clone();
                    next.error = Some(failure.clone());
                    next
                })
                .await?;
                Ok(Dialed::Uncertain(message))
            }
        }
    }

    /// Gives up on a stored call that was never placed (its dial was lost).
    pub async fn abandon(&self, call_id: &str, reason: &str) -> Result<CallRecord, ServiceError> {
        let now = self.clock.now();
        self.update(call_id, "abandoned", |r| {
            if r.call_sid.is_some() || r.state.disposition().is_some() {
                return r.clone();
            }
            let mut next = r.clone();
            next.state = CallState::Ended {
                disposition: crate::call::Disposition::Failed,
            };
            next.disposition = Some(crate::call::Disposition::Failed);
            next.status = "failed".into();
            next.error = Some(ApiFailure {
                code: None,
                message: reason.to_string(),
            });
            next.ended_at.get_or_insert(now);
            next.updated_at = now;
            next
        })
        .await
    }

    /// Records the CallSid of a call whose dial was uncertain, once it is known.
    pub async fn adopt_call_sid(
        &self,
        call_id: &str,
        sid: &str,
    ) -> Result<CallRecord, ServiceError> {
        self.store.index_call_sid(sid, call_id).await?;
        self.update(call_id, "reconciled", |r| {
            let mut next = r.clone();
            next.call_sid.get_or_insert_with(|| sid.to_string());
            next
        })
        .await
    }

    /// The stored record of a call.
    pub async fn record(&self, call_id: &str) -> Result<CallRecord, ServiceError> {
        let loaded = self.store.load(call_id, "").await?;
        Ok(Self::parse_record(
            loaded.record.as_deref().ok_or(ServiceError::NotFound)?,
        )?)
    }

    /// A call and its timeline, by our id or by Twilio's CallSid.
    pub async fn get_call(
        &self,
        id: &str,
    ) -> Result<(CallRecord, u64, Vec<TimelineEntry>), ServiceError> {
        let call_id = if id.starts_with("CA") {
            self.store
                .call_id_for_sid(id)
                .await?
                .ok_or(ServiceError::NotFound)?
        } else {
            id.to_string()
        };
        let loaded = self.store.load(&call_id, "").await?;
        let record = Self::parse_record(loaded.record.as_deref().ok_or(ServiceError::NotFound)?)?;
        let timeline = self
            .store
            .timeline(&call_id)
            .await?
            .iter()
            .map(|e| {
                serde_json::from_str(e).map_err(|e| StoreError::Corrupt(format!("timeline: {e}")))
            })
            .collect::<Result<Vec<TimelineEntry>, _>>()?;
        Ok((record, loaded.version, timeline))
    }
}

/// Remembered instead of the empty document that answers every status and
/// recording callback (six of a call's ten), to keep each call's hash small.
const EMPTY_REPLY: &str = "=empty";

/// A remembered reply as it is sent again.
fn remembered(reply: String) -> String {
    if reply == EMPTY_REPLY {
        twiml::empty()
    } else {
        reply
    }
}

pub fn placed(record: &CallRecord) -> PlacedCall {
    PlacedCall {
        call_id: record.call_id.clone(),
        call_sid: record.call_sid.clone(),
        status: record.status.clone(),
        state: record.state.name().to_string(),
        to: record.to.masked(),
        from: record.from.masked(),
    }
}
