//! The durable outbox: work that must not hold up a webhook's reply or a
//! request, and must survive a crash. Campaign events and the tenant's
//! events (a signed POST to a receiver, see [`webhook`]) and texts to send
//! ([`sms`]) are items in the tenant's outbox in Redis
//! (`store/outbox_store.rs`), claimed with a lease by any instance's tenant
//! task (`tenant/tasks.rs` runs [`deliver_loop`]) and retried with backoff.

pub mod events;
pub mod sms;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::AppState;
use crate::store::StoreError;

/// Waits between attempts; after the last one the item is dropped (and logged).
const BACKOFF_SECS: [i64; 8] = [1, 5, 30, 120, 600, 1800, 3600, 7200];
/// The longest wait a `Retry-After` may impose on one attempt.
const MAX_RETRY_AFTER_SECS: i64 = 3600;
/// How long a claimed item is this instance's before another may take it.
const LEASE_MS: i64 = 30_000;
/// Items claimed at once.
const CLAIM_MAX: usize = 20;
/// How long the loop sleeps when nothing is due.
const IDLE: Duration = Duration::from_millis(200);

/// What an item asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// A signed JSON POST to `url` (see [`webhook`]).
    Webhook {
        url: String,
        body: String,
        /// Also sign with `X-Callflow-Signature` (campaign events).
        #[serde(default)]
        callflow_signature: bool,
    },
    /// Send the text of one notification (see [`sms`]).
    Sms { notification_id: String },
}

/// An item as stored: its job and how many attempts failed so far.
#[derive(Debug, Serialize, Deserialize)]
struct Item {
    #[serde(flatten)]
    job: Job,
    #[serde(default)]
    attempts: u32,
}

/// Items written before the outbox carried several kinds: campaign events.
#[derive(Debug, Deserialize)]
struct CampaignItem {
    url: String,
    body: String,
    #[serde(default)]
    attempts: u32,
}

impl Item {
    fn parse(json: &str) -> Option<Item> {
        serde_json::from_str(json).ok().or_else(|| {
            let old: CampaignItem = serde_json::from_str(json).ok()?;
            Some(Item {
                job: Job::Webhook {
                    url: old.url,
                    body: old.body,
                    callflow_signature: true,
                },
                attempts: old.attempts,
            })
        })
    }

    fn json(&self) -> String {
        serde_json::to_string(self).expect("items serialize")
    }
}

/// What became of one attempt.
#[derive(Debug)]
enum Outcome {
    Done,
    /// Try again: after the backoff, or at least this long (`Retry-After`).
    Retry {
        at_least: Option<Duration>,
    },
}

/// A new id for an item (and its event).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Puts `job` in the tenant's outbox under `id`, due now.
pub async fn push(app: &AppState, id: &str, job: Job) -> Result<(), StoreError> {
    let item = Item { job, attempts: 0 };
    app.store
        .outbox_push(id, &item.json(), chrono::Utc::now().timestamp_millis())
        .await
}

/// Puts a JSON event for `url` in the outbox: `event` gains its `id`, which
/// is also the delivery's `webhook-id` (the same on every retry).
pub async fn push_event(
    app: &AppState,
    url: &str,
    mut event: Value,
    callflow_signature: bool,
) -> Result<String, StoreError> {
    let id = new_id();
    event["id"] = Value::String(id.clone());
    let job = Job::Webhook {
        url: url.to_string(),
        body: event.to_string(),
        callflow_signature,
    };
    push(app, &id, job).await?;
    Ok(id)
}

/// Delivers due items of the tenant until `stop` fires.
pub async fn deliver_loop(app: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        match app.store.outbox_claim(now, LEASE_MS, CLAIM_MAX).await {
            Ok(items) if !items.is_empty() => {
                for (id, json) in items {
                    deliver_one(&app, &id, &json).await;
                    if *stop.borrow() {
                        return;
                    }
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox unavailable"),
        }
        tokio::select! {
            _ = tokio::time::sleep(IDLE) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn deliver_one(app: &AppState, id: &str, json: &str) {
    let Some(mut item) = Item::parse(json) else {
        tracing::error!(item = id, "outbox item unreadable; dropped");
        let _ = app.store.outbox_done(id).await;
        return;
    };
    let outcome = match &item.job {
        Job::Webhook {
            url,
            body,
            callflow_signature,
        } => webhook::deliver(app, id, url, body, *callflow_signature).await,
        Job::Sms { notification_id } => sms::deliver(app, notification_id).await,
    };
    let kind = match item.job {
        Job::Webhook { .. } => "webhook",
        Job::Sms { .. } => "sms",
    };
    let result = match outcome {
        Outcome::Done => app.store.outbox_done(id).await,
        Outcome::Retry { at_least } => match BACKOFF_SECS.get(item.attempts as usize) {
            Some(wait) => {
                item.attempts += 1;
                crate::observe::outbox_failure(false);
                let floor = at_least.map_or(0, |d| {
                    i64::try_from(d.as_secs())
                        .unwrap_or(i64::MAX)
                        .min(MAX_RETRY_AFTER_SECS)
                });
                let due = chrono::Utc::now().timestamp_millis() + (*wait).max(floor) * 1000;
                tracing::warn!(
                    item = id,
                    kind,
                    attempts = item.attempts,
                    "outbox delivery failed; will retry"
                );
                app.store.outbox_retry(id, &item.json(), due).await
            }
            None => {
                crate::observe::outbox_failure(true);
                tracing::error!(
                    item = id,
                    kind,
                    "outbox delivery failed for good; dropping the item"
                );
                if let Job::Sms { notification_id } = &item.job {
                    sms::give_up(app, notification_id).await;
                }
                app.store.outbox_done(id).await
            }
        },
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "outbox update failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_of_every_kind_read_back_and_old_items_are_campaign_events() {
        let item = Item {
            job: Job::Sms {
                notification_id: "n1".into(),
            },
            attempts: 2,
        };
        let back = Item::parse(&item.json()).unwrap();
        assert!(matches!(back.job, Job::Sms { notification_id } if notification_id == "n1"));
        assert_eq!(back.attempts, 2);
        let old = Item::parse(r#"{"url":"http://x/","body":"{}","attempts":1}"#).unwrap();
        assert!(matches!(
            old.job,
            Job::Webhook {
                callflow_signature: true,
                ..
            }
        ));
        assert!(Item::parse("{}").is_none());
    }
}
