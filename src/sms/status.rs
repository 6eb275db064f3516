//! A status Twilio reports for a text callflow sent (the message's
//! `StatusCallback`): the notification's status moves forward only (one
//! script, see `store::notifications`), and each move is told to the tenant
//! (`notification.status`) once.

use crate::app::notifications::Notification;
use crate::app::AppState;
use crate::outbox::events::{emit_logged, EventType};
use crate::outbox::sms::status_event;
use crate::store::{NotificationStatus, StatusChange, StatusUpdate, StoreError};

/// A message status callback's fields.
#[derive(Debug, Clone, Default)]
pub struct StatusReport {
    pub notification_id: String,
    pub message_sid: Option<String>,
    /// Twilio's `MessageStatus`.
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Applies a report; what it did (`Missing` for an unknown notification).
pub async fn apply(app: &AppState, report: &StatusReport) -> Result<StatusChange, StoreError> {
    let Some(status) = NotificationStatus::from_twilio(&report.status) else {
        tracing::info!(status = %report.status, "message status not tracked; ignored");
        return Ok(StatusChange::Unchanged);
    };
    let update = StatusUpdate {
        at: &app.clock.now().to_rfc3339(),
        error_code: report.error_code.as_deref(),
        error_message: report.error_message.as_deref(),
        message_sid: report.message_sid.as_deref(),
    };
    let change = app
        .store
        .notification_status(&report.notification_id, status, &update)
        .await?;
    if change == StatusChange::Moved {
        crate::observe::sms_status(status.as_str());
        if app.events_url.is_some() {
            if let Some(fields) = app.store.notification_load(&report.notification_id).await? {
                if let Some((text, _)) = Notification::from_fields(&fields) {
                    let data = status_event(
                        &text,
                        status,
                        report.error_code.as_deref(),
                        report.error_message.as_deref(),
                    );
                    emit_logged(app, EventType::NotificationStatus, data).await;
                }
            }
        }
    }
    Ok(change)
}
