//! The outbound call machine plugged into the transition loop: what deciding
//! needs (the call's flow version), the decision (pure `call::apply` plus the
//! TwiML to answer with), and the follow-ups around the write.

use std::sync::Arc;
use std::time::Duration;

use tracing::info;

use super::transition::{self, Decision, Machine};
use super::{AppState, ServiceError};
use crate::call::apply::{apply, via_names, Change};
use crate::call::{self, CallRecord, Heard, Input, TimelineEntry};
use crate::flow::Flow;
use crate::record_cache::RecordCache;
use crate::store::{RecordKeys, Store, REPLY_IN_TIMELINE};
use crate::twiml;

/// How long a callback's transition may take to reach Redis: past it the
/// script writes nothing (checked with Redis's own clock). Shorter than the
/// store's response timeout (`store::RESPONSE_TIMEOUT`, 2 s), after which the
/// webhook gives up and answers with an apology: the 0.5 s between them
/// covers the script's answer on its way back, so a transition is stored
/// only if its reply can still be given. Twilio waits 15 s for a reply.
pub const CALLBACK_WRITE_BUDGET: Duration = Duration::from_millis(1500);

/// Remembered instead of the empty document that answers every status and
/// recording callback (six of a call's ten), to keep each call's hash small.
const EMPTY_REPLY: &str = "=empty";

/// One input for a call, with the CallSid its callback carried (if any).
pub struct CallInput {
    pub input: Input,
    pub call_sid: Option<String>,
}

/// What the follow-ups need to know of a decision.
pub struct CallNote {
    event: String,
}

/// The outbound call machine over the application state.
pub struct OutboundCalls<'a>(pub &'a AppState);

/// Runs one verified callback and returns the TwiML to answer with.
/// A retry of a handled callback gets the first reply and changes nothing.
/// Nothing is written after [`CALLBACK_WRITE_BUDGET`] from now.
pub async fn handle_callback(
    app: &AppState,
    call_id: &str,
    input: Input,
    call_sid: Option<String>,
) -> Result<String, ServiceError> {
    app.callbacks
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let deadline = app.store.deadline_in(CALLBACK_WRITE_BUDGET);
    let input = CallInput { input, call_sid };
    Ok(
        transition::run(&OutboundCalls(app), call_id, &input, Some(deadline))
            .await?
            .reply,
    )
}

/// A timeline entry as stored.
pub(crate) fn timeline_entry(
    at: chrono::DateTime<chrono::Utc>,
    event: &str,
    before: &CallRecord,
    after: &CallRecord,
    via: Vec<String>,
    twiml: Option<String>,
    heard: Option<Heard>,
) -> String {
    let entry = TimelineEntry {
        at,
        event: event.to_string(),
        from: before.state.name().to_string(),
        to: after.state.name().to_string(),
        via,
        twiml,
        heard,
    };
    serde_json::to_string(&entry).expect("timeline entries serialize")
}

impl OutboundCalls<'_> {
    /// Frees the number of a call that is over for its next call, off the
    /// reply's path (a release lost to a crash lapses with its lease). An
    /// opted-out call first makes sure its do-not-call entry is in place (its
    /// transition wrote it, unless that instance died before; the reaper would
    /// too, later), so the number is never free while the entry is missing.
    fn release_number(&self, after: &CallRecord) {
        let app = self.0;
        let owed = (after.disposition == Some(call::Disposition::OptedOut))
            .then(|| app.dnc_effect(&after.to, &format!("call:{}", after.call_id)));
        let store = app.store.clone();
        let record_key = store.keys().call(&after.call_id);
        let (to, call_id) = (after.to.as_str().to_string(), after.call_id.clone());
        tokio::spawn(async move {
            if let Some(effect) = owed {
                if let Err(e) = store.perform_effect(&record_key, &effect).await {
                    tracing::warn!(call_id, error = %e, "an opted-out call keeps its number until its do-not-call entry is in place");
                    return;
                }
            }
            if let Err(e) = store.dial_cap_forget(&to, None, &call_id).await {
                tracing::warn!(call_id, error = %e, "a finished call still holds its number until its lease ends");
            }
        });
    }
}

