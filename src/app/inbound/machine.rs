//! The inbound call machine plugged into the transition loop: what deciding
//! needs (the call's inbound flow), the decision (pure `decide::apply` plus
//! the TwiML to answer with), and the follow-ups once it is stored (listeners
//! told, who answered looked up).

use std::sync::Arc;

use tracing::{info, warn};

use super::decide::{self, Change};
use super::events::InboundCallEvent;
use super::record::InboundRecord;
use crate::app::transition::{Decision, Machine};
use crate::app::{AppState, ServiceError};
use crate::call::TimelineEntry;
use crate::flow::InboundFlow;
use crate::inbound::{InboundEffect, InboundInput};
use crate::record_cache::RecordCache;
use crate::render_inbound::{InboundCall, InboundRenderer};
use crate::store::{RecordKeys, Store, REPLY_IN_TIMELINE};
use crate::twiml;

/// Remembered instead of the empty document that answers status,
/// transcription and recording callbacks.
const EMPTY_REPLY: &str = "=empty";

/// What the follow-ups need to know of a decision.
pub struct InboundNote {
    event: String,
    events: Vec<InboundCallEvent>,
    lookup_answerer: Option<String>,
}

/// The inbound call machine over one tenant's view of the application.
pub struct InboundCalls(pub Arc<AppState>);

/// A timeline entry as stored (the same shape as an outbound call's).
pub(super) fn timeline_entry(
    at: chrono::DateTime<chrono::Utc>,
    event: &str,
    before: &InboundRecord,
    after: &InboundRecord,
    via: Vec<String>,
    twiml: Option<String>,
) -> String {
    let entry = TimelineEntry {
        at,
        event: event.to_string(),
        from: before.state.name().to_string(),
        to: after.state.name().to_string(),
        via,
        twiml,
        heard: None,
    };
    serde_json::to_string(&entry).expect("timeline entries serialize")
}

impl InboundCalls {
    /// The TwiML for `effects` with the call's flow, numbers and the tenant's words.
    pub(super) fn render(
        &self,
        flow: &InboundFlow,
        record: &InboundRecord,
        effects: &[InboundEffect],
    ) -> String {
        let app = &self.0;
        let renderer = InboundRenderer {
            public_base_url: app.settings.public_base_url.clone(),
        };
        let call = InboundCall {
            call_id: &record.call_id,
            turn: record.turn,
            company: &app.settings.company_name,
            called: record.to.as_str(),
            legs: &record.legs,
            voicemail_greeting: app.inbound.voicemail_greeting.as_deref(),
        };
        renderer.render(flow, &call, effects)
    }

    /// The decision for `input` (also the first webhook's, before the record exists).
    pub(super) fn decision(
        &self,
        flow: &InboundFlow,
        record: &InboundRecord,
        input: &InboundInput,
    ) -> Decision<InboundRecord, InboundNote> {
        let app = &self.0;
        let now = app.clock.now();
        let Change {
            next,
            effects,
            via,
            changed,
            events,
            lookup_answerer,
        } = decide::apply(flow, record, input, now, &app.settings.company_name);
        let voice_doc = input.expects_voice_reply();
        let reply = match (voice_doc, effects.is_empty()) {
            (false, _) => twiml::empty(),
            (true, false) => self.render(flow, &next, &effects),
            (true, true) => self.render(flow, &next, &decide::resume(&next.state)),
        };
        let event = input.name();
        let entry = changed.then(|| {
            timeline_entry(
                now,
                &event,
                record,
                &next,
                via,
                voice_doc.then(|| reply.clone()),
            )
        });
        let remember = if !voice_doc {
            EMPTY_REPLY.to_string()
        } else if changed {
            REPLY_IN_TIMELINE.to_string()
        } else {
            reply.clone()
        };
        Decision {
            next,
            changed,
            entry,
            reply,
            remember,
            effect: None,
            note: InboundNote {
                event,
                events,
                lookup_answerer,
            },
        }
    }

    /// Tells the listeners what the stored decision did, and looks up who
    /// took a forward that rang several people, off the reply's path.
    pub(super) fn follow_up(
        &self,
        before: &InboundRecord,
        decision: &Decision<InboundRecord, InboundNote>,
    ) {
        let app = &self.0;
        let after = &decision.next;
        if before.state != after.state {
            info!(
                call_id = %after.call_id,
                event = %decision.note.event,
                from = before.state.name(),
                to = after.state.name(),
                disposition = after.disposition.map(|d| d.as_str()),
                "inbound call moved"
            );
        }
        app.inbound_listeners
            .tell(app, decision.note.events.clone());
        if let Some(dial_sid) = decision.note.lookup_answerer.clone() {
            let app = app.clone();
            let call_id = after.call_id.clone();
            tokio::spawn(async move { super::look_up_answerer(app, call_id, dial_sid).await });
        }
    }
}

impl Machine for InboundCalls {
    const NAME: &'static str = "inbound_call";
    type Record = InboundRecord;
    type Input = InboundInput;
    type Context = Arc<InboundFlow>;
    type Note = InboundNote;

    fn store(&self) -> &Store {
        &self.0.store
    }

    fn keys(&self, id: &str) -> RecordKeys {
        self.0.store.keys().inbound_call_record(id)
    }

    fn cache(&self) -> &RecordCache<InboundRecord> {
        &self.0.inbound_calls
    }

    fn idempotency_key(input: &InboundInput) -> Option<String> {
        input.idempotency_key()
    }

    async fn context(&self, record: &InboundRecord) -> Result<Arc<InboundFlow>, ServiceError> {
        self.0.flows.inbound(&record.flow_id).ok_or_else(|| {
            warn!(call_id = %record.call_id, flow = %record.flow_id, "inbound flow gone");
            ServiceError::UnknownFlow(record.flow_id.clone())
        })
    }

    fn decide(
        &self,
        flow: &Arc<InboundFlow>,
        record: &InboundRecord,
        input: &InboundInput,
    ) -> Decision<InboundRecord, InboundNote> {
        self.decision(flow, record, input)
    }

    async fn before_write(
        &self,
        _before: &InboundRecord,
        _decision: &Decision<InboundRecord, InboundNote>,
    ) -> Result<(), ServiceError> {
        Ok(())
    }

    async fn after_write(
        &self,
        before: &InboundRecord,
        decision: &Decision<InboundRecord, InboundNote>,
        _input: &InboundInput,
    ) {
        self.follow_up(before, decision);
    }

    fn replay(&self, remembered: String) -> String {
        if remembered == EMPTY_REPLY {
            twiml::empty()
        } else {
            remembered
        }
    }

    fn is_finished(record: &InboundRecord) -> bool {
        record.is_finished()
    }

    fn state_name(record: &InboundRecord) -> &'static str {
        record.state.name()
    }
}
