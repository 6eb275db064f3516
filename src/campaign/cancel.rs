//! A canceled campaign's contacts that were never dialed are settled
//! `canceled` by the dispatchers, a bounded step per shard per pass, so a
//! cancel answers at once however large the campaign: `POST .../cancel` only
//! moves the status. Calls in progress at the cancel finish and settle with
//! their own disposition; a contact a dispatcher held at that moment is left to
//! it (it dials, or gives the contact back and a later pass settles it).

use std::time::Duration;

use futures_util::future::try_join_all;
use tracing::warn;

use super::model::CampaignConfig;
use crate::app::{AppState, ServiceError};

/// Contacts settled per shard per pass (one short script each).
const STEP: u32 = 1_000;

/// One pass for the dispatcher: how long until this campaign wants another
/// (`None`: not soon; once nothing is left to settle it is no longer live).
pub(super) async fn settle_step(service: &AppState, config: &CampaignConfig) -> Option<Duration> {
    let id = &config.campaign_id;
    match settle_canceled(service, config).await {
        Ok(CancelPass::Finished) => {
            let _ = service.store.forget_live_campaign(id).await;
            None
        }
        Ok(CancelPass::Settling) => Some(Duration::ZERO),
        Ok(CancelPass::Waiting) => Some(Duration::from_millis(50)),
        Err(e) => {
            warn!(campaign_id = %id, error = %e, "cannot settle the canceled campaign");
            None
        }
    }
}

/// Where settling a canceled campaign stands after a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CancelPass {
    /// Contacts were settled; there may be more.
    Settling,
    /// Nothing to settle now, but a dispatcher holds a contact: look again soon.
    Waiting,
    /// Nothing is left to settle by canceling: every remaining contact is on a
    /// call that will settle it.
    Finished,
}

/// One pass over every shard of a canceled campaign.
async fn settle_canceled(
    service: &AppState,
    config: &CampaignConfig,
) -> Result<CancelPass, ServiceError> {
    let id = &config.campaign_id;
    let held = service
        .store
        .live_leases(id, service.clock.now_ms())
        .await?;
    let steps = try_join_all(
        (0..config.shards.max(1)).map(|s| service.store.cancel_step(id, s, &held, STEP)),
    )
    .await?;
    let settled: u64 = steps.iter().map(|s| s.settled).sum();
    if settled > 0 {
        tracing::info!(campaign_id = %id, settled, "canceled contacts settled");
    }
    Ok(if settled > 0 {
        CancelPass::Settling
    } else if held.is_empty() {
        CancelPass::Finished
    } else {
        CancelPass::Waiting
    })
}
