//! The account's share of a campaign dial's pacing. The campaign's own slot is
//! taken when the dispatcher claims the contact (`store::Store::admit`); here
//! the dial also gets the account's slot (`TWILIO_MAX_CPS`, shared by every
//! instance, campaign and single call), the first one from its campaign slot
//! on. Both limits are ceilings (see `store/campaign/pace.rs` for the margin):
//! a dial must not go out later than the slot it holds in either, or it would
//! crowd the dials after it. So a dial that must wait for the account moves the
//! campaign's next slot with it, or does not go out if another dial of the
//! campaign was claimed meanwhile.

use super::model::CampaignConfig;
use crate::app::{AppState, ServiceError};

/// How much later than its campaign slot a dial may go out before the
/// campaign's next slot is moved with it.
const TOLERANCE_MS: i64 = 1;

/// When (service-clock epoch ms) the dial of contact `idx`, claimed for the
/// campaign slot `slot_ms`, may go out; `None` when it may not for now (the
/// contact was given back, due again when the account has a slot).
pub(super) async fn account_slot(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    slot_ms: i64,
) -> Result<Option<i64>, ServiceError> {
    let (id, shards) = (&config.campaign_id, config.shards);
    let store = &service.store;
    let account_interval = 1000.0 / service.settings.twilio_max_cps;
    let at = slot_ms.max(service.clock.now_ms());
    let dial_at = store
        .reserve_account_slot(at, account_interval, (2.0 * account_interval) as i64)
        .await?
        .map(|wait| at + wait);
    let go = match dial_at {
        None => false,
        Some(t) if t - slot_ms > TOLERANCE_MS => {
            store
                .delay_campaign_slot(id, slot_ms, config.interval_ms(), t)
                .await?
        }
        Some(_) => true,
    };
    if !go {
        let due = at + account_interval.ceil() as i64;
        store.release(id, shards, idx, None, due).await?;
        return Ok(None);
    }
    Ok(dial_at)
}
