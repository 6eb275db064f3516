//! The one gate every dial passes, campaign contact or single call: the
//! do-not-call list; the strictest of the campaign's window, federal hours
//! (08:00-21:00) and the callee's state rule (hours, days, holidays), in every
//! zone the callee may be in; and the per-number cap on dials in any rolling
//! 24 hours (`MAX_DIALS_PER_NUMBER_24H`, or a stricter state cap), counted in
//! Redis across campaigns, single calls and instances; and one call in
//! progress per number: a number another call holds waits (the claim is taken
//! with the dial, released when that call is over, and lapses after
//! `CALL_IN_PROGRESS_LEASE_SECS` if its end is never heard of).
//!
//! [`decide`] is the pure decision; [`check`] gathers the facts (do-not-call
//! entry, dials in the window) and decides without recording anything;
//! [`check_and_record`] does the same and, when the dial is allowed, counts it
//! against the cap in the same Redis script, so two dialers never both take the
//! last dial. Call it right before asking Twilio to dial, and hand its
//! [`DialReceipt`] to [`forget`] if Twilio never received the dial (429).
//!
//! Imports `compliance` and `store`; never `campaign` (a campaign hands its
//! window over as a [`CampaignWindow`]).

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::{AppState, ServiceError};
use crate::compliance::{self, CampaignWindow, Decision, HoldReason, Rules, UsState};
use crate::store::{CapCheck, CapWindow, StoreError};

/// The rolling window of the per-number cap.
pub const CAP_WINDOW: TimeDelta = TimeDelta::hours(24);

/// How soon (service time) a dial held by another call in progress to the
/// same number is looked at again, at most: the other call's end is not
/// announced, so the waiting dial polls.
pub const BUSY_RECHECK: TimeDelta = TimeDelta::seconds(5);

/// One number about to be dialed, and what is known of its callee.
#[derive(Debug, Clone, Copy)]
pub struct DialTarget<'a> {
    /// The number, E.164.
    pub to: &'a str,
    /// The callee's zone when given explicitly: it always wins.
    pub timezone: Option<Tz>,
    /// The callee's state when given explicitly: it overrides the area code's.
    pub state: Option<UsState>,
    /// The campaign's own window, if the dial belongs to a campaign that set one.
    pub window: Option<&'a CampaignWindow>,
}

/// Where the callee is taken to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callee {
    /// Every zone the callee may be in; a dial must be allowed in each.
    pub zones: Vec<Tz>,
    /// The US state whose rule applies, if any.
    pub state: Option<UsState>,
}

/// Where the callee is: the explicit zone, else every zone listed for the
/// number's longest matching prefix (a bare multi-zone country code, such as
/// `+1` with an unknown area code, lists them all), else `default_zone` for a
/// number that matches no prefix at all. The state: the explicit one, else the
/// area code's (`data/us_area_codes.txt`).
pub fn callee(target: &DialTarget, default_zone: Tz) -> Callee {
    let zones = match target.timezone {
        Some(tz) => vec![tz],
        None => match compliance::prefix_zones(target.to) {
            Some((_, zones)) => zones.to_vec(),
            None => vec![default_zone],
        },
    };
    let state = target
        .state
        .or_else(|| compliance::state_for_number(target.to));
    Callee { zones, state }
}

/// Why a dial must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Federal hours or the campaign's window (a state rule may also apply).
    OutsideWindow,
    /// Only the callee's state rule stands in the way.
    StateRule(UsState),
    /// The number had its allowed dials within the last 24 hours.
    FrequencyCap,
    /// Another call to the number is in progress.
    CallInProgress,
}