impl Machine for OutboundCalls<'_> {
    const NAME: &'static str = "outbound_call";
    type Record = CallRecord;
    type Input = CallInput;
    type Context = Arc<Flow>;
    type Note = CallNote;

    fn store(&self) -> &Store {
        &self.0.store
    }

    fn keys(&self, id: &str) -> RecordKeys {
        self.0.store.keys().call_record(id)
    }

    fn cache(&self) -> &RecordCache<CallRecord> {
        &self.0.calls
    }

    fn idempotency_key(input: &Self::Input) -> Option<String> {
        input.input.idempotency_key()
    }

    async fn context(&self, record: &CallRecord) -> Result<Arc<Flow>, ServiceError> {
        self.0
            .flow_for_version(&record.flow_id, &record.flow_version)
            .await
    }

    fn decide(
        &self,
        flow: &Arc<Flow>,
        record: &CallRecord,
        input: &Self::Input,
    ) -> Decision<CallRecord, CallNote> {
        let app = self.0;
        let rules = flow.rules(
            record.name.is_some(),
            app.settings.require_recording_consent,
        );
        let classify =
            |speech: Option<&str>, digits: Option<&str>| flow.intents.classify(speech, digits);
        let now = app.clock.now();
        let Change {
            record: next,
            step,
            event,
            changed,
            heard,
        } = apply(
            record,
            &input.input,
            input.call_sid.as_deref(),
            rules,
            classify,
            now,
        );
        let effects = step.as_ref().map_or(&[][..], |s| s.effects.as_slice());
        let voice_doc = input.input.expects_voice_reply();
        let reply = if voice_doc {
            app.renderer.render(flow, &next, effects)
        } else {
            twiml::empty()
        };
        let entry = changed.then(|| {
            let via = step.as_ref().map(via_names).unwrap_or_default();
            // The question's words as the callee heard them, from the record they were asked with.
            let heard = heard.map(|mut heard| {
                heard.prompt_text = heard.prompt.map(|p| app.renderer.text(flow, record, p));
                heard
            });
            timeline_entry(
                now,
                &event,
                record,
                &next,
                via,
                voice_doc.then(|| reply.clone()),
                heard,
            )
        });
        // A voice reply is already in the timeline entry: remember it by reference.
        let remember = if voice_doc && changed {
            REPLY_IN_TIMELINE.to_string()
        } else if !voice_doc {
            EMPTY_REPLY.to_string()
        } else {
            reply.clone()
        };
        // The opt-out's do-not-call entry: written with the transition or not at all.
        let effect = effects
            .contains(&call::Effect::AddToDoNotCall)
            .then(|| app.dnc_effect(&record.to, &format!("call:{}", record.call_id)));
        Decision {
            note: CallNote { event },
            effect,
            next,
            changed,
            entry,
            reply,
            remember,
        }
    }

    async fn before_write(
        &self,
        before: &CallRecord,
        decision: &Decision<CallRecord, CallNote>,
    ) -> Result<(), ServiceError> {
        let app = self.0;
        if let (None, Some(sid)) = (&before.call_sid, &decision.next.call_sid) {
            // Also before: once the record holds the CallSid nobody indexes it
            // again, so an instance dying between the two must not lose it.
            app.store
                .index_call_sid(sid, &before.call_id, app.record_ttl())
                .await?;
        }
        Ok(())
    }

    async fn after_write(
        &self,
        before: &CallRecord,
        decision: &Decision<CallRecord, CallNote>,
        input: &Self::Input,
    ) {
        let after = &decision.next;
        let finished_now = after.is_finished() && !before.is_finished();
        if finished_now {
            self.release_number(after);
        }
        // Dial results are settled by whoever dialed; only callbacks finish a call here.
        if !input.input.is_callback() {
            return;
        }
        if finished_now {
            if let Some(listener) = &self.0.listener {
                listener.call_finished(self.0, after).await;
            }
        }
        if before.state != after.state {
            info!(
                call_id = %after.call_id,
                event = %decision.note.event,
                from = before.state.name(),
                to = after.state.name(),
                disposition = after.disposition.map(|d| d.as_str()),
                "call moved"
            );
        }
    }

    fn replay(&self, remembered: String) -> String {
        if remembered == EMPTY_REPLY {
            twiml::empty()
        } else {
            remembered
        }
    }

    fn is_finished(record: &CallRecord) -> bool {
        record.is_finished()
    }

    fn state_name(record: &CallRecord) -> &'static str {
        record.state.name()
    }
}
