//! Whether a missed caller gets the tenant's missed-call text now: once per
//! caller per `MISSED_CALL_SMS_COOLDOWN`, never to a number on the tenant's
//! do-not-call list. Deciding is the core's; sending is the text outbox's.

use tracing::warn;

use crate::app::AppState;
use crate::phone::E164;

/// `true` when the tenant has a missed-call text, `caller` is not on its
/// do-not-call list and was not texted within the cooldown (the cooldown
/// starts now: ask only when about to send). Fails closed: `false` when the
/// store cannot say.
pub async fn missed_call_text_due(app: &AppState, caller: &E164) -> bool {
    if app.inbound.missed_call_sms.is_none() {
        return false;
    }
    match app.store.dnc_get(caller.as_str()).await {
        Ok(None) => {}
        Ok(Some(_)) => return false,
        Err(e) => {
            warn!(caller = %caller.masked(), error = %e, "missed-call text not sent: do-not-call list unavailable");
            return false;
        }
    }
    let cooldown = app.settings.missed_call_sms_cooldown;
    let ms = i64::try_from(cooldown.as_millis()).unwrap_or(i64::MAX);
    let ttl = app.clock.real_duration(ms);
    match app.store.claim_missed_call_text(caller.as_str(), ttl).await {
        Ok(claimed) => claimed,
        Err(e) => {
            warn!(caller = %caller.masked(), error = %e, "missed-call text not sent: cooldown unavailable");
            false
        }
    }
}