impl Hold {
    /// The `waiting_reason` name, e.g. `state_rule`.
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::OutsideWindow => "outside_window",
            Hold::StateRule(_) => "state_rule",
            Hold::FrequencyCap => "frequency_cap",
            Hold::CallInProgress => "call_in_progress",
        }
    }

    /// Why, in words, for an error message.
    pub fn describe(self) -> String {
        match self {
            Hold::OutsideWindow => {
                "outside the legal calling hours in the callee's time zone".into()
            }
            Hold::StateRule(s) => format!("outside the calling times {} law allows", s.code()),
            Hold::FrequencyCap => "this number had its allowed dials in the last 24 hours".into(),
            Hold::CallInProgress => "another call to this number is in progress".into(),
        }
    }

    /// The state whose rule holds the dial, for `state_rule`.
    pub fn state(self) -> Option<UsState> {
        match self {
            Hold::StateRule(s) => Some(s),
            _ => None,
        }
    }
}

/// The gate's answer for one dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateDecision {
    /// Dial now.
    Allowed,
    /// Do not dial before `next_allowed_at`; decide again then.
    Held {
        reason: Hold,
        next_allowed_at: DateTime<Utc>,
    },
    /// The number is on the do-not-call list: never dial it.
    DoNotCall,
}

/// The number's recent dials against its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapUse {
    /// Under the cap.
    Under,
    /// At the cap until the oldest dial leaves the window.
    Reached { until: DateTime<Utc> },
    /// Another call holds the number; look again at `until`.
    Busy { until: DateTime<Utc> },
}

/// The pure decision: do-not-call first, then the calling times (campaign
/// window, federal hours, state rule, in every zone of `callee`), then the cap.
pub fn decide(
    at: DateTime<Utc>,
    callee: &Callee,
    window: Option<&CampaignWindow>,
    on_dnc: bool,
    cap: CapUse,
    rules: &Rules,
) -> GateDecision {
    if on_dnc {
        return GateDecision::DoNotCall;
    }
    match compliance::decide_all_zones(at, &callee.zones, callee.state, window, rules) {
        Decision::Held {
            reason,
            next_allowed_at,
        } => GateDecision::Held {
            reason: match reason {
                HoldReason::OutsideWindow => Hold::OutsideWindow,
                HoldReason::StateRule { state } => Hold::StateRule(state),
            },
            next_allowed_at,
        },
        Decision::Allowed => match cap {
            CapUse::Under => GateDecision::Allowed,
            CapUse::Reached { until } => GateDecision::Held {
                reason: Hold::FrequencyCap,
                next_allowed_at: until.max(at + TimeDelta::seconds(1)),
            },
            CapUse::Busy { until } => GateDecision::Held {
                reason: Hold::CallInProgress,
                next_allowed_at: until.max(at + TimeDelta::seconds(1)),
            },
        },
    }
}

/// The dials allowed to a callee in 24 hours: the configured cap, or the
/// callee's state cap when that is stricter.
pub fn dial_cap(configured: u32, state: Option<UsState>, rules: &Rules) -> u32 {
    let state_cap = state
        .and_then(|s| rules.state(s))
        .and_then(|r| r.max_calls_per_24h);
    state_cap.map_or(configured, |c| c.min(configured)).max(1)
}

/// A dial counted against its number's cap, and the number claimed for its call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialReceipt {
    to: String,
    member: String,
    call_id: String,
}

impl DialReceipt {
    /// The id the dialed call's record must have (the number is claimed for it).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }
}

/// What [`check_and_record`] answers: the decision and, when the dial was
/// allowed, the receipt of its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub decision: GateDecision,
    pub receipt: Option<DialReceipt>,
}

/// Decides for `target` now, recording nothing. A dial it allows should still
/// go through [`check_and_record`] right before it is placed.
pub async fn check(app: &AppState, target: &DialTarget<'_>) -> Result<GateDecision, ServiceError> {
    gate(app, target, None).await
}

