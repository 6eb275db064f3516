//! The follow-up text of an outbound call that ends `interested`: its flow's
//! `follow_up_sms` template (none: no text), filled with the call's variables
//! the template reads, instants said in the callee's zone, and sent through
//! the outbox like any other text (never to a do-not-call number).

use futures_util::future::BoxFuture;

use crate::app::notifications::NotificationType;
use crate::app::{AppState, CallListener};
use crate::call::{CallRecord, Disposition};

/// Told of every finished call (registered in `startup`).
pub struct FollowUpListener;

impl CallListener for FollowUpListener {
    fn call_finished<'a>(&'a self, app: &'a AppState, record: &'a CallRecord) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if record.disposition != Some(Disposition::Interested) {
                return;
            }
            if let Err(reason) = follow_up(app, record).await {
                tracing::warn!(call_id = %record.call_id, %reason, "no follow-up text");
            }
        })
    }
}

async fn follow_up(app: &AppState, record: &CallRecord) -> Result<(), String> {
    let flow = app
        .flow_for_version(&record.flow_id, &record.flow_version)
        .await
        .map_err(|e| e.to_string())?;
    let Some(id) = flow.follow_up_sms.as_deref() else {
        return Ok(());
    };
    let template = app
        .sms_templates
        .get(id)
        .ok_or_else(|| format!("template '{id}' does not exist"))?;
    let variables = record
        .variables
        .iter()
        .filter(|(name, _)| template.uses(name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let zone = record.timezone.as_deref().and_then(|z| z.parse().ok());
    let body = super::send::render_template(app, id, &variables, &record.to, zone)
        .map_err(|e| e.to_string())?;
    let queued =
        super::send::enqueue_sms(app, &record.to, &body, NotificationType::FollowUp, Some(id))
            .await
            .map_err(|e| e.to_string())?;
    tracing::info!(call_id = %record.call_id, notification = %queued.notification_id, "follow-up text queued");
    Ok(())
}
