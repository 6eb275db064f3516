//! Campaign webhook events: one per final contact disposition and one when the
//! campaign completes, as signed JSON delivered from the tenant's outbox
//! (any instance delivers; none is lost to a crash). The signatures are
//! described in `outbox::webhook`.

use serde_json::{json, Value};

use super::model::CampaignConfig;
use crate::app::AppState;
use crate::store::StoreError;

pub use crate::outbox::webhook::{signature, standard_signer};

async fn enqueue(service: &AppState, url: &str, event: Value) -> Result<(), StoreError> {
    crate::outbox::push_event(service, url, event, true)
        .await
        .map(|_| ())
}

pub async fn contact_finished(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    call_id: Option<&str>,
    disposition: &str,
    attempts: u32,
) -> Result<(), StoreError> {
    let Some(url) = &config.webhook_url else {
        return Ok(());
    };
    let event = json!({
        "type": "call.finished",
        "campaign_id": config.campaign_id,
        "contact_index": idx,
        "call_id": call_id,
        "disposition": disposition,
        "attempts": attempts,
        "at": service.clock.now(),
    });
    enqueue(service, url, event).await
}

pub async fn campaign_completed(
    service: &AppState,
    config: &CampaignConfig,
) -> Result<(), StoreError> {
    let Some(url) = &config.webhook_url else {
        return Ok(());
    };
    let counts = super::status::counts(service, &config.campaign_id).await?;
    let event = json!({
        "type": "campaign.completed",
        "campaign_id": config.campaign_id,
        "counts": counts,
        "at": service.clock.now(),
    });
    enqueue(service, url, event).await
}
