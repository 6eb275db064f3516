//! The dispatcher: dials due contacts of every live campaign, on every instance
//! at once. All coordination is in Redis: a contact is claimed with a lease
//! (taken over if its holder dies), pacing slots are reserved in Redis, and a
//! dial whose fate is unknown is reconciled before anyone dials that contact again.
//! When `stop` fires it claims no more; the dials it started finish first
//! (each releases its contact if it had not reached Twilio yet, see `attempt`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn, Instrument};

use super::attempt::dispatch;
use super::cancel;
use super::model::{CampaignConfig, CampaignStatus};
use super::recovery::reap_finished;
use super::settle::{self, load_config};
use super::stopping;
use crate::app::{AppState, ServiceError};
use crate::outage::Outage;
use crate::store::{Admit, Take};

/// The longest the loop sleeps, so new campaigns and resumes are seen quickly.
const MAX_IDLE: Duration = Duration::from_millis(200);
/// How often calls in progress are checked for a settlement that was lost.
const REAP_EVERY: Duration = Duration::from_secs(2);
/// How far ahead (real time) a pace slot may be claimed: the dial then waits
/// for its slot, so a dispatcher tick up to this late costs no rate.
const PACE_LOOKAHEAD: Duration = Duration::from_millis(25);

/// Runs until `stop` fires (or its sender is dropped), then waits for the
/// attempts it started.
pub async fn run(service: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let mut configs: HashMap<String, Arc<CampaignConfig>> = HashMap::new();
    let mut attempts = JoinSet::new();
    let mut last_reap = Instant::now();
    let mut outage = Outage::new("dispatcher");
    info!("campaign dispatcher running");
    loop {
        while attempts.try_join_next().is_some() {}
        if stopping(&stop) {
            break;
        }
        let mut sleep = MAX_IDLE;
        match service.store.live_campaigns().await {
            Ok(ids) => {
                outage.over();
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
                    if let Some(wait) =
                        claim_and_dial(&service, &config, &stop, &mut attempts).await
                    {
                        sleep = sleep.min(wait);
                    }
                }
            }
            Err(e) => {
                outage.failed(&e);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = stop.changed() => {}
        }
    }
    info!(
        under_way = attempts.len(),
        "campaign dispatcher stopped claiming; finishing the attempts under way"
    );
    while attempts.join_next().await.is_some() {}
    info!("campaign dispatcher stopped");
}

/// Claims every contact that may be dialed now and starts its dial, until
/// `stop` fires. Returns how long to wait before this campaign may have more.
async fn claim_and_dial(
    service: &Arc<AppState>,
    config: &Arc<CampaignConfig>,
    stop: &watch::Receiver<bool>,
    attempts: &mut JoinSet<()>,
) -> Option<Duration> {
    let id = &config.campaign_id;
    for _ in 0..100 {
        if stopping(stop) {
            return None;
        }
        match claim(service, config).await {
            Ok(Claimed::Contact(idx, slot)) => {
                let (service, config, stop) = (service.clone(), config.clone(), stop.clone());
                let span = tracing::info_span!("dispatch", campaign_id = %id, contact = idx);
                attempts.spawn(
                    async move {
                        if let Err(e) = dispatch(&service, &config, idx, slot, stop).await {
                            warn!(error = %e, "dispatch failed; the lease will expire and it is retried");
                        }
                    }
                    .instrument(span),
                );
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
            Ok(Claimed::Idle(Some(CampaignStatus::Canceled))) => {
                return cancel::settle_step(service, config).await;
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
    /// A contact and its pace slot (epoch ms of the service clock).
    Contact(u32, i64),
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
async fn claim(service: &AppState, config: &CampaignConfig) -> Result<Claimed, ServiceError> {
    let id = &config.campaign_id;
    let store = &service.store;
    let lease_ms = service.settings.dispatch_lease.as_millis() as i64;
    // At most half an interval ahead, so a dial never holds more than its own slot.
    let lookahead = (PACE_LOOKAHEAD.as_secs_f64() * 1000.0 * service.clock.speed())
        .min(config.interval_ms() / 2.0);
    let admit = |now: i64, contact: Option<u32>| {
        store.admit(
            id,
            now,
            lease_ms,
            config.max_concurrent,
            config.interval_ms(),
            lookahead,
            contact,
        )
    };
    let refused = |a: Admit| match a {
        Admit::Pace(ms) => Claimed::Wait(ms),
        Admit::Full => Claimed::Full,
        Admit::NotRunning(status) => Claimed::Idle(status),
        Admit::Open | Admit::Claimed(..) => Claimed::Full,
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
                    Admit::Claimed(idx, slot) => Ok(Claimed::Contact(idx, slot)),
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
