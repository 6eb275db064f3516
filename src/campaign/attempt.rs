//! One claimed contact's attempt: what an earlier attempt left is resolved,
//! then the gate (do-not-call, the callee's calling window, the account's
//! pace, the campaign still running), then the call is recorded and dialed.

use tracing::warn;

use super::contact_zones;
use super::model::{parse_state, CampaignConfig, CampaignStatus, Contact, ContactState, Phase};
use super::pacing;
use super::recovery::{earlier_attempt, track_in_progress, EarlierAttempt};
use super::settle;
use crate::app::{calls, AppState, Dialed, NewCall, ServiceError};
use crate::call::Disposition;

/// Back-off after Twilio answers 429 Too Many Requests.
const THROTTLED_BACKOFF_MS: i64 = 5_000;

/// Dials one claimed contact at its campaign pace slot `slot_ms`, or explains
/// why not (window, do-not-call, pace).
pub(super) async fn dispatch(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    slot_ms: i64,
) -> Result<(), ServiceError> {
    let id = &config.campaign_id;
    let shards = config.shards;
    let (contact, state) = service.store.contact(id, shards, idx).await?;
    let Some(contact) = contact.and_then(|c| serde_json::from_str::<Contact>(&c).ok()) else {
        warn!(campaign_id = %id, contact = idx, "claimed a contact that does not exist");
        return Ok(());
    };
    let mut state = parse_state(state.as_deref());

    match earlier_attempt(service, config, idx, &contact, &state).await? {
        EarlierAttempt::Placed => return Ok(()),
        EarlierAttempt::Unknown => {
            service
                .store
                .release(id, shards, idx, None, service.clock.now_ms() + 10_000)
                .await?;
            return Ok(());
        }
        // An attempt Twilio never received does not count against the contact.
        EarlierAttempt::NeverPlaced => {
            state.attempts = state.attempts.saturating_sub(1);
            state.phase = Phase::Pending;
            state.call_id = None;
        }
        EarlierAttempt::None => {}
    }
    if state.phase == Phase::Done {
        // Settled meanwhile (it has left the due set): only the lease is left.
        service.store.release(id, shards, idx, None, 0).await?;
        return Ok(());
    }

    if !gate(service, config, idx, &contact, &mut state, slot_ms).await? {
        return Ok(());
    }
    place(service, config, idx, &contact, state).await
}

/// Every check a dial must pass, in order: do-not-call, the callee's local
/// calling window, the account-wide pace, then do-not-call and the campaign's
/// status again (either may have changed while the dial waited for its slot).
/// `false`: the contact was settled or released, do not dial.
async fn gate(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    state: &mut ContactState,
    slot_ms: i64,
) -> Result<bool, ServiceError> {
    let (id, shards) = (&config.campaign_id, config.shards);
    // The law first: do-not-call, then the callee's local calling window.
    if on_dnc(service, contact).await? {
        settle::settle_attempt(service, id, idx, None, "do_not_call", None).await?;
        return Ok(false);
    }
    let now = service.clock.now();
    let zones = contact_zones(contact, service.settings.timezone_default);
    let window = config.window();
    if !window.allows(&zones, now) {
        let next = window
            .next_allowed(&zones, now)
            .map(|t| t.timestamp_millis())
            .unwrap_or(now.timestamp_millis() + 3_600_000);
        state.next_at = Some(next);
        let json = serde_json::to_string(&state).expect("states serialize");
        service
            .store
            .release(id, shards, idx, Some(&json), next)
            .await?;
        return Ok(false);
    }

    // Account-wide pace, shared by every instance and campaign (see pacing.rs).
    let Some(dial_at) = pacing::account_slot(service, config, idx, slot_ms).await? else {
        return Ok(false);
    };
    let until = dial_at - service.clock.now_ms();
    tokio::time::sleep(service.clock.real_duration(until)).await;
    // Checked again right before the dial: an opt-out, a pause or a cancel may
    // have landed while this dial waited for its slot.
    if on_dnc(service, contact).await? {
        settle::settle_attempt(service, id, idx, None, "do_not_call", None).await?;
        return Ok(false);
    }
    if service.store.campaign_status(id).await? != Some(CampaignStatus::Running) {
        service
            .store
            .release(id, shards, idx, None, service.clock.now_ms())
            .await?;
        return Ok(false);
    }

    Ok(true)
}

/// Records the call, marks the contact dialing, dials, and records the answer.
async fn place(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    mut state: ContactState,
) -> Result<(), ServiceError> {
    let (id, shards) = (&config.campaign_id, config.shards);
    let lease_ms = service.settings.dispatch_lease.as_millis() as i64;
    let flow = service
        .flow_for_version(&config.flow_id, &config.flow_version)
        .await?;
    let to = crate::phone::E164::parse(&contact.to).map_err(|e| ServiceError::Invalid {
        field: "to".into(),
        reason: e.to_string(),
    })?;
    let new = NewCall {
        to,
        flow: flow.id.clone(),
        name: contact.name.clone(),
        variables: contact.vars.clone(),
    };
    let link = crate::call::CampaignLink {
        campaign_id: id.clone(),
        contact: idx,
    };
    let record = calls::create_record(service, &flow, new, Some(link)).await?;
    // Written before Twilio is asked: whoever finds this contact next knows a dial may exist.
    state.phase = Phase::Dialing;
    state.attempts += 1;
    state.call_id = Some(record.call_id.clone());
    state.next_at = None;
    let json = serde_json::to_string(&state).expect("states serialize");
    service
        .store
        .mark_dialing(id, shards, idx, &json, service.clock.now_ms() + lease_ms)
        .await?;

    // The pace's last check, against the dials really sent (see pacing.rs).
    pacing::confirm_send(service, config, &record.call_id).await?;
    match calls::dial(service, &record, &flow).await? {
        Dialed::Placed(_) => {
            track_in_progress(service, config, idx, &record.call_id, state).await?;
        }
        Dialed::Rejected { status: 429, .. } => {
            // Throttled: nothing was placed, so this was not an attempt.
            state.phase = Phase::Pending;
            state.attempts -= 1;
            state.call_id = None;
            let due = service.clock.now_ms() + THROTTLED_BACKOFF_MS;
            state.next_at = Some(due);
            let json = serde_json::to_string(&state).expect("states serialize");
            service
                .store
                .release(id, shards, idx, Some(&json), due)
                .await?;
        }
        Dialed::Rejected { .. } => {
            settle::settle_attempt(
                service,
                id,
                idx,
                Some(&record.call_id),
                "failed",
                Some(Disposition::Failed),
            )
            .await?;
        }
        Dialed::Uncertain(_) => {
            // Never redial on doubt: let callbacks arrive, then reconcile when the lease ends.
            service
                .store
                .set_lease(id, shards, idx, service.clock.now_ms() + lease_ms)
                .await?;
        }
    }
    Ok(())
}

async fn on_dnc(service: &AppState, contact: &Contact) -> Result<bool, ServiceError> {
    Ok(service.store.dnc_get(&contact.to).await?.is_some())
}
