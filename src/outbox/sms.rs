//! Sending one notification's text: `CreateMessage` with the tenant's number
//! as `From` and a `StatusCallback` to `/twilio/sms/status` naming the
//! notification (and the tenant). Twilio's `429` is retried after its
//! `Retry-After`; any other refusal fails the notification with Twilio's
//! error code and message. An uncertain answer (timeout, 5xx) is not retried
//! (a create is not idempotent: a retry could text twice): the notification
//! fails saying so. A number put on the do-not-call list since the text was
//! queued is not texted.

use serde_json::json;

use super::events::{emit_logged, EventType};
use super::Outcome;
use crate::app::notifications::{NewText, Notification};
use crate::app::AppState;
use crate::render::tenant_query;
use crate::store::{NotificationStatus, StatusChange, StatusUpdate, StoreError};
use crate::twilio::rest::{CreateMessage, TwilioError};

/// Where Twilio reports a notification's statuses.
pub fn status_callback_url(app: &AppState, notification_id: &str) -> String {
    format!(
        "{}/twilio/sms/status?notification_id={notification_id}{}",
        app.settings.public_base_url,
        tenant_query(app.tenant())
    )
}

pub(super) async fn deliver(app: &AppState, notification_id: &str) -> Outcome {
    match send(app, notification_id).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(notification = notification_id, error = %e, "text not sent yet");
            Outcome::Retry { at_least: None }
        }
    }
}

async fn send(app: &AppState, id: &str) -> Result<Outcome, StoreError> {
    let Some(fields) = app.store.notification_load(id).await? else {
        // Its record is written beside the item: not there yet, or expired.
        tracing::warn!(notification = id, "notification not found; will look again");
        return Ok(Outcome::Retry { at_least: None });
    };
    let Some((text, view)) = Notification::from_fields(&fields) else {
        return Err(StoreError::Corrupt(format!("notification {id} unreadable")));
    };
    // Sent already (this item's earlier claim got that far) or failed.
    if view.status != NotificationStatus::Queued || view.message_sid.is_some() {
        return Ok(Outcome::Done);
    }
    if app.store.dnc_get(text.to.as_str()).await?.is_some() {
        fail(app, &text, None, "the number is on the do-not-call list").await?;
        return Ok(Outcome::Done);
    }
    let callback = status_callback_url(app, id);
    let message = CreateMessage {
        to: text.to.as_str(),
        from: text.from.as_str(),
        body: &text.body,
        status_callback: Some(&callback),
    };
    match app.twilio.send_message(&message).await {
        Ok(resource) => {
            crate::observe::sms_sent("accepted");
            let update = StatusUpdate {
                at: &app.clock.now().to_rfc3339(),
                message_sid: Some(&resource.sid),
                ..Default::default()
            };
            app.store
                .notification_status(id, NotificationStatus::Queued, &update)
                .await?;
            tracing::info!(notification = id, to = %text.to.masked(), "text accepted by Twilio");
            Ok(Outcome::Done)
        }
        Err(TwilioError::Api {
            status: 429,
            retry_after_secs,
            ..
        }) => {
            crate::observe::sms_sent("throttled");
            Ok(Outcome::Retry {
                at_least: retry_after_secs.map(std::time::Duration::from_secs),
            })
        }
        Err(TwilioError::Api { code, message, .. }) => {
            crate::observe::sms_sent("rejected");
            let code = code.map(|c| c.to_string());
            fail(app, &text, code.as_deref(), &message).await?;
            Ok(Outcome::Done)
        }
        Err(TwilioError::Uncertain(reason)) => {
            crate::observe::sms_sent("uncertain");
            let message = format!(
                "no clear answer from Twilio ({reason}); not sent again, so it is never sent twice"
            );
            fail(app, &text, None, &message).await?;
            Ok(Outcome::Done)
        }
    }
}

/// Marks the text failed and tells the tenant.
async fn fail(
    app: &AppState,
    text: &NewText,
    code: Option<&str>,
    message: &str,
) -> Result<(), StoreError> {
    let update = StatusUpdate {
        at: &app.clock.now().to_rfc3339(),
        error_code: code,
        error_message: Some(message),
        message_sid: None,
    };
    let change = app
        .store
        .notification_status(&text.notification_id, NotificationStatus::Failed, &update)
        .await?;
    tracing::warn!(
        notification = %text.notification_id,
        to = %text.to.masked(),
        reason = %crate::phone::mask_in_text(message),
        "text failed"
    );
    if change == StatusChange::Moved {
        crate::observe::sms_status(NotificationStatus::Failed.as_str());
        emit_logged(
            app,
            EventType::NotificationStatus,
            status_event(text, NotificationStatus::Failed, code, Some(message)),
        )
        .await;
    }
    Ok(())
}

/// The outbox gave up on the text (Twilio kept throttling, or the store kept failing).
pub(super) async fn give_up(app: &AppState, id: &str) {
    let result = async {
        let Some(fields) = app.store.notification_load(id).await? else {
            return Ok(());
        };
        if let Some((text, _)) = Notification::from_fields(&fields) {
            fail(
                app,
                &text,
                None,
                "not sent: gave up after repeated attempts (Twilio kept answering 429, or the store failed)",
            )
            .await?;
        }
        Ok::<(), StoreError>(())
    };
    if let Err(e) = result.await {
        tracing::warn!(notification = id, error = %e, "could not mark the text failed");
    }
}

/// The data of a `notification.status` event.
pub fn status_event(
    text: &NewText,
    status: NotificationStatus,
    error_code: Option<&str>,
    error_message: Option<&str>,
) -> serde_json::Value {
    json!({
        "notification_id": text.notification_id,
        "type": text.kind,
        "to": text.to.as_str(),
        "template": text.template,
        "status": status,
        "error_code": error_code,
        "error_message": error_message,
    })
}
