//! The account's share of a campaign dial's pacing. The campaign's own slot is
//! taken when the dispatcher claims the contact (`store::Store::admit`); here
//! the dial also gets its tenant's slot (its `max_cps` share, when set) and
//! the account's (`TWILIO_MAX_CPS`, shared by every instance, tenant, campaign
//! and single call), the first ones from its campaign slot on (`app::pace`). Both limits are ceilings (see `store/campaign/pace.rs` for the margin):
//! a dial that goes out later than the slot it holds would crowd the dials
//! after it. So a dial that must wait for the account moves the campaign's next
//! slot with it (unless another dial of the campaign was claimed meanwhile).
//!
//! Slots are when dials should leave; [`confirm_send`] is the last check, right
//! before the request goes out, against logs of when dials really left (the
//! campaign's and the account's): a dial that left its slot late (a busy
//! machine, a slow round trip) can otherwise crowd the next one.

use tracing::warn;

use super::model::CampaignConfig;
use crate::app::{pace, AppState, ServiceError};
use crate::store::SendLog;

/// Checks of the logs of dials sent before a dial goes out regardless (each
/// one after a wait the log asked for; in practice one or two).
const MAX_SEND_CHECKS: u32 = 50;

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
    let account_interval = pace::interval_ms(service);
    let at = slot_ms.max(service.clock.now_ms());
    let dial_at = pace::reserve(service, at, (2.0 * account_interval) as i64).await?;
    let Some(dial_at) = dial_at else {
        let due = at + account_interval.ceil() as i64;
        store.release(id, shards, idx, None, due).await?;
        return Ok(None);
    };
    if dial_at - slot_ms > TOLERANCE_MS {
        // Best effort: refused when another dial of the campaign was claimed
        // meanwhile; the check before sending keeps the ceiling either way.
        store
            .delay_campaign_slot(id, slot_ms, config.interval_ms(), dial_at)
            .await?;
    }
    Ok(Some(dial_at))
}

/// The last check before the request of `call_id` goes out: waits until both
/// the campaign's and the account's logs of dials sent have room for it, and
/// records it in both.
pub(super) async fn confirm_send(
    service: &AppState,
    config: &CampaignConfig,
    call_id: &str,
) -> Result<(), ServiceError> {
    let store = &service.store;
    let mut logs = vec![(
        SendLog::Campaign(&config.campaign_id),
        config.calls_per_second,
    )];
    logs.extend(pace::send_logs(service));
    for _ in 0..MAX_SEND_CHECKS {
        let mut waited = false;
        // In order; after a wait both are checked again, so each records the
        // time the dial really leaves.
        for &(log, rate) in &logs {
            let now = service.clock.now_ms();
            let wait = store.confirm_send(log, call_id, now, rate).await?;
            if wait > 0 {
                let real = service.clock.real_duration(wait);
                crate::observe::pacing_wait("send_log", real);
                tokio::time::sleep(real).await;
                waited = true;
                break;
            }
        }
        if !waited {
            return Ok(());
        }
    }
    warn!(campaign_id = %config.campaign_id, call_id, "dial pace still crowded after many checks; dialing");
    Ok(())
}
