//! Inbound calls: a caller dials one of the tenant's numbers. The first
//! webhook creates the call's record (routing decided once: business hours,
//! who is rung, in which order), every later callback runs through the one
//! transition loop with the inbound machine ([`InboundCalls`]), and listeners
//! hear what happened ([`InboundListener`]) once it is stored.
//!
//! A call's id is derived from its CallSid, so every callback of the call
//! (the status callback carries no id of ours) and every retry of the first
//! webhook finds the same record without a lookup.

mod decide;
mod events;
mod line;
mod machine;
mod missed_text;
mod record;

use std::sync::Arc;

use tracing::{info, warn, Instrument};

pub use events::{InboundCallEvent, InboundListener, InboundListeners, LogListener};
pub use line::{InboundLine, Routing};
pub use machine::InboundCalls;
pub use missed_text::missed_call_text_due;
pub use record::{CallProgress, InboundRecord};

use super::outbound::CALLBACK_WRITE_BUDGET;
use super::transition;
use super::{AppState, ServiceError};
use crate::call::Direction;
use crate::inbound::{InboundInput, InboundState};
use crate::phone::E164;
use crate::store::{sha256_hex, CallLogEntry, Write, WriteOutcome, REPLY_IN_TIMELINE};

/// The inbound flow every tenant's calls follow.
pub const INBOUND_FLOW: &str = "inbound_default";

/// Our id of the call Twilio knows as `call_sid`.
pub fn call_id_for(call_sid: &str) -> String {
    sha256_hex(call_sid.as_bytes())[..32].to_string()
}

/// A call that reached one of the tenant's numbers (the Voice URL webhook).
pub struct NewInbound<'a> {
    pub call_sid: &'a str,
    pub caller: E164,
    pub called: E164,
}

/// Stores the new call with its first transition (greeting, then the menu,
/// the forward or the voicemail) in one script, and returns the TwiML. A
/// retry of this webhook gets the first answer.
pub async fn answer_call(app: &Arc<AppState>, new: NewInbound<'_>) -> Result<String, ServiceError> {
    let call_id = call_id_for(new.call_sid);
    let span = tracing::info_span!("inbound", call_id = %call_id);
    async {
        let machine = InboundCalls(app.clone());
        let flow = app
            .flows
            .inbound(INBOUND_FLOW)
            .ok_or_else(|| ServiceError::UnknownFlow(INBOUND_FLOW.into()))?;
        let now = app.clock.now();
        let turn = if app.inbound.needs_turn(now) {
            app.store.next_ring_turn().await?
        } else {
            0
        };
        let routing = app.inbound.routing(now, turn);
        let fresh = InboundRecord {
            call_id: call_id.clone(),
            direction: Direction::Inbound,
            tenant: app.tenant().to_string(),
            call_sid: new.call_sid.to_string(),
            from: new.caller,
            to: new.called,
            flow_id: flow.id.clone(),
            flow_version: flow.version.clone(),
            route: routing.route,
            legs: routing.legs,
            state: InboundState::Ringing,
            status: CallProgress::Ringing,
            disposition: None,
            reason: None,
            turn: 0,
            answered_by: None,
            recording_sid: None,
            recording_url: None,
            recording_secs: None,
            transcription: None,
            duration_secs: None,
            created_at: now,
            updated_at: now,
            ended_at: None,
        };
        let decision = machine.decision(&flow, &fresh, &InboundInput::Incoming);
        let created = machine::timeline_entry(now, "created", &fresh, &fresh, Vec::new(), None);
        let entries = [created, decision.entry.clone().unwrap_or_default()];
        let json = serde_json::to_string(&decision.next).expect("records serialize");
        let keys = app.store.keys().inbound_call_record(&call_id);
        let write = Write {
            expected_version: 0,
            record_json: &json,
            idem: Some(("incoming", REPLY_IN_TIMELINE)),
            timeline: &entries,
            deadline: Some(app.store.deadline_in(CALLBACK_WRITE_BUDGET)),
            effect: None,
        };
        match app.store.transition(&keys, write).await? {
            WriteOutcome::Written { version } => {
                app.inbound_calls
                    .put(&call_id, version, decision.next.clone());
            }
            WriteOutcome::AlreadyHandled(reply) => return Ok(reply),
            WriteOutcome::Late => return Err(ServiceError::TooLate),
            // Stored by a retry of this webhook that is still on its way.
            WriteOutcome::Conflict { .. } => {
                let outcome =
                    transition::run(&machine, &call_id, &InboundInput::Incoming, None).await?;
                return Ok(outcome.reply);
            }
        }
        crate::observe::transition("inbound_call", decision.next.state.name());
        info!(
            caller = %decision.next.from.masked(),
            called = %decision.next.to.masked(),
            route = ?decision.next.route,
            "inbound call"
        );
        log_new_call(app, &decision.next).await;
        let incoming = InboundCallEvent::Incoming {
            call_id: call_id.clone(),
            caller: decision.next.from.clone(),
            called: decision.next.to.clone(),
        };
        app.inbound_listeners.tell(app, vec![incoming]);
        machine.follow_up(&fresh, &decision);
        Ok(decision.reply)
    }
    .instrument(span)
    .await
}