/// Decides for `target` now and, when the dial is allowed, counts it against
/// the number's cap and claims the number for the call `call_id` (the record
/// the dial will have; see [`crate::app::calls::new_call_id`]) in the same
/// atomic step (shared by every instance).
pub async fn check_and_record(
    app: &AppState,
    target: &DialTarget<'_>,
    call_id: &str,
) -> Result<Recorded, ServiceError> {
    let member = format!("{}:{}", app.clock.now_ms(), uuid::Uuid::new_v4().simple());
    let decision = gate(app, target, Some((&member, call_id))).await?;
    let receipt = (decision == GateDecision::Allowed).then(|| DialReceipt {
        to: target.to.to_string(),
        member,
        call_id: call_id.to_string(),
    });
    Ok(Recorded { decision, receipt })
}

/// Takes a counted dial back off its number's count, and frees the number:
/// for a dial Twilio never received (429 Too Many Requests), which is no
/// attempt, or one given up before it was placed.
pub async fn forget(app: &AppState, receipt: &DialReceipt) -> Result<(), ServiceError> {
    Ok(app
        .store
        .dial_cap_forget(&receipt.to, Some(&receipt.member), &receipt.call_id)
        .await?)
}

/// Holds the number for the call `call_id` for the whole of its lease
/// (`CALL_IN_PROGRESS_LEASE_SECS`), right before its dial goes out; the
/// gate's claim only lasts until then. Refused (nothing may be dialed) when
/// that claim lapsed and another call took the number meanwhile.
pub async fn claim_for_dial(app: &AppState, to: &str, call_id: &str) -> Result<(), ServiceError> {
    let lease = app.settings.call_in_progress_lease.as_millis() as i64;
    if app.store.dial_claim(to, call_id, lease).await? {
        return Ok(());
    }
    Err(ServiceError::Held {
        reason: Hold::CallInProgress,
        next_allowed_at: app.clock.now() + BUSY_RECHECK,
    })
}

async fn gate(
    app: &AppState,
    target: &DialTarget<'_>,
    record: Option<(&str, &str)>,
) -> Result<GateDecision, ServiceError> {
    let rules = Rules::shipped().map_err(|e| StoreError::Corrupt(format!("rules/us.toml: {e}")))?;
    let on_dnc = app.store.dnc_get(target.to).await?.is_some();
    if on_dnc {
        crate::observe::dnc_refusal();
    }
    let now = app.clock.now();
    let callee = callee(target, app.settings.timezone_default);
    // The time decision first: a dial held by the clock must not use up the cap.
    let timed = decide(now, &callee, target.window, on_dnc, CapUse::Under, rules);
    if timed != GateDecision::Allowed {
        return Ok(timed);
    }
    let cap = CapWindow {
        now_ms: now.timestamp_millis(),
        window_ms: CAP_WINDOW.num_milliseconds(),
        cap: dial_cap(app.settings.max_dials_per_number_24h, callee.state, rules),
        expire_ms: app
            .clock
            .real_duration(CAP_WINDOW.num_milliseconds())
            .as_millis()
            .max(CAP_WINDOW.num_milliseconds() as u128) as i64,
        // Short until the dial goes out (`claim_for_dial`), so a dial given
        // up by an instance that died frees the number within a contact's lease.
        lease_ms: app.settings.dispatch_lease.as_millis() as i64,
    };
    let used = match app.store.dial_cap(target.to, cap, record).await? {
        CapCheck::Under { .. } => CapUse::Under,
        CapCheck::Reached { until_ms } => CapUse::Reached {
            until: DateTime::from_timestamp_millis(until_ms).unwrap_or(now + CAP_WINDOW),
        },
        // The lease is real time; the service clock may run faster (demo).
        CapCheck::Busy { lease_ms } => CapUse::Busy {
            until: now + TimeDelta::milliseconds(lease_ms.max(0)).min(BUSY_RECHECK),
        },
    };
    Ok(decide(now, &callee, target.window, false, used, rules))
}

#[cfg(test)]
#[path = "dial_gate_tests.rs"]
mod tests;
