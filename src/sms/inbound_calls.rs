//! What inbound calls owe the outside world once their transitions are
//! stored: the missed-call text and the menu's texts (through the text
//! outbox), and the tenant's events (`call.incoming`, `call.missed`,
//! `call.completed`, `voicemail.received`). Registered in `startup.rs` as an
//! [`InboundListener`]; everything runs on a task of its own, so a webhook's
//! reply never waits for it.

use std::sync::Arc;

use serde_json::{json, Value};
use tracing::warn;

use super::enqueue_sms;
use crate::app::inbound::{missed_call_text_due, InboundCallEvent, InboundListener};
use crate::app::notifications::NotificationType;
use crate::app::AppState;
use crate::outbox::events::{emit_logged, EventType};
use crate::phone::E164;

pub struct InboundCallOutcomes;

impl InboundListener for InboundCallOutcomes {
    fn on_event(&self, app: &Arc<AppState>, event: InboundCallEvent) {
        let app = app.clone();
        tokio::spawn(async move { handle(&app, event).await });
    }
}

async fn handle(app: &AppState, event: InboundCallEvent) {
    match &event {
        InboundCallEvent::Missed { caller, .. } => {
            if let Some(body) = app.inbound.missed_call_sms.clone() {
                if missed_call_text_due(app, caller).await {
                    text(app, caller, &body, NotificationType::MissedCall).await;
                }
            }
        }
        InboundCallEvent::MenuText {
            caller, text: body, ..
        } => text(app, caller, body, NotificationType::MenuText).await,
        _ => {}
    }
    if let Some((kind, data)) = relayed(&event) {
        emit_logged(app, kind, data).await;
    }
}

/// Queues a text; a do-not-call number or a bad body is logged, not sent.
async fn text(app: &AppState, to: &E164, body: &str, kind: NotificationType) {
    if let Err(e) = enqueue_sms(app, to, body, kind, None).await {
        warn!(to = %to.masked(), kind = kind.as_str(), error = %e, "text for an inbound call not queued");
    }
}

/// The event the tenant's `events_url` receives for `event`, if any. The
/// numbers are full: the receiver is the tenant's own service.
fn relayed(event: &InboundCallEvent) -> Option<(EventType, Value)> {
    Some(match event {
        InboundCallEvent::Incoming {
            call_id,
            caller,
            called,
        } => (
            EventType::CallIncoming,
            json!({"call_id": call_id, "from": caller.as_str(), "to": called.as_str()}),
        ),
        InboundCallEvent::Missed {
            call_id,
            caller,
            called,
        } => (
            EventType::CallMissed,
            json!({"call_id": call_id, "from": caller.as_str(), "to": called.as_str()}),
        ),
        InboundCallEvent::Completed {
            call_id,
            caller,
            called,
            disposition,
            reason,
            answered_by,
            duration_secs,
        } => (
            EventType::CallCompleted,
            json!({
                "call_id": call_id, "direction": "inbound",
                "from": caller.as_str(), "to": called.as_str(),
                "disposition": disposition, "reason": reason,
                "answered_by": answered_by, "duration_s": duration_secs,
            }),
        ),
        InboundCallEvent::VoicemailReceived {
            call_id,
            caller,
            called,
            recording_url,
            transcription,
        } => (
            EventType::VoicemailReceived,
            json!({
                "call_id": call_id, "from": caller.as_str(), "to": called.as_str(),
                "recording_url": recording_url, "transcription": transcription,
            }),
        ),
        InboundCallEvent::MenuText { .. } => return None,
    })
}