/// The new call's bookkeeping: its call log entry and expiry, and its
/// CallSid index (for `GET /api/calls/{CallSid}`), written together. A
/// failure leaves the call running, unlisted: logged, not fatal.
async fn log_new_call(app: &AppState, record: &InboundRecord) {
    let entry = CallLogEntry {
        at_ms: record.created_at.timestamp_millis(),
        direction: Direction::Inbound.as_str().to_string(),
        call_id: record.call_id.clone(),
    };
    let keys = app.store.keys().inbound_call_record(&record.call_id);
    let ttl = app.record_ttl();
    let logged = app
        .store
        .log_new_call(&entry, &keys, ttl, app.call_log_cutoff_ms());
    let indexed = app
        .store
        .index_call_sid(&record.call_sid, &record.call_id, ttl);
    if let Err(e) = tokio::try_join!(logged, indexed) {
        warn!(error = %e, "inbound call not entered in the call log");
    }
}

/// Runs one verified callback of an inbound call and returns the TwiML to
/// answer with. A retry of a handled callback gets the first reply.
pub async fn handle_callback(
    app: &Arc<AppState>,
    call_id: &str,
    input: InboundInput,
) -> Result<String, ServiceError> {
    app.callbacks
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let deadline = app.store.deadline_in(CALLBACK_WRITE_BUDGET);
    let machine = InboundCalls(app.clone());
    Ok(transition::run(&machine, call_id, &input, Some(deadline))
        .await?
        .reply)
}

/// Learns who took a forward that rang several people at once: Twilio's
/// record of the answered leg (`DialCallSid`) names the number. Bounded by
/// the REST client's timeout; a failure leaves `answered_by` empty.
async fn look_up_answerer(app: Arc<AppState>, call_id: String, dial_call_sid: String) {
    let number = match app.twilio.fetch_call(&dial_call_sid).await {
        Ok(call) => call.to.unwrap_or_default(),
        Err(e) => {
            warn!(call_id, error = %e, "who answered the forward is unknown");
            return;
        }
    };
    let machine = InboundCalls(app.clone());
    let input = InboundInput::AnsweredBy { number };
    if let Err(e) = transition::run(&machine, &call_id, &input, None).await {
        warn!(call_id, error = %e, "who answered the forward was not recorded");
    }
}

/// An inbound call as stored, by our id.
pub async fn record(app: &AppState, call_id: &str) -> Result<InboundRecord, ServiceError> {
    let keys = app.store.keys().inbound_call_record(call_id);
    let loaded = app.store.load(&keys, "").await?;
    let json = loaded.record.ok_or(ServiceError::NotFound)?;
    serde_json::from_str(&json)
        .map_err(|e| crate::store::StoreError::Corrupt(format!("inbound record: {e}")).into())
}
