//! Applies one input to a call record: pure, no I/O. The result says what
//! changed, which effects to carry out and what to write to the timeline.

use chrono::{DateTime, Utc};

use super::{
    advance, ApiFailure, CallRecord, CallState, CallStatus, Disposition, Effect, Event, Heard,
    Input, Intent, Rules, Step,
};

/// A call record after one input: what changed, the machine's step and the
/// event name written to the timeline.
#[derive(Debug, Clone)]
pub struct Change {
    pub record: CallRecord,
    /// The machine's step, when the callback was an event for it.
    pub step: Option<Step>,
    pub event: String,
    /// Whether anything worth writing changed.
    pub changed: bool,
    /// A gather's answer, for the transcript.
    pub heard: Option<Heard>,
}

impl Change {
    /// Nothing to write: the input does not concern the machine.
    fn none(record: &CallRecord, event: String) -> Change {
        Change {
            record: record.clone(),
            step: None,
            event,
            changed: false,
            heard: None,
        }
    }

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

/// Applies one input to a call record. `rules` and `classify` (what a gather's
/// words mean) come from the flow version the call started with.
// Long on purpose: one arm per kind of input, side by side.
pub fn apply(
    record: &CallRecord,
    input: &Input,
    call_sid: Option<&str>,
    rules: Rules,
    classify: impl Fn(Option<&str>, Option<&str>) -> Intent,
    now: DateTime<Utc>,
) -> Change {
    let mut base = record.clone();
    if base.call_sid.is_none() {
        base.call_sid = call_sid.map(str::to_owned);
    }
    let mut heard = None;
    let (event, mut next, step) = match input {
        Input::Answer {
            answered_by,
            machine,
        } => {
            let event = Event::Answered { machine: *machine };
            if base.answered_at.is_none() {
                base.answered_at = Some(now);
                base.answered_by = answered_by.clone();
                if base.status.rank() < CallStatus::InProgress.rank() {
                    base.status = CallStatus::InProgress;
                }
            }
            let (next, step) = apply_event(&base, &event, rules, now);
            (event.name(), next, Some(step))
        }
        // Only the turn the call is on: a late or early gather (a retry of a
        // turn already answered is replayed before it gets here) moves nothing,
        // so it can neither advance the call nor opt anyone out.
        Input::Gather { turn, .. } if *turn != record.turn => {
            return Change::none(record, format!("gather:{turn}:not-current"));
        }
        Input::Gather {
            turn,
            speech,
            digits,
            confidence,
        } => {
            let intent = classify(speech.as_deref(), digits.as_deref());
            heard = Some(Heard::new(
                *turn,
                record.state.question(),
                speech.as_deref(),
                *confidence,
                digits.as_deref(),
                intent,
            ));
            let event = Event::Input(intent);
            let (next, step) = apply_event(&base, &event, rules, now);
            (event.name(), next, Some(step))
        }
        Input::Status {
            status,
            sequence,
            duration_secs,
        } => {
            let Some(parsed) = CallStatus::parse(status) else {
                return Change::none(record, format!("status:{status}"));
            };
            let is_final = base.status.is_terminal();
            note_status(&mut base, parsed, *sequence, *duration_secs, now);
            let event = Event::Status(parsed);
            if is_final {
                // Nothing after a final status reaches the machine.
                (event.name(), base, None)
            } else {
                let (next, step) = apply_event(&base, &event, rules, now);
                (event.name(), next, Some(step))
            }
        }
        Input::Recording { sid, status } => {
            // Only a recording we started (after consent) is accepted.
            if record.consent == Some(true) {
                base.recording_sid = Some(sid.clone());
                base.recording_status = Some(status.clone());
            }
            (format!("recording:{status}"), base, None)
        }
        // Dial results change the record only; their timeline entry has no path.
        other => return dial_result(record, other, rules, now),
    };
    let changed = next != *record;
    if changed {
        next.updated_at = now;
    }
    Change {
        record: next,
        step,
        event,
        changed,
        heard: heard.filter(|_| changed),
    }
}

/// Folds a status callback into the record: a terminal status is final, and a
/// late, lower-ranked one never moves the status back.
fn note_status(
    record: &mut CallRecord,
    status: CallStatus,
    sequence: Option<u32>,
    duration_secs: Option<u32>,
    now: DateTime<Utc>,
) {
    if !record.status.is_terminal() && status.rank() >= record.status.rank() {
        record.status = status;
        if status.is_terminal() {
            record.ended_at = Some(now);
            record.duration_secs = duration_secs;
        }
    }
    if let Some(seq) = sequence {
        record.last_sequence = Some(record.last_sequence.map_or(seq, |s| s.max(seq)));
    }
}

/// What the answer to a create-call request changes. Not timestamped: the
/// record's `updated_at` moves with the call, not with our bookkeeping.
fn dial_result(record: &CallRecord, input: &Input, rules: Rules, now: DateTime<Utc>) -> Change {
    let mut next = record.clone();
    let event = match input {
        Input::Dialed { sid } | Input::Reconciled { sid } => {
            next.call_sid.get_or_insert_with(|| sid.clone());
            if matches!(input, Input::Dialed { .. }) {
                "dialed"
            } else {
                "reconciled"
            }
        }
        Input::Rejected { failure } => {
            // After a final status from Twilio the call existed: that status stands.
            if !record.status.is_terminal() {
                next = apply_event(record, &Event::Rejected, rules, now).0;
                next.status = CallStatus::Failed;
                next.error = Some(failure.clone());
                next.ended_at.get_or_insert(now);
            }
            "rejected"
        }
        Input::Uncertain { failure } => {
            next.error = Some(failure.clone());
            "uncertain"
        }
        Input::Scheduled { at } => {
            // Only a call not yet placed: the rules held it.
            if record.call_sid.is_none()
                && matches!(record.status, CallStatus::Queued | CallStatus::Scheduled)
            {
                next.status = CallStatus::Scheduled;
                next.scheduled_at = Some(*at);
            }
            "scheduled"
        }
        Input::Due => {
            if record.status == CallStatus::Scheduled {
                next.status = CallStatus::Queued;
            }
            "due"
        }
        Input::Abandoned { reason } => {
            // Only a call that was never placed and has not ended.
            if record.call_sid.is_none() && record.state.disposition().is_none() {
                next.state = CallState::Ended {
                    disposition: Disposition::Failed,
                };
                next.disposition = Some(Disposition::Failed);
                next.status = CallStatus::Failed;
                next.error = Some(ApiFailure {
                    code: None,
                    message: reason.clone(),
                });
                next.ended_at.get_or_insert(now);
                next.updated_at = now;
            }
            "abandoned"
        }
        _ => "",
    };
    Change {
        changed: next != *record,
        record: next,
        step: None,
        event: event.to_string(),
        heard: None,
    }
}

/// The call's state name path for a step: where it came from, passed and rests.
pub fn via_names(step: &Step) -> Vec<String> {
    step.via
        .iter()
        .map(|s| CallState::name(s).to_string())
        .collect()
}
