//! Reading and steering a campaign: status and counts, paged contacts, pause,
//! resume and cancel.

use serde_json::{json, Map, Value};

use super::model::parse_state;
use super::model::{Contact, Phase};
use crate::app::{AppState, ServiceError};
use crate::store::StoreError;

/// Counts by phase and disposition, or `None` for an unknown campaign.
pub async fn counts(service: &AppState, id: &str) -> Result<Option<Value>, StoreError> {
    let now = service.clock.now_ms();
    let Some(s) = service.store.campaign_snapshot(id, now).await? else {
        return Ok(None);
    };
    let num = |k: &str| {
        s.fields
            .get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut dispositions = Map::new();
    for (k, v) in &s.fields {
        if let Some(d) = k.strip_prefix("disp:") {
            dispositions.insert(d.to_string(), json!(v.parse::<u64>().unwrap_or(0)));
        }
    }
    Ok(Some(json!({
        "total": num("total"),
        "done": num("done"),
        // The due sets hold every unfinished contact, held ones included.
        "pending": s.due.saturating_sub(s.leased + s.active),
        "dialing": s.leased,
        "in_progress": s.active,
        "attempts": num("attempts"),
        "retries_scheduled": num("retries"),
        // Contacts held because their stored state cannot be read.
        "errors": num("errors"),
        "dispositions": dispositions,
    })))
}

/// `GET /api/campaigns/{id}`.
pub async fn get(service: &AppState, id: &str) -> Result<Value, ServiceError> {
    let now = service.clock.now_ms();
    let s = service
        .store
        .campaign_snapshot(id, now)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let counts = counts(service, id).await?.unwrap_or(Value::Null);
    let config: Value = s
        .fields
        .get("config")
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(Value::Null);
    let status = s.fields.get("status").cloned().unwrap_or_default();
    let next = s
        .next_due_ms
        .filter(|_| status == "running" || status == "paused")
        .and_then(chrono::DateTime::from_timestamp_millis);
    Ok(json!({
        "campaign_id": id,
        "status": status,
        "flow": config["flow_id"],
        "flow_version": config["flow_version"],
        "created_at": s.fields.get("created_at"),
        "completed_at": s.fields.get("completed_at"),
        "canceled_at": s.fields.get("canceled_at"),
        "counts": counts,
        "next_scheduled_dial": next,
        "settings": {
            "window": config["window"],
            "max_concurrent": config["max_concurrent"],
            "calls_per_second": config["calls_per_second"],
            "retry": config["retry"],
            "webhook_url": config["webhook_url"],
        },
    }))
}

pub struct ListQuery {
    pub phase: Option<Phase>,
    pub disposition: Option<String>,
    pub cursor: u32,
    pub limit: u32,
}

/// `GET /api/campaigns/{id}/calls`: contacts in index order from `cursor`,
/// filtered; `next_cursor` is null at the end.
pub async fn list(service: &AppState, id: &str, q: ListQuery) -> Result<Value, ServiceError> {
    let now = service.clock.now_ms();
    let s = service
        .store
        .campaign_snapshot(id, now)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let config: Value = s
        .fields
        .get("config")
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(Value::Null);
    // Contacts keep their request index, so indexes may have gaps up to the request size.
    let end = s
        .fields
        .get("index_end")
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(config["total"].as_u64().unwrap_or(0) as u32);
    let shards = s
        .fields
        .get("shards")
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(1);
    let mut items = Vec::new();
    let mut cursor = q.cursor;
    // Bounded work per page even when the filter matches little.
    let mut scanned = 0u32;
    while cursor < end && items.len() < q.limit as usize && scanned < 10_000 {
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
            if q.phase.is_some_and(|p| p != state.phase)
                || q.disposition
                    .as_deref()
                    .is_some_and(|d| state.disposition.as_deref() != Some(d))
            {
                continue;
            }
            items.push(json!({
                "index": idx,
                "to": crate::phone::mask(&contact.to),
                "name": contact.name,
                "state": state.phase.as_str(),
                "attempts": state.attempts,
                "disposition": state.disposition,
                "call_id": state.call_id,
                "next_attempt_at": state.next_at.and_then(chrono::DateTime::from_timestamp_millis),
            }));
            if items.len() >= q.limit as usize {
                break;
            }
        }
    }
    Ok(json!({
        "campaign_id": id,
        "calls": items,
        "next_cursor": if cursor < end { Some(cursor.to_string()) } else { None },
    }))
}

/// Pause, resume or cancel. Returns the campaign as `get` shows it.
pub async fn steer(service: &AppState, id: &str, action: &str) -> Result<Value, ServiceError> {
    let (to, from): (&str, &[&str]) = match action {
        "pause" => ("paused", &["running"]),
        "resume" => ("running", &["paused"]),
        "cancel" => ("canceled", &["running", "paused"]),
        _ => return Err(ServiceError::NotFound),
    };
    let now = service.clock.now().to_rfc3339();
    let stamp = (to == "canceled").then_some(("canceled_at", now.as_str()));
    match service
        .store
        .set_campaign_status(id, to, from, stamp)
        .await?
    {
        Ok(()) => {
            tracing::info!(campaign_id = id, status = to, "campaign {action}");
        }
        Err(current) if current == "missing" => return Err(ServiceError::NotFound),
        // Already there: pausing a paused campaign is fine.
        Err(current) if current == to => {}
        Err(current) => {
            return Err(ServiceError::Invalid {
                field: "status".into(),
                reason: format!("cannot {action} a campaign that is {current}"),
            })
        }
    }
    get(service, id).await
}
