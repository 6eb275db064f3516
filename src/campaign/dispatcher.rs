//! The dispatcher: dials due contacts of every live campaign, on every instance
//! at once. All coordination is in Redis: a contact is claimed with a lease
//! (taken over if its holder dies), pacing slots are reserved in Redis, and a
//! dial whose fate is unknown is reconciled before anyone dials that contact again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tracing::{info, warn};

use super::contact_zones;
use super::model::{CampaignConfig, CampaignStatus, Contact, ContactState, Phase};
use super::settle::{self, load_config, parse_state};
use crate::call::Disposition;
use crate::service::{CallService, Dialed, NewCall, ServiceError};
use crate::store::{Admit, Take};

/// A call counts against `max_concurrent` for at most this long (Twilio's own limit is 4 h).
const ACTIVE_MAX_MS: i64 = 4 * 3600 * 1000;
/// Back-off after Twilio answers 429 Too Many Requests.
const THROTTLED_BACKOFF_MS: i64 = 5_000;
/// The longest the loop sleeps, so new campaigns and resumes are seen quickly.
const MAX_IDLE: Duration = Duration::from_millis(200);
/// How often calls in progress are checked for a settlement that was lost.
const REAP_EVERY: Duration = Duration::from_secs(2);

/// Runs until `stop` fires.
pub async fn run(service: Arc<CallService>, mut stop: watch::Receiver<bool>) {
    let mut configs: HashMap<String, Arc<CampaignConfig>> = HashMap::new();
    let mut last_reap = Instant::now();
    info!("campaign dispatcher running");
    loop {
        let mut sleep = MAX_IDLE;
        match service.store.live_campaigns().await {
            Ok(ids) => {
                let reap = last_reap.elapsed() >= REAP_EVERY;
                if reap {
                    last_reap = Instant::now();
                }
                configs.retain(|id, _| ids.contains(id));
                for id in ids {
                    let config = match configs.get(&id) {
                        Some(c) => c.clone(),
                        None => match load_config(&service, &id).await {
                            Ok(Some(c)) => {
                                let c = Arc::new(c);
                                configs.insert(id.clone(), c.clone());
                                c
                            }
                            Ok(None) => {
                                let _ = service.store.forget_live_campaign(&id).await;
                                continue;
                            }
                            Err(e) => {
                                warn!(campaign_id = %id, error = %e, "cannot load campaign");
                                continue;
                            }
                        },
                    };
                    if reap {
                        reap_finished(&service, &config).await;
                    }
                    if let Some(wait) = claim_and_dial(&service, &config).await {
                        sleep = sleep.min(wait);
                    }
                }
            }
            Err(e) => warn!(error = %e, "dispatcher: redis unavailable"),
        }
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = stop.changed() => {
                info!("campaign dispatcher stopped");
                return;
            }
        }
    }
}

/// Claims every contact that may be dialed now and starts its dial.
/// Returns how long to wait before this campaign may have more.
async fn claim_and_dial(
    service: &Arc<CallService>,
    config: &Arc<CampaignConfig>,
) -> Option<Duration> {
    let id = &config.campaign_id;
    for _ in 0..100 {
        match claim(service, config).await {
            Ok(Claimed::Contact(idx)) => {
                let (service, config) = (service.clone(), config.clone());
                tokio::spawn(async move {
                    if let Err(e) = dispatch(&service, &config, idx).await {
                        warn!(campaign_id = %config.campaign_id, contact = idx, error = %e, "dispatch failed; the lease will expire and it is retried");
                    }
                });
            }
            Ok(Claimed::Wait(ms)) => return Some(service.clock.real_duration(ms)),
            Ok(Claimed::Full) => return Some(Duration::from_millis(20)),
            Ok(Claimed::Empty) => {
                // Every contact is settled: make sure the campaign says so, even
                // if the instance that settled the last one died before it could.
                if let Err(e) = settle::complete_if_done(service, config).await {
                    warn!(campaign_id = %id, error = %e, "cannot complete the campaign");
                }
                return None;
            }
            Ok(Claimed::Idle(status)) => {
                if status.is_none_or(CampaignStatus::is_final) {
                    let _ = service.store.forget_live_campaign(id).await;
                }
                return None;
            }
            Err(e) => {
                warn!(campaign_id = %id, error = %e, "claim failed");
                return None;
            }
        }
    }
    Some(Duration::ZERO)
}

