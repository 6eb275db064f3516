//! Reading and steering a campaign: status and counts, paged contacts, pause,
//! resume and cancel. Every answer is a typed view of what is stored.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::parse_state;
use super::model::{
    CampaignConfig, CampaignStatus, Contact, ContactOutcome, ContactState, Phase, RetryPolicy,
    WaitingReason, WindowSpec,
};
use crate::app::{AppState, ServiceError};
use crate::store::{CampaignSnapshot, StatusRefused, StoreError};

/// A campaign's numbers, summed over its shards.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignCounts {
    pub total: u64,
    pub done: u64,
    pub pending: u64,
    pub dialing: u64,
    pub in_progress: u64,
    /// Contacts settled `canceled`: never dialed (again) after a cancel.
    pub canceled: u64,
    pub attempts: u64,
    /// Retries made so far (attempts after a contact's first).
    pub retries: u64,
    /// Contacts waiting for a retry now.
    pub waiting_retry: u64,
    /// The old name of `retries`: a running total, kept for existing clients.
    pub retries_scheduled: u64,
    /// Contacts held because their stored state cannot be read.
    pub errors: u64,
    /// Final dispositions by name.
    pub dispositions: BTreeMap<String, u64>,
}

impl CampaignCounts {
    fn of(s: &CampaignSnapshot) -> Self {
        let num = |k: &str| s.fields.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        let dispositions = s
            .fields
            .iter()
            .filter_map(|(k, v)| {
                Some((k.strip_prefix("disp:")?.to_string(), v.parse().unwrap_or(0)))
            })
            .collect();
        Self {
            total: num("total"),
            done: num("done"),
            // The due sets hold every unfinished contact, held ones included.
            pending: s.due.saturating_sub(s.leased + s.active),
            dialing: s.leased,
            in_progress: s.active,
            canceled: num("canceled"),
            attempts: num("attempts"),
            retries: num("retries"),
            waiting_retry: s.waiting_retry,
            retries_scheduled: num("retries"),
            errors: num("errors"),
            dispositions,
        }
    }
}

/// The settings a campaign runs under (null where its stored config is unreadable).
#[derive(Debug, Clone, Serialize)]
pub struct CampaignSettings {
    pub window: Option<WindowSpec>,
    pub max_concurrent: Option<u32>,
    pub calls_per_second: Option<f64>,
    pub retry: Option<RetryPolicy>,
    pub webhook_url: Option<String>,
}

/// `GET /api/campaigns/{id}`, and the answer to pause, resume and cancel.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignView {
    pub campaign_id: String,
    pub status: CampaignStatus,
    pub flow: Option<String>,
    pub flow_version: Option<String>,
    pub created_at: Option<String>,
    pub completed_at: Option<String>,
    pub canceled_at: Option<String>,
    pub counts: CampaignCounts,
    pub next_scheduled_dial: Option<DateTime<Utc>>,
    pub settings: CampaignSettings,
}

/// One contact in `GET /api/campaigns/{id}/calls`.
#[derive(Debug, Clone, Serialize)]
pub struct ContactView {
    pub index: u32,
    pub to: String,
    pub name: Option<String>,
    pub state: Phase,
    pub attempts: u32,
    pub disposition: Option<ContactOutcome>,
    pub call_id: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why a pending contact is not dialed yet (null when it is due).
    pub waiting_reason: Option<WaitingReason>,
    /// The state whose rule holds it, when `waiting_reason` is `state_rule`.
    pub waiting_state: Option<String>,
    /// The zone(s) its calling times are judged in (all must allow a dial).
    pub zones: Vec<String>,
    /// The US state whose rules apply to it (its own `state`, else its area code's).
    pub callee_state: Option<String>,
}

/// A page of contacts; `next_cursor` is null at the end.
#[derive(Debug, Clone, Serialize)]
pub struct ContactPage {
    pub campaign_id: String,
    pub calls: Vec<ContactView>,
    pub next_cursor: Option<String>,
}

/// A request to change a campaign's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Steer {
    Pause,
    Resume,
    Cancel,
}

