//! The pure step of an inbound call: one input against one version of its
//! record gives the next record, the machine's effects and what listeners are
//! told. No I/O: the transition loop writes, `machine.rs` renders.

use chrono::{DateTime, Utc};

use super::events::InboundCallEvent;
use super::record::{CallProgress, InboundRecord};
use crate::flow::InboundFlow;
use crate::inbound::{
    advance, DialOutcome, InboundDisposition, InboundEffect, InboundEvent, InboundInput,
    InboundPrompt, InboundState,
};

/// What one input did to an inbound call.
#[derive(Debug, Clone)]
pub struct Change {
    pub next: InboundRecord,
    pub effects: Vec<InboundEffect>,
    /// States passed through on the way (their names).
    pub via: Vec<String>,
    pub changed: bool,
    pub events: Vec<InboundCallEvent>,
    /// A forward rang several people and one answered: the `DialCallSid` to
    /// look up to learn who.
    pub lookup_answerer: Option<String>,
}

/// The machine's event for `input`, and the facts it carries written to `next`.
fn event_of(
    flow: &InboundFlow,
    record: &InboundRecord,
    input: &InboundInput,
    next: &mut InboundRecord,
    lookup: &mut Option<String>,
    now: DateTime<Utc>,
) -> Option<InboundEvent> {
    match input {
        InboundInput::Incoming => Some(InboundEvent::Incoming),
        InboundInput::Menu {
            turn,
            speech,
            digits,
        } => {
            let current = matches!(record.state, InboundState::Menu { .. }) && *turn == record.turn;
            current.then(|| InboundEvent::Menu(flow.pick(speech.as_deref(), digits.as_deref())))
        }
        InboundInput::Dial {
            leg,
            status,
            dial_call_sid,
            ..
        } => {
            let outcome = DialOutcome::parse(status)?;
            let current = match record.state {
                InboundState::Forwarding { leg: l } => l == *leg,
                InboundState::Ended { .. } => true,
                _ => false,
            };
            if !current {
                return None;
            }
            if outcome == DialOutcome::Answered && next.answered_by.is_none() {
                match record.legs.get(*leg as usize).map(Vec::as_slice) {
                    Some([one]) => next.answered_by = Some(one.clone()),
                    Some(_) => lookup.clone_from(dial_call_sid),
                    None => {}
                }
            }
            Some(InboundEvent::DialEnded(outcome))
        }
        InboundInput::Recorded {
            sid, url, seconds, ..
        } => {
            if *seconds > 0 {
                next.recording_sid = sid.clone().or(next.recording_sid.take());
                next.recording_url = url.clone().or(next.recording_url.take());
                next.recording_secs = Some(*seconds);
            }
            Some(InboundEvent::Recorded { seconds: *seconds })
        }
        InboundInput::Transcription { text, status } => {
            let text = text.as_deref().map(str::trim).filter(|t| !t.is_empty());
            if status == "completed" && next.transcription.is_none() {
                next.transcription = text.map(str::to_string);
            }
            None
        }
        InboundInput::Status {
            status,
            duration_secs,
            ..
        } => {
            let progress = CallProgress::parse(status)?;
            // Never backwards: a late `ringing` does not undo `completed`.
            next.status = next.status.max(progress);
            if !progress.is_terminal() {
                return None;
            }
            if next.duration_secs.is_none() {
                next.duration_secs = *duration_secs;
            }
            next.ended_at.get_or_insert(now);
            Some(InboundEvent::HungUp)
        }
        InboundInput::Recording { sid, status, url } => {
            if status == "completed" && next.recording_sid.is_none() {
                next.recording_sid = Some(sid.clone());
                next.recording_url.clone_from(url);
            }
            None
        }
        InboundInput::AnsweredBy { number } => {
            if next.answered_by.is_none() {
                next.answered_by = record
                    .legs
                    .iter()
                    .flatten()
                    .find(|p| p.number == *number)
                    .cloned();
            }
            None
        }
    }
}

