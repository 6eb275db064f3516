//! Settling a contact's attempt: final, or queued again under the retry policy.

use super::events;
use super::model::{read_state, CampaignConfig, ContactOutcome, ContactState, Phase};
use futures_util::future::BoxFuture;
use tracing::warn;

use crate::app::{AppState, CallListener, ServiceError};
use crate::call::CallRecord;
use crate::store::{Finish, StoreError};

pub async fn load_config(
    service: &AppState,
    campaign_id: &str,
) -> Result<Option<CampaignConfig>, ServiceError> {
    let Some(json) = service.store.campaign_config(campaign_id).await? else {
        return Ok(None);
    };
    Ok(Some(serde_json::from_str(&json).map_err(|e| {
        StoreError::Corrupt(format!("campaign config: {e}"))
    })?))
}

/// Settles a campaign's contact when its call is over; the application core
/// tells it through [`CallListener`], so the core never depends on campaigns.
pub struct CampaignListener;

impl CallListener for CampaignListener {
    fn call_finished<'a>(&'a self, app: &'a AppState, record: &'a CallRecord) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if record.campaign.is_none() {
                return;
            }
            if let Err(e) = call_finished(app, record).await {
                warn!(call_id = %record.call_id, error = %e, "could not settle the campaign contact");
            }
        })
    }
}

/// A campaign call is over: settle its contact. Idempotent (guarded by call id).
pub async fn call_finished(
    service: &AppState,
    record: &CallRecord,
) -> Result<Finish, ServiceError> {
    let Some(link) = &record.campaign else {
        return Ok(Finish::Stale);
    };
    let disposition = record.disposition.map(|d| d.as_str()).unwrap_or("failed");
    settle_attempt(
        service,
        &link.campaign_id,
        link.contact,
        Some(&record.call_id),
        disposition,
        record.disposition,
    )
    .await
}

/// Settles the current attempt of contact `idx` with `disposition`.
pub async fn settle_attempt(
    service: &AppState,
    campaign_id: &str,
    idx: u32,
    call_id: Option<&str>,
    disposition: &str,
    parsed: Option<crate::call::Disposition>,
) -> Result<Finish, ServiceError> {
    let Some(config) = load_config(service, campaign_id).await? else {
        return Ok(Finish::Stale);
    };
    let (_, state_json) = service
        .store
        .contact(campaign_id, config.shards, idx)
        .await?;
    // An unreadable state does not say how many attempts were made: settle
    // this attempt for good rather than risk a retry beyond the policy.
    let (mut state, retry) = match read_state(state_json.as_deref()) {
        Ok(state) => (state, parsed),
        Err(e) => {
            warn!(campaign_id, contact = idx, error = %e, "contact state cannot be read: settled without a retry");
            (ContactState::default(), None)
        }
    };
    let now_ms = service.clock.now_ms();
    let wait = retry.and_then(|d| config.retry.next_wait_secs(d, state.attempts.max(1)));
    let retry_at = wait.map(|secs| now_ms + secs as i64 * 1000);
    state.disposition = ContactOutcome::parse(disposition);
    state.phase = if retry_at.is_some() {
        Phase::Pending
    } else {
        Phase::Done
    };
    state.next_at = retry_at;
    let json = serde_json::to_string(&state).expect("states serialize");
    let result = service
        .store
        .finish_contact(
            campaign_id,
            config.shards,
            idx,
            call_id.unwrap_or(""),
            disposition,
            retry_at,
            &json,
        )
        .await?;
    if !matches!(result, Finish::Final | Finish::Drained) {
        return Ok(result);
    }
    events::contact_finished(service, &config, idx, call_id, disposition, state.attempts).await?;
    // The last contact of the campaign is always the last of its shard, so the
    // shards' counters are summed only when one runs dry.
    if result == Finish::Drained && complete_if_done(service, &config).await? {
        return Ok(Finish::Completed);
    }
    Ok(Finish::Final)
}

/// Marks the campaign completed once every contact is done, and announces it
/// once. Called after each final settlement, and by the dispatcher when no
/// contact is left (so a crash between the two steps never leaves it running).
pub async fn complete_if_done(
    service: &AppState,
    config: &CampaignConfig,
) -> Result<bool, ServiceError> {
    let id = &config.campaign_id;
    let now = service.clock.now().to_rfc3339();
    if !service
        .store
        .complete_if_done(id, config.shards, &now)
        .await?
    {
        return Ok(false);
    }
    events::campaign_completed(service, config).await?;
    service.store.forget_live_campaign(id).await?;
    tracing::info!(campaign_id = %id, "campaign completed");
    Ok(true)
}