impl Steer {
    fn as_str(self) -> &'static str {
        match self {
            Steer::Pause => "pause",
            Steer::Resume => "resume",
            Steer::Cancel => "cancel",
        }
    }

    /// The status it leads to and the ones it may start from.
    fn transition(self) -> (CampaignStatus, &'static [CampaignStatus]) {
        use CampaignStatus::*;
        match self {
            Steer::Pause => (Paused, &[Running]),
            Steer::Resume => (Running, &[Paused]),
            Steer::Cancel => (Canceled, &[Running, Paused]),
        }
    }
}

/// What can go wrong reading or steering a campaign.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("status: cannot {} a campaign that is {current}", .action.as_str())]
    Refused {
        action: Steer,
        current: CampaignStatus,
    },
}

impl From<StoreError> for CampaignError {
    fn from(e: StoreError) -> Self {
        CampaignError::Service(e.into())
    }
}

fn config_of(s: &CampaignSnapshot) -> Option<CampaignConfig> {
    serde_json::from_str(s.fields.get("config")?).ok()
}

/// Counts by phase and disposition, or `None` for an unknown campaign.
pub async fn counts(service: &AppState, id: &str) -> Result<Option<CampaignCounts>, StoreError> {
    let now = service.clock.now_ms();
    let snapshot = service.store.campaign_snapshot(id, now).await?;
    Ok(snapshot.as_ref().map(CampaignCounts::of))
}

async fn snapshot(service: &AppState, id: &str) -> Result<CampaignSnapshot, ServiceError> {
    let now = service.clock.now_ms();
    service
        .store
        .campaign_snapshot(id, now)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// `GET /api/campaigns/{id}`.
pub async fn view(service: &AppState, id: &str) -> Result<CampaignView, ServiceError> {
    let s = snapshot(service, id).await?;
    let config = config_of(&s);
    let stored = s.fields.get("status").map(String::as_str).unwrap_or("");
    let status = CampaignStatus::parse(stored)
        .ok_or_else(|| StoreError::Corrupt(format!("campaign status '{stored}'")))?;
    let next = s
        .next_due_ms
        .filter(|_| !status.is_final())
        .and_then(DateTime::from_timestamp_millis);
    let field = |k: &str| s.fields.get(k).cloned();
    Ok(CampaignView {
        campaign_id: id.to_string(),
        status,
        flow: config.as_ref().map(|c| c.flow_id.clone()),
        flow_version: config.as_ref().map(|c| c.flow_version.clone()),
        created_at: field("created_at"),
        completed_at: field("completed_at"),
        canceled_at: field("canceled_at"),
        counts: CampaignCounts::of(&s),
        next_scheduled_dial: next,
        settings: CampaignSettings {
            window: config.as_ref().and_then(|c| c.window.clone()),
            max_concurrent: config.as_ref().map(|c| c.max_concurrent),
            calls_per_second: config.as_ref().map(|c| c.calls_per_second),
            retry: config.as_ref().map(|c| c.retry.clone()),
            webhook_url: config.and_then(|c| c.webhook_url),
        },
    })
}

/// Which contacts to list, from where, how many.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub phase: Option<Phase>,
    pub disposition: Option<String>,
    pub cursor: u32,
    pub limit: u32,
}

impl ListQuery {
    fn admits(&self, state: &super::model::ContactState) -> bool {
        self.phase.is_none_or(|p| p == state.phase)
            && self
                .disposition
                .as_deref()
                .is_none_or(|d| state.disposition.map(ContactOutcome::as_str) == Some(d))
    }
}

