//! Events to the tenant: JSON POSTed to its `events_url` from the outbox,
//! signed with the Standard Webhooks scheme (see [`super::webhook`]), retried
//! with backoff. Emitting is one Redis round trip (the outbox item) and never
//! waits for the receiver. A tenant without `events_url` emits nothing.
//!
//! The body: `{"id", "type", "timestamp", "tenant", "data": {...}}`; `id` is
//! also the `webhook-id` header, the same on every retry.

use serde::Serialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::store::StoreError;

/// The kinds of event a tenant receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    #[serde(rename = "call.incoming")]
    CallIncoming,
    #[serde(rename = "call.missed")]
    CallMissed,
    #[serde(rename = "call.completed")]
    CallCompleted,
    /// A voicemail was left; sent again when its transcription arrives.
    #[serde(rename = "voicemail.received")]
    VoicemailReceived,
    #[serde(rename = "sms.received")]
    SmsReceived,
    #[serde(rename = "sms.opt_out")]
    SmsOptOut,
    #[serde(rename = "sms.opt_in")]
    SmsOptIn,
    /// A text callflow sent changed status.
    #[serde(rename = "notification.status")]
    NotificationStatus,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallIncoming => "call.incoming",
            Self::CallMissed => "call.missed",
            Self::CallCompleted => "call.completed",
            Self::VoicemailReceived => "voicemail.received",
            Self::SmsReceived => "sms.received",
            Self::SmsOptOut => "sms.opt_out",
            Self::SmsOptIn => "sms.opt_in",
            Self::NotificationStatus => "notification.status",
        }
    }
}

/// Queues `event` with `data` for the tenant's `events_url`; its id, or
/// `None` when the tenant has no `events_url`. Phone numbers in `data` go in
/// full: the receiver is the tenant's own service.
pub async fn emit(
    app: &AppState,
    event: EventType,
    data: Value,
) -> Result<Option<String>, StoreError> {
    let Some(url) = &app.events_url else {
        return Ok(None);
    };
    let body = json!({
        "type": event.as_str(),
        "timestamp": app.clock.now(),
        "tenant": app.tenant(),
        "data": data,
    });
    super::push_event(app, url, body, false).await.map(Some)
}

/// [`emit`], logging instead of failing: for callers whose own work is done
/// (a webhook about to answer) and must not fail for an event.
pub async fn emit_logged(app: &AppState, event: EventType, data: Value) {
    if let Err(e) = emit(app, event, data).await {
        tracing::warn!(event = event.as_str(), error = %e, "event not queued");
    }
}

#[cfg(test)]
mod tests {
    use super::EventType;

    #[test]
    fn names_are_the_wire_names() {
        for e in [
            EventType::CallIncoming,
            EventType::CallMissed,
            EventType::CallCompleted,
            EventType::VoicemailReceived,
            EventType::SmsReceived,
            EventType::SmsOptOut,
            EventType::SmsOptIn,
            EventType::NotificationStatus,
        ] {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
    }
}
