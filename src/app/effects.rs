//! The reaper of side effects a stored transition still owes (see
//! `store::effects`): an instance that died between an opt-out's transition and
//! its do-not-call write leaves the call pending; this finds it after
//! [`EFFECT_GRACE`] and performs what the call's record says it owes, or
//! drops it when the transition never happened.
//!
//! The grace is longer than any callback's write deadline (see
//! `outbound::CALLBACK_WRITE_BUDGET`): by then a transition that was not
//! written can no longer be, so "not owed" is final.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::info;

use super::AppState;
use crate::outage::Outage;
use crate::store::{Effect, StoreError};

/// How long a pending effect is left to the transition that owes it.
pub const EFFECT_GRACE: Duration = Duration::from_secs(5);
/// How often the reaper looks.
const REAP_EVERY: Duration = Duration::from_secs(1);
/// Pending effects looked at per round.
const REAP_BATCH: usize = 50;

/// Says what a performed effect did.
pub(super) fn performed(effect: &Effect, added: bool, by: &'static str) {
    let Effect::DoNotCall { number, .. } = effect;
    if added {
        info!(number = %crate::phone::mask(number), by, "added to do-not-call list");
    }
}

/// Completes pending effects until `stop` fires.
pub async fn run_reaper(app: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let mut outage = Outage::new("effect reaper");
    loop {
        match reap(&app).await {
            Ok(_) => outage.over(),
            Err(e) => {
                outage.failed(&e);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(REAP_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// One round: every effect pending for longer than the grace, performed or
/// dropped. How many were performed.
pub async fn reap(app: &AppState) -> Result<usize, StoreError> {
    let grace = EFFECT_GRACE.as_millis() as i64;
    let mut done = 0;
    let (stale, before) = app.store.stale_effects(grace, REAP_BATCH).await?;
    for record_key in stale {
        match app.store.owed_effect(&record_key).await? {
            Some(effect) => {
                let added = app.store.perform_effect(&record_key, &effect).await?;
                performed(&effect, added, "reaper");
                info!(record = %record_key, "completed a side effect an interrupted transition left");
                done += 1;
            }
            None => app.store.drop_pending_effect(&record_key, before).await?,
        }
    }
    Ok(done)
}
