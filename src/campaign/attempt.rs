//! One claimed contact's attempt: what an earlier attempt left is resolved,
//! then the gate (`app::dial_gate`: do-not-call, the callee's calling times,
//! the number's cap; then the account's pace, the campaign still running), then
//! the call is recorded and dialed.
//! A contact whose stored state cannot be read is held, never dialed. Once
//! the process is stopping, a contact not yet dialed is released at once.

use tokio::sync::watch;
use tracing::{error, info, warn};

use super::model::{
    read_state, CampaignConfig, CampaignStatus, Contact, ContactState, Phase, WaitingReason,
};
use super::pacing;
use super::recovery::{earlier_attempt, track_in_progress, EarlierAttempt};
use super::settle;
use super::stopping;
use super::{compliance_window, gate_target};
use crate::app::dial_gate::{self, DialReceipt, GateDecision, Hold};
use crate::app::{calls, AppState, Dialed, NewCall, ServiceError};
use crate::call::Disposition;

/// Back-off after Twilio answers 429 Too Many Requests.
const THROTTLED_BACKOFF_MS: i64 = 5_000;
/// A contact held for an unreadable state is looked at again after this long
/// (service time), so a repaired state is dialed.
const UNREADABLE_RECHECK_MS: i64 = 3_600_000;

