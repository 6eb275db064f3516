//! A canceled campaign's contacts that were never dialed are settled
//! `canceled` by the dispatchers, a bounded step per shard per pass, so a
//! cancel answers at once however large the campaign: `POST .../cancel` only
//! moves the status. Calls in progress at the cancel finish and settle with
//! their own disposition; a contact a dispatcher held at that moment is left to
//! it (it dials, or gives the contact back and a later pass settles it).

use futures_util::future::try_join_all;

use super::model::CampaignConfig;
use crate::app::{AppState, ServiceError};

/// Contacts settled per shard per pass (one short script each).
const STEP: u32 = 1_000;

/// Where settling a canceled campaign stands after a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CancelPass {
    /// Contacts were settled; there may be more.
    Settling,
    /// Nothing to settle now, but a dispatcher holds a contact: look again soon.
    Waiting,
    /// Nothing is left to settle by canceling: every remaining contact is on a
    /// call that will settle it.
    Finished,
}

/// One pass over every shard of a canceled campaign.
pub(super) async fn settle_canceled(
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
