//! Applies one Twilio callback to a call record: pure, no I/O. The result says
//! what changed, which effects to carry out and what to write to the timeline.

use chrono::{DateTime, Utc};

use super::{advance, CallRecord, CallState, CallStatus, Effect, Event, Rules, Step};
use crate::flow::Flow;
use crate::twilio::webhook::{is_machine, Callback};

#[derive(Debug, Clone)]
pub struct Applied {
    pub record: CallRecord,
    /// The machine's step, when the callback was an event for it.
    pub step: Option<Step>,
    pub event: String,
    /// Whether anything worth writing changed.
    pub changed: bool,
}

impl Applied {
    pub fn effects(&self) -> &[Effect] {
        self.step
            .as_ref()
            .map(|s| s.effects.as_slice())
            .unwrap_or(&[])
    }

    /// True when the callee's number must go on the do-not-call list.
    pub fn adds_to_dnc(&self) -> bool {
        self.effects().contains(&Effect::AddToDoNotCall)
    }
}

pub fn rules_for(record: &CallRecord, flow: &Flow, consent_default: bool) -> Rules {
    flow.rules(record.name.is_some(), consent_default)
}

/// Feeds an event to the machine and folds the outcome into the record.
pub fn apply_event(
    record: &CallRecord,
    event: &Event,
    rules: Rules,
    now: DateTime<Utc>,
) -> (CallRecord, Step) {
    let step = advance(&record.state, event, rules);
    let mut next = record.clone();
    for effect in &step.effects {
        match effect {
            Effect::RecordConsent(given) => next.consent = Some(*given),
            Effect::Ask(_) => next.turn += 1,
            _ => {}
        }
    }
    next.state = step.state.clone();
    if let Some(d) = step.state.disposition() {
        next.disposition = Some(d);
    }
    if next != *record {
        next.updated_at = now;
    }
    (next, step)
}

/// Applies a verified callback. `flow` is the version the call started with.
pub fn apply_callback(
    record: &CallRecord,
    callback: &Callback,
    call_sid: Option<&str>,
    flow: &Flow,
    consent_default: bool,
    now: DateTime<Utc>,
) -> Applied {
    let rules = rules_for(record, flow, consent_default);
    let mut base = record.clone();
    if base.call_sid.is_none() {
        base.call_sid = call_sid.map(str::to_owned);
    }
    let (event, mut next, step) = match callback {
        Callback::Answer { answered_by } => {
            let event = Event::Answered {
                machine: is_machine(answered_by.as_deref()),
            };
            if base.answered_at.is_none() {
                base.answered_at = Some(now);
                base.answered_by = answered_by.clone();
                let rank = CallStatus::parse(&base.status).map_or(0, CallStatus::rank);
                if rank < CallStatus::InProgress.rank() {
                    base.status = CallStatus::InProgress.as_str().into();
                }
            }
            let (next, step) = apply_event(&base, &event, rules, now);
            (event.name(), next, Some(step))
        }
        Callback::Gather { speech, digits, .. } => {
            let intent = flow.intents.classify(speech.as_deref(), digits.as_deref());
            let event = Event::Input(intent);
            let (next, step) = apply_event(&base, &event, rules, now);
            (event.name(), next, Some(step))
        }
        Callback::Status {
            status,
            sequence,
            duration_secs,
        } => {
            let Some(parsed) = CallStatus::parse(status) else {
                return Applied {
                    record: record.clone(),
                    step: None,
                    event: format!("status:{status}"),
                    changed: false,
                };
            };
            let current = CallStatus::parse(&base.status);
            let is_final = current.is_some_and(CallStatus::is_terminal);
            // A terminal status is final; a late, lower-ranked one never moves us back.
            if !is_final && current.is_none_or(|c| parsed.rank() >= c.rank()) {
                base.status = parsed.as_str().into();
                if parsed.is_terminal() {
                    base.ended_at = Some(now);
                    base.duration_secs = *duration_secs;
                }
            }
            if let Some(seq) = sequence {
                base.last_sequence = Some(base.last_sequence.map_or(*seq, |s| s.max(*seq)));
            }
            let event = Event::Status(parsed);
            if is_final {
                // Nothing after a final status reaches the machine.
                (event.name(), base, None)
            } else {
                let (next, step) = apply_event(&base, &event, rules, now);
                (event.name(), next, Some(step))
            }
        }
        Callback::Recording { sid, status } => {
            // Only a recording we started (after consent) is accepted.
            if record.consent == Some(true) {
                base.recording_sid = Some(sid.clone());
                base.recording_status = Some(status.clone());
            }
            (format!("recording:{status}"), base, None)
        }
    };
    let changed = next != *record;
    if changed {
        next.updated_at = now;
    }
    Applied {
        record: next,
        step,
        event,
        changed,
    }
}

/// The call's state name path for a step: where it came from, passed and rests.
pub fn via_names(step: &Step) -> Vec<String> {
    step.via
        .iter()
        .map(|s| CallState::name(s).to_string())
        .collect()
}
