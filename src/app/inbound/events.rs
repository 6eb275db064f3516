//! What an inbound call tells the rest of the application, and who listens:
//! the missed-call text and the tenant's event relay are wired here by
//! `startup.rs`; the core knows neither.

use std::sync::{Arc, RwLock};

use crate::app::AppState;
use crate::inbound::{CallReason, InboundDisposition};
use crate::phone::E164;

/// Something that happened to an inbound call, told once its transition is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundCallEvent {
    /// A call came in to one of the tenant's numbers.
    Incoming {
        call_id: String,
        caller: E164,
        called: E164,
    },
    /// Nobody took the call: the caller is owed the missed-call text (see
    /// [`super::missed_call_text_due`]). Once per call.
    Missed {
        call_id: String,
        caller: E164,
        called: E164,
    },
    /// The caller chose a menu option that texts them (a booking link): `text`
    /// is owed to them (sent by whoever listens, never to a do-not-call number).
    MenuText {
        call_id: String,
        caller: E164,
        called: E164,
        text: String,
    },
    /// The call is over (ended and Twilio's final status known). Told again
    /// if a late callback corrects the disposition (a recording or an answer
    /// whose action came after the final status).
    Completed {
        call_id: String,
        caller: E164,
        called: E164,
        disposition: InboundDisposition,
        reason: Option<CallReason>,
        /// The number of the person who took the call.
        answered_by: Option<String>,
        duration_secs: Option<u32>,
    },
    /// A message was left; told again when its transcription arrives.
    VoicemailReceived {
        call_id: String,
        caller: E164,
        called: E164,
        recording_url: Option<String>,
        transcription: Option<String>,
    },
}

impl InboundCallEvent {
    /// The event's name as the tenant's event relay calls it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Incoming { .. } => "call.incoming",
            Self::Missed { .. } => "call.missed",
            Self::MenuText { .. } => "call.menu_text",
            Self::Completed { .. } => "call.completed",
            Self::VoicemailReceived { .. } => "voicemail.received",
        }
    }
}

/// Told of every inbound call event right after its transition is stored, on
/// the callback's own task, before the reply is sent: an implementation must
/// not wait for anything (record, enqueue on a spawned task with a clone of
/// `app`, and return).
pub trait InboundListener: Send + Sync {
    fn on_event(&self, app: &Arc<AppState>, event: InboundCallEvent);
}

/// The listeners of one deployment, shared by every tenant's view.
#[derive(Default)]
pub struct InboundListeners(RwLock<Vec<Arc<dyn InboundListener>>>);

impl InboundListeners {
    pub fn add(&self, listener: Arc<dyn InboundListener>) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(listener);
    }

    /// Tells every listener of each event, in order.
    pub fn tell(&self, app: &Arc<AppState>, events: Vec<InboundCallEvent>) {
        if events.is_empty() {
            return;
        }
        let listeners = self.0.read().unwrap_or_else(|p| p.into_inner()).clone();
        for event in events {
            for listener in &listeners {
                listener.on_event(app, event.clone());
            }
        }
    }
}

/// Logs each event (numbers masked): the listener every deployment has.
pub struct LogListener;

impl InboundListener for LogListener {
    fn on_event(&self, _app: &Arc<AppState>, event: InboundCallEvent) {
        match &event {
            InboundCallEvent::Incoming {
                call_id, caller, ..
            }
            | InboundCallEvent::Missed {
                call_id, caller, ..
            }
            | InboundCallEvent::MenuText {
                call_id, caller, ..
            }
            | InboundCallEvent::VoicemailReceived {
                call_id, caller, ..
            } => {
                tracing::info!(call_id, caller = %caller.masked(), event = event.kind(), "inbound call event")
            }
            InboundCallEvent::Completed {
                call_id,
                caller,
                disposition,
                ..
            } => tracing::info!(
                call_id,
                caller = %caller.masked(),
                disposition = disposition.as_str(),
                event = event.kind(),
                "inbound call event"
            ),
        }
    }
}