enum Claimed {
    Contact(u32),
    /// Nothing may be dialed for this many ms (pace, or nothing due yet).
    Wait(i64),
    Full,
    Empty,
    Idle(Option<CampaignStatus>),
}

/// One claim: the campaign admits a dial (status, concurrency, pace), a shard
/// gives up its earliest due contact, and the campaign reserves the pace slot
/// and a lease for it. Shards are tried from a rotating start, so a campaign's
/// contacts are dialed across its shards in turn.
async fn claim(service: &CallService, config: &CampaignConfig) -> Result<Claimed, ServiceError> {
    let id = &config.campaign_id;
    let store = &service.store;
    let lease_ms = service.settings.dispatch_lease.as_millis() as i64;
    let admit = |now: i64, contact: Option<u32>| {
        store.admit(
            id,
            now,
            lease_ms,
            config.max_concurrent,
            config.interval_ms(),
            contact,
        )
    };
    let refused = |a: Admit| match a {
        Admit::Pace(ms) => Claimed::Wait(ms),
        Admit::Full => Claimed::Full,
        Admit::NotRunning(status) => Claimed::Idle(status),
        Admit::Open | Admit::Claimed(_) => Claimed::Full,
    };
    let now = service.clock.now_ms();
    match admit(now, None).await? {
        Admit::Open => {}
        other => return Ok(refused(other)),
    }
    let shards = config.shards.max(1);
    let first = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % shards;
    let mut wait: Option<i64> = None;
    for s in (0..shards).map(|i| (first + i) % shards) {
        match store.take(id, s, now, now + lease_ms).await? {
            Take::Took(idx, due) => {
                return match admit(service.clock.now_ms(), Some(idx)).await? {
                    Admit::Claimed(idx) => Ok(Claimed::Contact(idx)),
                    other => {
                        // Another instance took the slot meanwhile: as it was.
                        store.give_back(id, shards, idx, due).await?;
                        Ok(refused(other))
                    }
                };
            }
            Take::Wait(ms) => wait = Some(wait.map_or(ms, |w| w.min(ms))),
            Take::Empty => {}
        }
    }
    Ok(wait.map_or(Claimed::Empty, Claimed::Wait))
}

/// Where the next claim starts looking, so shards take turns.
static NEXT_SHARD: AtomicU32 = AtomicU32::new(0);

enum Earlier {
    /// No unfinished attempt: dial.
    None,
    /// The earlier attempt's call exists (and is now tracked): do not dial.
    Placed,
    /// Twilio never got the earlier attempt: it was abandoned; dial.
    NeverPlaced,
    /// Cannot tell yet: try again later, never dial on doubt.
    Unknown,
}