/// `GET /api/campaigns/{id}/calls`: contacts in index order from `cursor`, filtered.
pub async fn list(service: &AppState, id: &str, q: ListQuery) -> Result<ContactPage, ServiceError> {
    let s = snapshot(service, id).await?;
    let num = |k: &str| s.fields.get(k).and_then(|v| v.parse::<u32>().ok());
    // Contacts keep their request index, so indexes may have gaps up to the request size.
    let end = num("index_end").unwrap_or_else(|| config_of(&s).map_or(0, |c| c.total));
    let shards = num("shards").unwrap_or(1);
    let paused = s.fields.get("status").map(String::as_str) == Some("paused");
    let now_ms = service.clock.now_ms();
    let mut calls = Vec::new();
    let mut cursor = q.cursor;
    // Bounded work per page even when the filter matches little.
    let mut scanned = 0u32;
    while cursor < end && calls.len() < q.limit as usize && scanned < 10_000 {
        let batch = (q.limit * 2).clamp(50, 1000).min(end - cursor);
        for (idx, contact, state) in service
            .store
            .contacts_range(id, shards, cursor, batch)
            .await?
        {
            cursor = idx + 1;
            scanned += 1;
            let Some(contact) = contact.and_then(|c| serde_json::from_str::<Contact>(&c).ok())
            else {
                continue;
            };
            let state = parse_state(state.as_deref());
            if !q.admits(&state) {
                continue;
            }
            let callee = crate::app::dial_gate::callee(
                &super::gate_target(&contact, None),
                service.settings.timezone_default,
            );
            let waiting_reason = waiting_reason(&state, paused, now_ms);
            calls.push(ContactView {
                index: idx,
                to: crate::phone::mask(&contact.to),
                name: contact.name,
                state: state.phase,
                attempts: state.attempts,
                disposition: state.disposition,
                call_id: state.call_id,
                next_attempt_at: state.next_at.and_then(DateTime::from_timestamp_millis),
                waiting_state: state
                    .waiting_state
                    .filter(|_| waiting_reason == Some(WaitingReason::StateRule)),
                waiting_reason,
                zones: callee.zones.iter().map(|z| z.name().to_string()).collect(),
                callee_state: callee.state.map(|s| s.code().to_string()),
            });
            if calls.len() >= q.limit as usize {
                break;
            }
        }
    }
    Ok(ContactPage {
        campaign_id: id.to_string(),
        calls,
        next_cursor: (cursor < end).then(|| cursor.to_string()),
    })
}

/// Why a contact waits: its campaign is paused, else what the dial gate last
/// held it for, else a retry's backoff. `None` for a contact not pending or due.
fn waiting_reason(state: &ContactState, paused: bool, now_ms: i64) -> Option<WaitingReason> {
    if state.phase != Phase::Pending {
        return None;
    }
    if paused {
        return Some(WaitingReason::Paused);
    }
    let later = state.next_at.is_some_and(|t| t > now_ms);
    match state.waiting_reason {
        Some(reason) if later => Some(reason),
        _ if later && state.attempts > 0 => Some(WaitingReason::RetryBackoff),
        _ => None,
    }
}

/// Pause, resume or cancel. Returns the campaign as [`view`] shows it.
pub async fn steer(
    service: &AppState,
    id: &str,
    action: Steer,
) -> Result<CampaignView, CampaignError> {
    let (to, from) = action.transition();
    let now = service.clock.now().to_rfc3339();
    let stamp = (to == CampaignStatus::Canceled).then_some(("canceled_at", now.as_str()));
    match service
        .store
        .set_campaign_status(id, to, from, stamp)
        .await?
    {
        Ok(()) => tracing::info!(campaign_id = id, status = %to, "campaign {}", action.as_str()),
        Err(StatusRefused::Missing) => return Err(ServiceError::NotFound.into()),
        // Already there: pausing a paused campaign is fine.
        Err(StatusRefused::Is(current)) if current == to => {}
        Err(StatusRefused::Is(current)) => return Err(CampaignError::Refused { action, current }),
    }
    Ok(view(service, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_contact_says_why_it_waits() {
        let now = 1_000_000;
        let held = ContactState {
            next_at: Some(now + 60_000),
            waiting_reason: Some(WaitingReason::StateRule),
            ..Default::default()
        };
        assert_eq!(
            waiting_reason(&held, false, now),
            Some(WaitingReason::StateRule)
        );
        assert_eq!(
            waiting_reason(&held, true, now),
            Some(WaitingReason::Paused)
        );
        let retry = ContactState {
            attempts: 1,
            next_at: Some(now + 60_000),
            ..Default::default()
        };
        assert_eq!(
            waiting_reason(&retry, false, now),
            Some(WaitingReason::RetryBackoff)
        );
        let due = ContactState {
            next_at: Some(now - 1),
            ..held.clone()
        };
        assert_eq!(waiting_reason(&due, false, now), None, "due now");
        let dialing = ContactState {
            phase: Phase::Dialing,
            ..held
        };
        assert_eq!(waiting_reason(&dialing, true, now), None);
    }
}
