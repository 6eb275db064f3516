//! Dial pacing as a ceiling: the campaign's `calls_per_second` and the
//! account's `TWILIO_MAX_CPS`, both reserved in Redis so every instance shares
//! them (see `scripts/admit.lua` for a campaign, `scripts/pace.lua` for the
//! account).
//!
//! Slots are spaced [`spacing_ms`] apart: the plain interval `1000 / rate`
//! stretched by [`PACE_MARGIN`]. Why the margin: a slot is reserved in Redis,
//! but the limit is judged where Twilio receives the create-call requests, and
//! the time from the one to the other varies from dial to dial (timer
//! granularity, a few Redis round trips, the HTTP request). With slots exactly
//! `1/rate` apart, `rate + 1` dials span exactly one second, so a first dial a
//! little late and a last one a little early put `rate + 1` requests in one
//! second at the receiver. Stretched by 1.5 %, any `k + 1` consecutive dials
//! (k = the whole part of the rate, at least 1) span 1.5 % more than the
//! window they must not crowd (one second for a whole rate, `1/rate` seconds
//! below one call a second), so up to 15 ms of jitter per second of window
//! keeps the ceiling, while the mean stays within 1.5 % of the rate.
//!
//! Slots are never placed in the past: a dial whose tick came late takes the
//! first free slot from now on, so missed slots are not made up for and late
//! ticks can only lower the rate.
//!
//! A slot says when a dial should leave, not when it did: one that leaves late
//! (a busy machine, a slow round trip) would crowd the next, whatever the
//! margin. So the last step before a request goes out is
//! [`Store::confirm_send`], against a log of the dials really sent in the last
//! window (`scripts/sent.lua`, per campaign and for the account): at most
//! `floor(rate)` (at least one) in any window of `floor(rate)/rate` seconds
//! widened by half the margin, the other half left for the request's way to
//! Twilio. Reserved slots keep dials spaced so this check rarely waits.

use std::sync::LazyLock;

use redis::Script;

use crate::store::{keys, Store, StoreError};

/// How much wider than `1000 / rate` ms two dial slots are kept apart.
pub const PACE_MARGIN: f64 = 0.015;

static PACE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../scripts/pace.lua")));
static SENT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../scripts/sent.lua")));
static PACE_DELAY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/pace_delay.lua")));

/// Whose log of dials sent a check is made against.
#[derive(Debug, Clone, Copy)]
pub enum SendLog<'a> {
    /// A campaign's (its `calls_per_second`).
    Campaign(&'a str),
    /// The tenant's (its `max_cps` share, when it has one).
    Tenant,
    /// The account's (`TWILIO_MAX_CPS`), shared by every instance, tenant and campaign.
    Account,
}

/// Whose dial slots a reservation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaceScope {
    /// The tenant's `max_cps` share.
    Tenant,
    /// The Twilio account's `TWILIO_MAX_CPS`, shared by every tenant.
    Account,
}

/// The ceiling for `rate` dials a second as (most dials, window ms): whole
/// rates allow `rate` dials a second, rates below one a dial every `1/rate`
/// seconds, other rates `floor(rate)` dials in `floor(rate)/rate` seconds.
pub fn ceiling(rate: f64) -> (u32, f64) {
    let most = rate.floor().max(1.0);
    (most as u32, most * 1000.0 / rate)
}

/// Milliseconds between two reserved slots for a limit of `interval_ms`
/// (= 1000 / rate) between dials: the interval and the margin.
pub fn spacing_ms(interval_ms: f64) -> f64 {
    interval_ms * (1.0 + PACE_MARGIN)
}

impl Store {
    /// Reserves a dial slot of `scope`, at or after `at_ms`, at most
    /// `max_wait_ms` after it, for a limit of one dial per `interval_ms`
    /// (`1000 / rate`; the margin is added here). Every dial (campaign or
    /// single call) takes the account's slot, and its tenant's first when the
    /// tenant has a `max_cps` share.
    /// `Ok(Some(wait))`: dial `wait` ms after `at_ms`; `Ok(None)`: no slot that soon.
    pub async fn reserve_slot(
        &self,
        scope: PaceScope,
        at_ms: i64,
        interval_ms: f64,
        max_wait_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let wait: i64 = PACE
            .key(match scope {
                PaceScope::Tenant => self.keys().tenant_pace(),
                PaceScope::Account => keys::account_pace(),
            })
            .arg(at_ms)
            .arg(spacing_ms(interval_ms))
            .arg(max_wait_ms)
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok((wait >= 0).then_some(wait))
    }

    /// The last check before a dial's request goes out (`scripts/sent.lua`):
    /// records `member` (the call id) as sent at `now_ms` in `log`, unless
    /// that would exceed the ceiling for `rate` dials a second. `0`: recorded,
    /// send now; else ms to wait before checking again. The window is widened
    /// by half the margin, for the last stretch from here to Twilio.
    pub async fn confirm_send(
        &self,
        log: SendLog<'_>,
        member: &str,
        now_ms: i64,
        rate: f64,
    ) -> Result<i64, StoreError> {
        let key = match log {
            SendLog::Campaign(id) => self.keys().campaign_sent(id),
            SendLog::Tenant => self.keys().tenant_sent(),
            SendLog::Account => keys::account_sent(),
        };
        let (most, window_ms) = ceiling(rate);
        let wait: i64 = SENT
            .key(key)
            .arg(now_ms)
            .arg(member)
            .arg(most)
            .arg(window_ms * (1.0 + PACE_MARGIN / 2.0))
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok(wait)
    }

    /// Forgets the account's pace (its next slot and its log of dials sent).
    /// For a deployment whose service clock was moved (the benchmark runs
    /// servers on different clocks against one Redis): slots taken on
    /// another clock would otherwise hold every dial until they expire.
    pub async fn forget_account_pace(&self) -> Result<(), StoreError> {
        let mut conn = self.worker_conn().await;
        // Two keys in two cluster slots: one command each.
        let _: () = redis::cmd("DEL")
            .arg(keys::account_pace())
            .query_async(&mut conn)
            .await?;
        let _: () = redis::cmd("DEL")
            .arg(keys::account_sent())
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// A campaign dial claimed for `slot_ms` goes out at `dial_ms` instead
    /// (it waited for the account): moves the campaign's next slot with it
    /// (see `scripts/pace_delay.lua`). False when another dial of the campaign
    /// was claimed since (its slot stands; the check before sending keeps the
    /// ceiling).
    pub async fn delay_campaign_slot(
        &self,
        id: &str,
        slot_ms: i64,
        interval_ms: f64,
        dial_ms: i64,
    ) -> Result<bool, StoreError> {
        let moved: i64 = PACE_DELAY
            .key(self.keys().campaign(id))
            .arg(slot_ms)
            .arg(spacing_ms(interval_ms))
            .arg(dial_ms)
            .invoke_async(&mut self.worker_conn().await)
            .await?;
        Ok(moved == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_plus_one_dials_never_fit_in_the_window() {
        for rate in [0.5_f64, 1.0, 3.0, 15.0, 30.0] {
            let whole = rate.floor().max(1.0);
            let window_ms = whole * 1000.0 / rate;
            let span = whole * spacing_ms(1000.0 / rate);
            assert!(span >= window_ms + 15.0 * window_ms / 1000.0 - 1e-9);
            assert!(span <= window_ms * 1.02, "mean within 2 %");
        }
    }
}