/// Dials one claimed contact at its campaign pace slot `slot_ms`, or explains
/// why not (window, do-not-call, pace).
/// `stop`: the process is shutting down; the contact is released unless its
/// dial already went to Twilio.
pub(super) async fn dispatch(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    slot_ms: i64,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ServiceError> {
    let id = &config.campaign_id;
    let shards = config.shards;
    let (contact, state) = service.store.contact(id, shards, idx).await?;
    let Some(contact) = contact.and_then(|c| serde_json::from_str::<Contact>(&c).ok()) else {
        warn!(campaign_id = %id, contact = idx, "claimed a contact that does not exist");
        return Ok(());
    };
    if stopping(&stop) {
        return release_at_shutdown(service, config, idx, &contact, None).await;
    }
    let mut state = match read_state(state.as_deref()) {
        Ok(state) => state,
        Err(e) => return hold_unreadable(service, config, idx, &contact, e).await,
    };

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

    let Some(receipt) = gate(
        service, config, idx, &contact, &mut state, slot_ms, &mut stop,
    )
    .await?
    else {
        return Ok(());
    };
    // The last moment a dial can be given up without asking Twilio about it.
    if stopping(&stop) {
        dial_gate::forget(service, &receipt).await?;
        return release_at_shutdown(service, config, idx, &contact, Some(&state)).await;
    }
    place(service, config, idx, &contact, state, &receipt).await
}

/// Gives a claimed contact back, due now and without its lease, so another
/// instance dials it at once instead of when the lease ends. `state`: the
/// state as this attempt left it, if it changed it.
async fn release_at_shutdown(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    state: Option<&ContactState>,
) -> Result<(), ServiceError> {
    let json = state.map(|s| {
        let mut s = s.clone();
        s.next_at = None;
        serde_json::to_string(&s).expect("states serialize")
    });
    let (id, shards) = (&config.campaign_id, config.shards);
    service
        .store
        .release(id, shards, idx, json.as_deref(), service.clock.now_ms())
        .await?;
    info!(campaign_id = %id, contact = idx, to = %crate::phone::mask(&contact.to), "shutting down: released a claimed contact before dialing it");
    Ok(())
}

/// Holds a contact whose stored state cannot be read: it is never dialed (it
/// may have been dialed already), stays unfinished and is counted in the
/// campaign's `errors`.
async fn hold_unreadable(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    reason: serde_json::Error,
) -> Result<(), ServiceError> {
    let (id, shards) = (&config.campaign_id, config.shards);
    let recheck = service.clock.now_ms() + UNREADABLE_RECHECK_MS;
    let first = service
        .store
        .hold_unreadable(id, shards, idx, recheck)
        .await?;
    error!(campaign_id = %id, contact = idx, to = %crate::phone::mask(&contact.to), error = %reason, first, "contact state cannot be read: held, not dialed; repair or remove its state to release it");
    Ok(())
}

/// Every check a dial must pass, in order: the dial gate (do-not-call, the
/// strictest of the campaign's window, federal hours and the callee's state
/// rule in each of its zones, the per-number cap), the account-wide pace, then
/// do-not-call and the campaign's status again (either may have changed while
/// the dial waited for its slot), and last the gate once more, counting the
/// dial against the number's cap in the same step.
/// `None`: the contact was settled or released, do not dial; else the receipt
/// of the dial counted against the number's cap.
async fn gate(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    state: &mut ContactState,
    slot_ms: i64,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<DialReceipt>, ServiceError> {
    let (id, shards) = (&config.campaign_id, config.shards);
    let window = compliance_window(config);
    let target = gate_target(contact, window.as_ref());
    // The law first: do-not-call, calling times, the number's cap.
    if !passes(
        service,
        config,
        idx,
        state,
        dial_gate::check(service, &target).await?,
    )
    .await?
    {
        return Ok(None);
    }

    if !account_slot(service, config, idx, contact, state, slot_ms, stop).await? {
        return Ok(None);
    }
    // Checked again right before the dial: an opt-out, a pause or a cancel may
    // have landed while this dial waited for its slot.
    if on_dnc(service, contact).await? {
        settle::settle_attempt(service, id, idx, None, "do_not_call", None).await?;
        return Ok(None);
    }
    if service.store.campaign_status(id).await? != Some(CampaignStatus::Running) {
        service
            .store
            .release(id, shards, idx, None, service.clock.now_ms())
            .await?;
        return Ok(None);
    }
    // Counted against the cap and the number claimed atomically: another
    // instance or a single call may have taken the number's last dial, or the
    // number itself, meanwhile.
    let call_id = calls::new_call_id();
    let last = dial_gate::check_and_record(service, &target, &call_id).await?;
    Ok(passes(service, config, idx, state, last.decision)
        .await?
        .then_some(last.receipt)
        .flatten())
}

/// Acts on the gate's answer: a do-not-call number is settled, a held contact
/// waits until its `next_allowed_at` (never dropped) and remembers why.
async fn passes(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    state: &mut ContactState,
    decision: GateDecision,
) -> Result<bool, ServiceError> {
    let (id, shards) = (&config.campaign_id, config.shards);
    match decision {
        GateDecision::Allowed => Ok(true),
        GateDecision::DoNotCall => {
            settle::settle_attempt(service, id, idx, None, "do_not_call", None).await?;
            Ok(false)
        }
        GateDecision::Held {
            reason,
            next_allowed_at,
        } => {
            let next = next_allowed_at.timestamp_millis();
            state.next_at = Some(next);
            state.waiting_reason = Some(match reason {
                Hold::OutsideWindow => WaitingReason::OutsideWindow,
                Hold::StateRule(_) => WaitingReason::StateRule,
                Hold::FrequencyCap => WaitingReason::FrequencyCap,
                Hold::CallInProgress => WaitingReason::CallInProgress,
            });
            state.waiting_state = reason.state().map(|s| s.code().to_string());
            let json = serde_json::to_string(&state).expect("states serialize");
            // Contacts held until the same opening are dialed in list order then.
            let due = crate::store::due_in_list_order(next, idx, shards);
            service
                .store
                .release(id, shards, idx, Some(&json), due)
                .await?;
            Ok(false)
        }
    }
}

/// Waits for an account-wide dial slot, shared by every instance and campaign.
/// `false`: none soon (the contact is due again at the next one), or the
/// process began stopping meanwhile (it is released at once).
async fn account_slot(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    state: &ContactState,
    slot_ms: i64,
    stop: &mut watch::Receiver<bool>,
) -> Result<bool, ServiceError> {
    // The account's slot from the campaign's on (see pacing.rs).
    let Some(dial_at) = pacing::account_slot(service, config, idx, slot_ms).await? else {
        return Ok(false);
    };
    let wait = service
        .clock
        .real_duration(dial_at - service.clock.now_ms());
    tracing::debug!(campaign_id = %config.campaign_id, contact = idx, wait_ms = wait.as_millis() as u64, "waiting for an account dial slot");
    if !wait.is_zero() {
        crate::observe::pacing_wait("account_slot", wait);
    }
    tokio::select! {
        _ = tokio::time::sleep(wait) => Ok(true),
        // The sender gone counts as stopping too; the guard is not kept.
        _ = async { drop(stop.wait_for(|s| *s).await) } => {
            release_at_shutdown(service, config, idx, contact, Some(state)).await?;
            Ok(false)
        }
    }
}

/// Records the call, marks the contact dialing, dials, and records the answer.
/// A failure before the dial frees the number the gate claimed for it.
async fn place(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    state: ContactState,
    receipt: &DialReceipt,
) -> Result<(), ServiceError> {
    let (record, flow, state) = match before_dial(service, config, idx, contact, state, receipt)
        .await
    {
        Ok(ready) => ready,
        Err(e) => {
            // Never dialed: neither an attempt nor a call in progress.
            if let Err(forget) = dial_gate::forget(service, receipt).await {
                warn!(campaign_id = %config.campaign_id, contact = idx, error = %forget, "a dial given up before it was placed still holds its number until its lease ends");
            }
            return Err(e);
        }
    };
    dial_and_record(service, config, idx, state, receipt, &record, &flow).await
}

/// The call's record, and the contact marked dialing.
async fn before_dial(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    mut state: ContactState,
    receipt: &DialReceipt,
) -> Result<
    (
        crate::call::CallRecord,
        std::sync::Arc<crate::flow::Flow>,
        ContactState,
    ),
    ServiceError,
> {
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
        timezone: contact.tz.clone(),
        state: contact.state.as_deref().and_then(|s| s.parse().ok()),
        // Checked when the campaign was created; a number the tenant has
        // released since falls back to its first.
        from: config
            .from
            .as_deref()
            .and_then(|f| crate::phone::E164::parse(f).ok())
            .filter(|f| service.numbers.own_numbers.contains(f)),
    };
    let link = crate::call::CampaignLink {
        campaign_id: id.clone(),
        contact: idx,
    };
    let call_id = receipt.call_id().to_string();
    let record = calls::create_record(service, &flow, call_id, new, Some(link)).await?;
    // Written before Twilio is asked: whoever finds this contact next knows a dial may exist.
    state.phase = Phase::Dialing;
    state.attempts += 1;
    state.call_id = Some(record.call_id.clone());
    state.next_at = None;
    state.waiting_reason = None;
    state.waiting_state = None;
    let json = serde_json::to_string(&state).expect("states serialize");
    service
        .store
        .mark_dialing(id, shards, idx, &json, service.clock.now_ms() + lease_ms)
        .await?;
    Ok((record, flow, state))
}

/// Dials the recorded call and records Twilio's answer.
async fn dial_and_record(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    mut state: ContactState,
    receipt: &DialReceipt,
    record: &crate::call::CallRecord,
    flow: &crate::flow::Flow,
) -> Result<(), ServiceError> {
    let (id, shards) = (&config.campaign_id, config.shards);
    let lease_ms = service.settings.dispatch_lease.as_millis() as i64;
    // The pace's last check, against the dials really sent (see pacing.rs).
    pacing::confirm_send(service, config, &record.call_id).await?;
    match calls::dial(service, record, flow).await? {
        Dialed::Placed(_) => {
            track_in_progress(service, config, idx, &record.call_id, state).await?;
        }
        Dialed::Rejected { status: 429, .. } => {
            // Throttled: nothing was placed, so this was not an attempt.
            dial_gate::forget(service, receipt).await?;
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
    let listed = service.store.dnc_get(&contact.to).await?.is_some();
    if listed {
        crate::observe::dnc_refusal();
    }
    Ok(listed)
}