/// Applies `input` to `record` with the call's flow.
pub fn apply(
    flow: &InboundFlow,
    record: &InboundRecord,
    input: &InboundInput,
    now: DateTime<Utc>,
    company: &str,
) -> Change {
    let mut next = record.clone();
    let mut lookup = None;
    let event = event_of(flow, record, input, &mut next, &mut lookup, now);
    let mut effects = Vec::new();
    let mut via = Vec::new();
    if let Some(event) = event {
        let legs = u8::try_from(record.legs.len()).unwrap_or(u8::MAX);
        let rules = flow.rules(legs, true, record.route);
        let step = advance(&record.state, &event, rules);
        via = step.via.iter().map(|s| s.name().to_string()).collect();
        next.state = step.state;
        effects = step.effects;
    }
    for effect in &effects {
        match effect {
            InboundEffect::Reason(reason) => next.reason = Some(*reason),
            InboundEffect::Ask(_) => next.turn += 1,
            _ => {}
        }
    }
    next.disposition = next.state.disposition();
    let events = events(record, &next, &effects, flow, company);
    let changed = next != *record;
    if changed {
        next.updated_at = now;
    }
    Change {
        next,
        effects,
        via,
        changed,
        events,
        lookup_answerer: lookup,
    }
}

/// What listeners are told of the change from `before` to `after`, in order.
fn events(
    before: &InboundRecord,
    after: &InboundRecord,
    effects: &[InboundEffect],
    flow: &InboundFlow,
    company: &str,
) -> Vec<InboundCallEvent> {
    let (call_id, caller, called) = (&after.call_id, &after.from, &after.to);
    let mut out = Vec::new();
    for effect in effects {
        match effect {
            InboundEffect::TextMissedCall => out.push(InboundCallEvent::Missed {
                call_id: call_id.clone(),
                caller: caller.clone(),
                called: called.clone(),
            }),
            InboundEffect::SendOptionSms { option } => {
                let values = |name: &str| match name {
                    "company" => Some(company.to_string()),
                    "callback_number" => Some(called.as_str().to_string()),
                    _ => None,
                };
                if let Some(text) = flow.option_sms(*option, &values) {
                    out.push(InboundCallEvent::MenuText {
                        call_id: call_id.clone(),
                        caller: caller.clone(),
                        called: called.clone(),
                        text,
                    });
                }
            }
            _ => {}
        }
    }
    let voicemail = Some(InboundDisposition::Voicemail);
    let left_now = after.disposition == voicemail && before.disposition != voicemail;
    let words_now = after.disposition == voicemail
        && before.disposition == voicemail
        && before.transcription.is_none()
        && after.transcription.is_some();
    if left_now || words_now {
        out.push(InboundCallEvent::VoicemailReceived {
            call_id: call_id.clone(),
            caller: caller.clone(),
            called: called.clone(),
            recording_url: after.recording_url.clone(),
            transcription: after.transcription.clone(),
        });
    }
    let corrected = before.disposition != after.disposition;
    if after.is_finished() && (!before.is_finished() || corrected) {
        if let Some(disposition) = after.disposition {
            out.push(InboundCallEvent::Completed {
                call_id: call_id.clone(),
                caller: caller.clone(),
                called: called.clone(),
                disposition,
                reason: after.reason,
                answered_by: after.answered_by.as_ref().map(|p| p.number.clone()),
                duration_secs: after.duration_secs,
            });
        }
    }
    out
}

/// What a voice callback that moves nothing is answered with: the call goes
/// on where it is (a late or repeated menu answer hears the menu again).
pub fn resume(state: &InboundState) -> Vec<InboundEffect> {
    match state {
        InboundState::Menu { .. } => vec![InboundEffect::Ask(InboundPrompt::MenuReprompt)],
        InboundState::Forwarding { leg } => vec![InboundEffect::Forward { leg: *leg }],
        InboundState::Voicemail { .. } => vec![InboundEffect::Record],
        _ => vec![InboundEffect::Hangup],
    }
}
