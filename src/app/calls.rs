//! Outbound call operations: place a call, record Twilio's answer to the
//! dial, run a callback, read a call. Each change goes through the one
//! transition loop with the outbound machine.

use std::collections::BTreeMap;

use serde::Serialize;
use tracing::{info, warn};

use super::outbound::{timeline_entry, CallInput, OutboundCalls};
use super::transition::{self, Outcome};
use super::{AppState, ServiceError};
use crate::call::{
    ApiFailure, CallRecord, CallState, CallStatus, CampaignLink, Direction, Input, TimelineEntry,
};
use crate::compliance::UsState;
use crate::flow::Flow;
use crate::phone::{mask, E164};
use crate::render::{tenant_query, webhook_url, with_overrides};
use crate::store::{CallLogEntry, StoreError};
use crate::twilio::rest::{CreateCall, TwilioError};

/// A request to place one call.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub to: E164,
    pub flow: String,
    pub name: Option<String>,
    pub variables: BTreeMap<String, String>,
    /// The callee's IANA zone, when the request names it (else told from the number).
    pub timezone: Option<String>,
    /// The callee's US state, when the request names it (else told from the area code).
    pub state: Option<UsState>,
    /// The caller ID, one of the tenant's numbers (else its first).
    pub from: Option<E164>,
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
        /// Twilio's `Retry-After`, if it sent one.
        retry_after_secs: Option<u64>,
    },
    /// No clear answer: the call may exist. Never retried blindly.
    Uncertain(String),
}

/// A placed call as the API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct PlacedCall {
    pub call_id: String,
    pub call_sid: Option<String>,
    pub status: String,
    pub state: String,
    pub to: String,
    pub from: String,
}

impl From<&CallRecord> for PlacedCall {
    fn from(record: &CallRecord) -> Self {
        PlacedCall {
            call_id: record.call_id.clone(),
            call_sid: record.call_sid.clone(),
            status: record.status.as_str().to_string(),
            state: record.state.name().to_string(),
            to: record.to.masked(),
            from: record.from.masked(),
        }
    }
}

/// Applies a dial result (never a callback) and returns the record as it stands.
pub(super) async fn update(
    app: &AppState,
    call_id: &str,
    input: Input,
) -> Result<CallRecord, ServiceError> {
    let input = CallInput {
        input,
        call_sid: None,
    };
    match transition::run(&OutboundCalls(app), call_id, &input, None).await? {
        Outcome {
            record: Some(record),
            ..
        } => Ok(record),
        // Dial results carry no idempotency key, so they are never replayed.
        Outcome { record: None, .. } => Err(ServiceError::Contended),
    }
}

/// A fresh call id: chosen before the dial gate, which claims the number for it.
pub fn new_call_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Stores a new call record (version 1) and the flow version it will use.
pub async fn create_record(
    app: &AppState,
    flow: &Flow,
    call_id: String,
    new: NewCall,
    campaign: Option<CampaignLink>,
) -> Result<CallRecord, ServiceError> {
    app.save_flow_once(flow).await?;
    let now = app.clock.now();
    let record = CallRecord {
        call_id: call_id.clone(),
        direction: Direction::Outbound,
        tenant: app.settings.tenant.clone(),
        flow_id: flow.id.clone(),
        flow_version: flow.version.clone(),
        to: new.to,
        from: new
            .from
            .unwrap_or_else(|| app.settings.twilio.voice_number.clone()),
        name: new.name.filter(|n| !n.trim().is_empty()),
        variables: new.variables,
        call_sid: None,
        status: CallStatus::Queued,
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
        timezone: new.timezone,
        callee_state: new.state.map(|s| s.code().to_string()),
        scheduled_at: None,
    };
    let entry = timeline_entry(now, "created", &record, &record, Vec::new(), None, None);
    transition::create(&OutboundCalls(app), &call_id, &record, entry).await?;
    let logged = CallLogEntry {
        at_ms: now.timestamp_millis(),
        direction: record.direction.as_str().to_string(),
        call_id: call_id.clone(),
    };
    let keys = app.store.keys().call_record(&call_id);
    app.store
        .log_new_call(&logged, &keys, app.record_ttl(), app.call_log_cutoff_ms())
        .await?;
    Ok(record)
}

/// Asks Twilio to place a stored call and records the answer. Never retried
/// here: create-call is not idempotent.
pub async fn dial(
    app: &AppState,
    record: &CallRecord,
    flow: &Flow,
) -> Result<Dialed, ServiceError> {
    let call_id = record.call_id.clone();
    info!(call_id, to = %mask(record.to.as_str()), flow = %flow.id, "placing call");
    let base = &app.settings.public_base_url;
    let tenant = tenant_query(&record.tenant);
    let url = with_overrides(&webhook_url(base, "incoming", &call_id, &tenant));
    let status_callback = with_overrides(&webhook_url(base, "status", &call_id, &tenant));
    let request = CreateCall {
        to: record.to.as_str(),
        from: record.from.as_str(),
        url: &url,
        status_callback: &status_callback,
        machine_detection: flow.machine_detection.as_deref(),
    };
    // The number held for this call's whole lease from here on: the dial goes out.
    super::dial_gate::claim_for_dial(app, record.to.as_str(), &call_id).await?;
    match app.twilio.create_call(&request).await {
        Ok(resource) => {
            crate::observe::dial("placed");
            // The machine indexes the CallSid before the record holds it.
            let sid = resource.sid;
            let updated = update(app, &call_id, Input::Dialed { sid }).await?;
            Ok(Dialed::Placed(Box::new(updated)))
        }
        Err(TwilioError::Api {
            code,
            message,
            status,
            retry_after_secs,
        }) => {
            warn!(call_id, status, ?code, %message, "Twilio refused the call");
            crate::observe::dial(if status == 429 {
                "throttled"
            } else {
                "rejected"
            });
            let failure = ApiFailure {
                code,
                message: message.clone(),
            };
            update(app, &call_id, Input::Rejected { failure }).await?;
            Ok(Dialed::Rejected {
                status,
                code,
                message,
                retry_after_secs,
            })
        }
        Err(TwilioError::Uncertain(message)) => {
            // The call's own callbacks (they carry our call id) settle it if it was placed.
            warn!(call_id, %message, "Twilio did not confirm the call");
            crate::observe::dial("uncertain");
            let failure = ApiFailure {
                code: None,
                message: format!("uncertain: {message}"),
            };
            update(app, &call_id, Input::Uncertain { failure }).await?;
            Ok(Dialed::Uncertain(message))
        }
    }
}

