//! Signed JSON deliveries to a receiver's URL (campaign events, the tenant's
//! events).
//!
//! Every delivery carries the Standard Webhooks headers `webhook-id` (the
//! event id, the same on every retry), `webhook-timestamp` and
//! `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`),
//! which receivers verify with the ready-made libraries, keyed by the tenant's
//! events secret (`whsec_...`), or by `CAMPAIGN_WEBHOOK_SECRET` for a tenant
//! without one (the configured tenant). The key is the secret's bytes, or,
//! for a `whsec_<base64>` secret, the bytes it encodes (the scheme's format).
//! Campaign events also carry callflow's own `X-Callflow-Signature:
//! t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with
//! CAMPAIGN_WEBHOOK_SECRET>` (kept for existing receivers).
//!
//! The receiver's address is checked at every delivery (`egress`): the name
//! may resolve elsewhere by now. A refused destination counts as a failed
//! delivery: retried, then dropped.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Outcome;
use crate::app::AppState;

/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);

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

pub(super) async fn deliver(
    app: &AppState,
    id: &str,
    url: &str,
    body: &str,
    callflow_signature: bool,
) -> Outcome {
    let campaign_secret = app
        .settings
        .campaign_webhook_secret
        .as_ref()
        .map(|s| s.expose().to_string());
    let key = match app.store.events_secret().await {
        Ok(Some(secret)) => secret,
        Ok(None) => match &campaign_secret {
            Some(secret) => secret.clone(),
            None => {
                tracing::error!(
                    event = id,
                    "no secret to sign this tenant's events with (events secret or CAMPAIGN_WEBHOOK_SECRET); dropped"
                );
                return Outcome::Done;
            }
        },
        Err(e) => {
            tracing::warn!(event = id, error = %e, "events secret unavailable");
            return Outcome::Retry { at_least: None };
        }
    };
    let ts = chrono::Utc::now().timestamp();
    let standard = standard_signer(&key)
        .sign(id, ts, body.as_bytes())
        .expect("bodies are JSON text");
    let http = match checked_client(url, app.settings.allow_private_webhooks).await {
        Ok(http) => http,
        Err(reason) => {
            tracing::warn!(event = id, %reason, "webhook destination refused");
            return Outcome::Retry { at_least: None };
        }
    };
    let mut request = http
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Callflow-Event-Id", id)
        .header(standardwebhooks::HEADER_WEBHOOK_ID, id)
        .header(standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, ts.to_string())
        .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, standard);
    if let (true, Some(secret)) = (callflow_signature, &campaign_secret) {
        request = request.header("X-Callflow-Signature", signature(secret, ts, body));
    }
    match request.body(body.to_string()).send().await {
        Ok(r) if r.status().is_success() => Outcome::Done,
        _ => Outcome::Retry { at_least: None },
    }
}

/// A client bound to the webhook host's addresses, all of them checked public.
async fn checked_client(url: &str, allow_private: bool) -> Result<reqwest::Client, String> {
    let url = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let addrs = crate::egress::resolve(&url, allow_private)
        .await
        .map_err(|e| e.to_string())?;
    crate::egress::pinned_client(&url, &addrs, TIMEOUT).map_err(|e| e.to_string())
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
