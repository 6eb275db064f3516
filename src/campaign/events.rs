//! Campaign webhook events: one per final contact disposition and one when the
//! campaign completes, as JSON signed with HMAC-SHA256 and retried with backoff
//! from a Redis outbox (any instance delivers; none is lost to a crash).
//!
//! Signature headers, both on every delivery:
//! - `X-Callflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"
//!   with CAMPAIGN_WEBHOOK_SECRET>` (callflow's own, kept for existing receivers);
//! - the Standard Webhooks headers `webhook-id` (the event id, the same on every
//!   retry), `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256
//!   of "<id>.<timestamp>.<body>">`), which receivers verify with the ready-made
//!   libraries. The key is the secret's bytes, or, for a `whsec_<base64>` secret,
//!   the bytes it encodes (the scheme's own format).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use super::model::CampaignConfig;
use crate::app::AppState;
use crate::store::StoreError;

/// Waits between delivery attempts; after the last one the event is dropped (and logged).
const BACKOFF_SECS: [i64; 8] = [1, 5, 30, 120, 600, 1800, 3600, 7200];

#[derive(Debug, Serialize, Deserialize)]
struct Item {
    url: String,
    body: String,
    attempts: u32,
}

/// `t=..,v1=..` for `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

/// The Standard Webhooks signer for `secret` (see the module comment).
pub fn standard_signer(secret: &str) -> standardwebhooks::Webhook {
    secret
        .starts_with("whsec_")
        .then(|| standardwebhooks::Webhook::new(secret).ok())
        .flatten()
        .unwrap_or_else(|| {
            standardwebhooks::Webhook::from_bytes(secret.as_bytes().to_vec())
                .expect("any key length")
        })
}

async fn enqueue(service: &AppState, url: &str, event: Value) -> Result<(), StoreError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut event = event;
    event["id"] = json!(id);
    let item = Item {
        url: url.to_string(),
        body: event.to_string(),
        attempts: 0,
    };
    service
        .store
        .outbox_push(
            &id,
            &serde_json::to_string(&item).expect("items serialize"),
            chrono::Utc::now().timestamp_millis(),
        )
        .await
}

pub async fn contact_finished(
    service: &AppState,
    config: &CampaignConfig,
    idx: u32,
    call_id: Option<&str>,
    disposition: &str,
    attempts: u32,
) -> Result<(), StoreError> {
    let Some(url) = &config.webhook_url else {
        return Ok(());
    };
    let event = json!({
        "type": "call.finished",
        "campaign_id": config.campaign_id,
        "contact_index": idx,
        "call_id": call_id,
        "disposition": disposition,
        "attempts": attempts,
        "at": service.clock.now(),
    });
    enqueue(service, url, event).await
}

pub async fn campaign_completed(
    service: &AppState,
    config: &CampaignConfig,
) -> Result<(), StoreError> {
    let Some(url) = &config.webhook_url else {
        return Ok(());
    };
    let counts = super::status::counts(service, &config.campaign_id).await?;
    let event = json!({
        "type": "campaign.completed",
        "campaign_id": config.campaign_id,
        "counts": counts,
        "at": service.clock.now(),
    });
    enqueue(service, url, event).await
}

/// Delivers due events until `stop` fires. Runs beside the dispatcher.
pub async fn deliver_loop(
    service: std::sync::Arc<AppState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Some(secret) = service.settings.campaign_webhook_secret.clone() else {
        return;
    };
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        match service.store.outbox_claim(now, 30_000, 20).await {
            Ok(items) if !items.is_empty() => {
                for (id, json) in items {
                    deliver_one(&service, secret.expose(), &id, &json).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox unavailable"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn deliver_one(service: &AppState, secret: &str, id: &str, json: &str) {
    let Ok(mut item) = serde_json::from_str::<Item>(json) else {
        let _ = service.store.outbox_done(id).await;
        return;
    };
    let ts = chrono::Utc::now().timestamp();
    // Checked again at every delivery: the name may resolve elsewhere by now.
    // A refused destination counts as a failed delivery: retried, then dropped.
    let standard = standard_signer(secret)
        .sign(id, ts, item.body.as_bytes())
        .expect("bodies are JSON text");
    let ok = match checked_client(&item.url, service.settings.allow_private_webhooks).await {
        Ok(http) => {
            let sent = http
                .post(&item.url)
                .header("Content-Type", "application/json")
                .header("X-Callflow-Signature", signature(secret, ts, &item.body))
                .header("X-Callflow-Event-Id", id)
                .header(standardwebhooks::HEADER_WEBHOOK_ID, id)
                .header(standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, ts.to_string())
                .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, standard)
                .body(item.body.clone())
                .send()
                .await;
            matches!(&sent, Ok(r) if r.status().is_success())
        }
        Err(reason) => {
            tracing::warn!(event = id, %reason, "webhook destination refused");
            false
        }
    };
    let result = if ok {
        service.store.outbox_done(id).await
    } else if let Some(wait) = BACKOFF_SECS.get(item.attempts as usize) {
        item.attempts += 1;
        let due = chrono::Utc::now().timestamp_millis() + wait * 1000;
        tracing::warn!(
            event = id,
            attempts = item.attempts,
            "webhook delivery failed; will retry"
        );
        service
            .store
            .outbox_retry(
                id,
                &serde_json::to_string(&item).expect("items serialize"),
                due,
            )
            .await
    } else {
        tracing::error!(
            event = id,
            "webhook delivery failed for good; dropping the event"
        );
        service.store.outbox_done(id).await
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "outbox update failed");
    }
}

/// A client bound to the webhook host's addresses, all of them checked public.
async fn checked_client(url: &str, allow_private: bool) -> Result<reqwest::Client, String> {
    let url = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let addrs = crate::egress::resolve(&url, allow_private)
        .await
        .map_err(|e| e.to_string())?;
    crate::egress::pinned_client(&url, &addrs, Duration::from_secs(10)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_stable() {
        let s = super::signature("secret", 1_700_000_000, "{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(s, super::signature("other", 1_700_000_000, "{}"));
    }

    #[test]
    fn a_whsec_secret_is_the_key_it_encodes() {
        let raw = super::standard_signer("hook-secret").sign("e1", 1_700_000_000, b"{}");
        // base64("hook-secret")
        let encoded =
            super::standard_signer("whsec_aG9vay1zZWNyZXQ=").sign("e1", 1_700_000_000, b"{}");
        assert_eq!(raw.unwrap(), encoded.unwrap());
    }
}