/// Gives up on a stored call that was never placed (its dial was lost).
pub async fn abandon(
    app: &AppState,
    call_id: &str,
    reason: &str,
) -> Result<CallRecord, ServiceError> {
    let reason = reason.to_string();
    update(app, call_id, Input::Abandoned { reason }).await
}

/// Records the CallSid of a call whose dial was uncertain, once it is known.
pub async fn adopt_call_sid(
    app: &AppState,
    call_id: &str,
    sid: &str,
) -> Result<CallRecord, ServiceError> {
    let sid = sid.to_string();
    update(app, call_id, Input::Reconciled { sid }).await
}

fn parse_record(json: &str) -> Result<CallRecord, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("call record: {e}")))
}

/// The stored record of a call.
pub async fn record(app: &AppState, call_id: &str) -> Result<CallRecord, ServiceError> {
    Ok(load_record(app, call_id).await?.0)
}

async fn load_record(app: &AppState, call_id: &str) -> Result<(CallRecord, u64), ServiceError> {
    let keys = app.store.keys().call_record(call_id);
    let loaded = app.store.load(&keys, "").await?;
    let json = loaded.record.ok_or(ServiceError::NotFound)?;
    Ok((parse_record(&json)?, loaded.version))
}

/// A call of either direction, with its version and timeline.
pub enum AnyCall {
    Outbound(Box<CallRecord>, u64, Vec<TimelineEntry>),
    Inbound(Box<super::inbound::InboundRecord>, u64, Vec<TimelineEntry>),
}

/// The direction a stored record says it has (records from before
/// directions existed are outbound).
#[derive(serde::Deserialize)]
struct DirectionOnly {
    #[serde(default)]
    direction: Direction,
}

/// A call of either direction and its timeline, by our id or by Twilio's CallSid.
pub async fn get_any_call(app: &AppState, id: &str) -> Result<AnyCall, ServiceError> {
    let call_id = call_id_of(app, id).await?;
    let keys = app.store.keys().call_record(&call_id);
    let loaded = app.store.load(&keys, "").await?;
    let json = loaded.record.ok_or(ServiceError::NotFound)?;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("call record: {e}"));
    let direction = serde_json::from_str::<DirectionOnly>(&json)
        .map_err(corrupt)?
        .direction;
    let timeline = timeline_of(app, &call_id).await?;
    Ok(match direction {
        Direction::Outbound => {
            AnyCall::Outbound(Box::new(parse_record(&json)?), loaded.version, timeline)
        }
        Direction::Inbound => AnyCall::Inbound(
            Box::new(serde_json::from_str(&json).map_err(corrupt)?),
            loaded.version,
            timeline,
        ),
    })
}

async fn call_id_of(app: &AppState, id: &str) -> Result<String, ServiceError> {
    if id.starts_with("CA") {
        return app
            .store
            .call_id_for_sid(id)
            .await?
            .ok_or(ServiceError::NotFound);
    }
    Ok(id.to_string())
}

async fn timeline_of(app: &AppState, call_id: &str) -> Result<Vec<TimelineEntry>, ServiceError> {
    let keys = app.store.keys().call_record(call_id);
    Ok(app
        .store
        .timeline(&keys)
        .await?
        .iter()
        .map(|e| serde_json::from_str(e).map_err(|e| StoreError::Corrupt(format!("timeline: {e}"))))
        .collect::<Result<Vec<TimelineEntry>, _>>()?)
}

/// A call's record, by our id or by Twilio's CallSid.
pub async fn find(app: &AppState, id: &str) -> Result<CallRecord, ServiceError> {
    record(app, &call_id_of(app, id).await?).await
}

/// A call and its timeline, by our id or by Twilio's CallSid.
pub async fn get_call(
    app: &AppState,
    id: &str,
) -> Result<(CallRecord, u64, Vec<TimelineEntry>), ServiceError> {
    let call_id = call_id_of(app, id).await?;
    let keys = app.store.keys().call_record(&call_id);
    let (record, version) = load_record(app, &call_id).await?;
    let timeline = app
        .store
        .timeline(&keys)
        .await?
        .iter()
        .map(|e| serde_json::from_str(e).map_err(|e| StoreError::Corrupt(format!("timeline: {e}"))))
        .collect::<Result<Vec<TimelineEntry>, _>>()?;
    Ok((record, version, timeline))
}
