//! Recovery of attempts an instance left behind: a contact whose earlier dial
//! may or may not have reached Twilio, and calls counted as in progress whose
//! settlement was lost. Never dials on doubt.

use tracing::{info, warn};

use super::model::{read_state, CampaignConfig, Contact, ContactState, Phase};
use super::settle;
use crate::app::{calls, AppState, ServiceError};

/// A call counts against `max_concurrent` for at most this long (Twilio's own limit is 4 h).
const ACTIVE_MAX_MS: i64 = 4 * 3600 * 1000;

pub(super) enum EarlierAttempt {
    /// No unfinished attempt: dial.
    None,
    /// The earlier attempt's call exists (and is now tracked): do not dial.
    Placed,
    /// Twilio never got the earlier attempt: it was abandoned; dial.
    NeverPlaced,
    /// Cannot tell yet: try again later, never dial on doubt.
    Unknown,
}

/// Settles what an earlier, interrupted attempt of this contact left behind.
pub(super) async fn earlier_attempt(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    state: &ContactState,
) -> Result<EarlierAttempt, ServiceError> {
    // A contact with an attempt under way is taken up again only when its
    // holder's lease ran out or its call has been in progress for very long.
    let (Phase::Dialing | Phase::InProgress, Some(call_id)) =
        (state.phase, state.call_id.as_deref())
    else {
        return Ok(EarlierAttempt::None);
    };
    let id = &config.campaign_id;
    let mut record = calls::record(service, call_id).await?;
    if record.call_sid.is_none() && record.state.disposition().is_none() {
        // Callbacks never came and the dial's answer was lost: ask Twilio.
        match service.twilio.list_calls_to(&contact.to).await {
            Ok(calls) => {
                let found = calls.into_iter().find(|c| {
                    c.from.as_deref() == Some(record.from.as_str())
                        && c.date_created
                            .as_deref()
                            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
                            .is_some_and(|d| d.timestamp() >= record.created_at.timestamp() - 5)
                });
                match found {
                    Some(call) => {
                        record = calls::adopt_call_sid(service, call_id, &call.sid).await?
                    }
                    None => {
                        info!(campaign_id = %id, contact = idx, call_id, "earlier dial never reached Twilio; dialing again");
                        calls::abandon(service, call_id, "the dial never reached Twilio").await?;
                        return Ok(EarlierAttempt::NeverPlaced);
                    }
                }
            }
            Err(e) => {
                warn!(campaign_id = %id, contact = idx, error = %e, "cannot reconcile an uncertain dial yet");
                return Ok(EarlierAttempt::Unknown);
            }
        }
    }
    if record.is_finished() || (record.state.disposition().is_some() && record.call_sid.is_none()) {
        settle::call_finished(service, &record).await?;
    } else {
        track_in_progress(service, config, idx, call_id, state.clone()).await?;
    }
    Ok(EarlierAttempt::Placed)
}

/// Counts a contact's call as in progress (for `max_concurrent` and the reaper).
pub(super) async fn track_in_progress(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    call_id: &str,
    mut state: ContactState,
) -> Result<(), ServiceError> {
    state.phase = Phase::InProgress;
    let json = serde_json::to_string(&state).expect("states serialize");
    let until = service.clock.now_ms() + ACTIVE_MAX_MS;
    let (id, shards) = (&config.campaign_id, config.shards);
    service
        .store
        .mark_in_progress(id, shards, idx, call_id, &json, until)
        .await?;
    Ok(())
}

/// Looks after the calls counted as in progress: settles those whose end was
/// recorded but whose contact was not (an instance died between the two
/// writes), and stops counting attempts that are already over.
pub(super) async fn reap_finished(service: &AppState, config: &CampaignConfig) {
    let id = &config.campaign_id;
    let Ok(active) = service.store.active_contacts(id).await else {
        return;
    };
    for (idx, call_id) in active {
        let Ok((_, state)) = service.store.contact(id, config.shards, idx).await else {
            continue;
        };
        // Unreadable: left alone; the dispatcher holds such a contact.
        let Ok(state) = read_state(state.as_deref()) else {
            continue;
        };
        let current = state.call_id.as_deref() == Some(call_id.as_str())
            && matches!(state.phase, Phase::Dialing | Phase::InProgress);
        if !current {
            let _ = service.store.forget_active(id, idx, &call_id).await;
            continue;
        }
        if let Ok(record) = calls::record(service, &call_id).await {
            if record.is_finished() {
                if let Err(e) = settle::call_finished(service, &record).await {
                    warn!(campaign_id = %id, contact = idx, error = %e, "reaper could not settle");
                }
            }
        }
    }
}
