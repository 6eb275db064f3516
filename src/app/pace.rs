//! The pace every dial keeps besides its campaign's: the tenant's `max_cps`
//! share (when it has one) and the Twilio account's `TWILIO_MAX_CPS`, which
//! every tenant's calls share because they go out through one account. Both
//! are reserved in Redis, so every instance keeps them (see
//! `store/campaign/pace.rs`).
//!
//! A dial takes its tenant's slot first and then the account's, from the
//! tenant's slot on. When the account has no slot soon enough the tenant's
//! slot is left unused: that only lowers the tenant's rate, never raises it.

use super::{AppState, ServiceError};
use crate::store::{PaceScope, SendLog};

/// The limits a dial of `app`'s tenant keeps, in the order they are taken:
/// (scope, calls a second).
pub fn limits(app: &AppState) -> Vec<(PaceScope, f64)> {
    let mut limits = Vec::with_capacity(2);
    if let Some(cps) = app.tenant_max_cps {
        limits.push((PaceScope::Tenant, cps));
    }
    limits.push((PaceScope::Account, app.settings.twilio_max_cps));
    limits
}

/// The logs of dials sent that the last check before a dial is made against
/// (besides its campaign's), with their rates.
pub fn send_logs(app: &AppState) -> Vec<(SendLog<'static>, f64)> {
    limits(app)
        .into_iter()
        .map(|(scope, rate)| match scope {
            PaceScope::Tenant => (SendLog::Tenant, rate),
            PaceScope::Account => (SendLog::Account, rate),
        })
        .collect()
}

/// The slowest of the limits as ms between dials.
pub fn interval_ms(app: &AppState) -> f64 {
    limits(app)
        .iter()
        .map(|(_, rate)| 1000.0 / rate)
        .fold(0.0, f64::max)
}

/// Reserves the tenant's and the account's slots for a dial at or after
/// `at_ms`, each at most `max_wait_ms` after `at_ms`. `Some(dial_at)`: the
/// service-clock epoch ms the dial may leave; `None`: no slot that soon.
pub async fn reserve(
    app: &AppState,
    at_ms: i64,
    max_wait_ms: i64,
) -> Result<Option<i64>, ServiceError> {
    let mut dial_at = at_ms;
    for (scope, rate) in limits(app) {
        let budget = max_wait_ms - (dial_at - at_ms);
        if budget < 0 {
            return Ok(None);
        }
        match app
            .store
            .reserve_slot(scope, dial_at, 1000.0 / rate, budget)
            .await?
        {
            Some(wait) => dial_at += wait,
            None => return Ok(None),
        }
    }
    Ok(Some(dial_at))
}