/// Dials one claimed contact, or explains why not (window, do-not-call, pace).
async fn dispatch(
    service: &CallService,
    config: &CampaignConfig,
    idx: u32,
) -> Result<(), ServiceError> {
    let id = &config.campaign_id;
    let shards = config.shards;
    let (contact, state) = service.store.contact(id, shards, idx).await?;
    let Some(contact) = contact.and_then(|c| serde_json::from_str::<Contact>(&c).ok()) else {
        warn!(campaign_id = %id, contact = idx, "claimed a contact that does not exist");
        return Ok(());
    };
    let mut state = parse_state(state.as_deref());
    let lease_ms = service.settings.dispatch_lease.as_millis() as i64;

    match earlier_attempt(service, config, idx, &contact, &state).await? {
        Earlier::Placed => return Ok(()),
        Earlier::Unknown => {
            service
                .store
                .release(id, shards, idx, None, service.clock.now_ms() + 10_000)
                .await?;
            return Ok(());
        }
        // An attempt Twilio never received does not count against the contact.
        Earlier::NeverPlaced => {
            state.attempts = state.attempts.saturating_sub(1);
            state.phase = Phase::Pending;
            state.call_id = None;
        }
        Earlier::None => {}
    }
    if state.phase == Phase::Done {
        // Settled meanwhile (it has left the due set): only the lease is left.
        service.store.release(id, shards, idx, None, 0).await?;
        return Ok(());
    }

    // The law first: do-not-call, then the callee's local calling window.
    if on_dnc(service, &contact).await? {
        settle::settle(service, id, idx, None, "do_not_call", None).await?;
        return Ok(());
    }
    let now = service.clock.now();
    let zones = contact_zones(&contact, service.settings.timezone_default);
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
        return Ok(());
    }

    // Account-wide pace, shared by every instance and campaign.
    let account_interval = 1000.0 / service.settings.twilio_max_cps;
    let now_ms = service.clock.now_ms();
    match service
        .store
        .reserve_account_slot(now_ms, account_interval, (2.0 * account_interval) as i64)
        .await?
    {
        Some(wait) => tokio::time::sleep(service.clock.real_duration(wait)).await,
        None => {
            service
                .store
                .release(
                    id,
                    shards,
                    idx,
                    None,
                    now_ms + account_interval.ceil() as i64,
                )
                .await?;
            return Ok(());
        }
    }
    // Checked again right before the dial: an opt-out, a pause or a cancel may
    // have landed while this dial waited for its slot.
    if on_dnc(service, &contact).await? {
        settle::settle(service, id, idx, None, "do_not_call", None).await?;
        return Ok(());
    }
    if service.store.campaign_status(id).await? != Some(CampaignStatus::Running) {
        service
            .store
            .release(id, shards, idx, None, service.clock.now_ms())
            .await?;
        return Ok(());
    }

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
    let record = service.create_record(&flow, new, Some(link)).await?;
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

    match service.dial(&record, &flow).await? {
        Dialed::Placed(_) => {
            state.phase = Phase::InProgress;
            let json = serde_json::to_string(&state).expect("states serialize");
            service
                .store
                .mark_in_progress(
                    id,
                    shards,
                    idx,
                    &record.call_id,
                    &json,
                    service.clock.now_ms() + ACTIVE_MAX_MS,
                )
                .await?;
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
            settle::settle(
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

async fn on_dnc(service: &CallService, contact: &Contact) -> Result<bool, ServiceError> {
    Ok(service.store.dnc_get(&contact.to).await?.is_some())
}

/// Settles what an earlier, interrupted attempt of this contact left behind.
async fn earlier_attempt(
    service: &CallService,
    config: &CampaignConfig,
    idx: u32,
    contact: &Contact,
    state: &ContactState,
) -> Result<Earlier, ServiceError> {
    // A contact with an attempt under way is taken up again only when its
    // holder's lease ran out or its call has been in progress for very long.
    let (Phase::Dialing | Phase::InProgress, Some(call_id)) =
        (state.phase, state.call_id.as_deref())
    else {
        return Ok(Earlier::None);
    };
    let id = &config.campaign_id;
    let mut record = service.record(call_id).await?;
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
                    Some(call) => record = service.adopt_call_sid(call_id, &call.sid).await?,
                    None => {
                        info!(campaign_id = %id, contact = idx, call_id, "earlier dial never reached Twilio; dialing again");
                        service
                            .abandon(call_id, "the dial never reached Twilio")
                            .await?;
                        return Ok(Earlier::NeverPlaced);
                    }
                }
            }
            Err(e) => {
                warn!(campaign_id = %id, contact = idx, error = %e, "cannot reconcile an uncertain dial yet");
                return Ok(Earlier::Unknown);
            }
        }
    }
    if record.is_finished() || (record.state.disposition().is_some() && record.call_sid.is_none()) {
        settle::call_finished(service, &record).await?;
    } else {
        let mut tracked = state.clone();
        tracked.phase = Phase::InProgress;
        let json = serde_json::to_string(&tracked).expect("states serialize");
        service
            .store
            .mark_in_progress(
                id,
                config.shards,
                idx,
                call_id,
                &json,
                service.clock.now_ms() + ACTIVE_MAX_MS,
            )
            .await?;
    }
    Ok(Earlier::Placed)
}

/// Looks after the calls counted as in progress: settles those whose end was
/// recorded but whose contact was not (an instance died between the two
/// writes), and stops counting attempts that are already over.
async fn reap_finished(service: &CallService, config: &CampaignConfig) {
    let id = &config.campaign_id;
    let Ok(active) = service.store.active_contacts(id).await else {
        return;
    };
    for (idx, call_id) in active {
        let Ok((_, state)) = service.store.contact(id, config.shards, idx).await else {
            continue;
        };
        let state = parse_state(state.as_deref());
        let current = state.call_id.as_deref() == Some(call_id.as_str())
            && matches!(state.phase, Phase::Dialing | Phase::InProgress);
        if !current {
            let _ = service.store.forget_active(id, idx, &call_id).await;
            continue;
        }
        if let Ok(record) = service.record(&call_id).await {
            if record.is_finished() {
                if let Err(e) = settle::call_finished(service, &record).await {
                    warn!(campaign_id = %id, contact = idx, error = %e, "reaper could not settle");
                }
            }
        }
    }
}
