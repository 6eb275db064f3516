//! The decision: may a call be placed at an instant, and if not, the earliest instant
//! it may. The strictest of federal hours, the callee's state rule and the campaign's
//! window applies, all in the callee's local time.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

use super::gate::{Clock, Gate, Source};
use super::state_rules::{DayHours, Rules};
use super::us_state::UsState;

/// How many days ahead `next_allowed_at` is searched. Two weeks covers a long holiday
/// weekend plus a Sunday ban with room to spare.
pub const SEARCH_DAYS: i64 = 15;

/// A campaign's own calling window: local hours on chosen weekdays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignWindow {
    week: [Option<DayHours>; 7],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("the window {start}-{end} is empty (end must be after start)")]
    Empty { start: NaiveTime, end: NaiveTime },
    #[error("the window has no weekday")]
    NoDays,
}

impl CampaignWindow {
    /// Calls between `start` (inclusive) and `end` (exclusive) on `days`. Windows across
    /// midnight are not supported: federal hours forbid calls around midnight anyway.
    pub fn new(start: NaiveTime, end: NaiveTime, days: &[Weekday]) -> Result<Self, WindowError> {
        if end <= start {
            return Err(WindowError::Empty { start, end });
        }
        if days.is_empty() {
            return Err(WindowError::NoDays);
        }
        let mut week = [None; 7];
        for d in days {
            week[d.num_days_from_monday() as usize] = Some(DayHours { start, end });
        }
        Ok(Self { week })
    }
}

/// Whether a call may be placed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Held {
        reason: HoldReason,
        next_allowed_at: DateTime<Utc>,
    },
}

/// Why a call is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    /// Federal hours or the campaign's window (possibly a state rule as well).
    OutsideWindow,
    /// Only the callee's state rule stands in the way.
    StateRule { state: UsState },
}

/// Decides for a callee in `zone`, in `state` if known.
pub fn decide(
    at: DateTime<Utc>,
    zone: Tz,
    state: Option<UsState>,
    campaign: Option<&CampaignWindow>,
    rules: &Rules,
) -> Decision {
    decide_all_zones(at, &[zone], state, campaign, rules)
}

/// Decides for a callee who may be in any of `zones` (a number that only matches a
/// multi-zone country code): allowed only when every zone allows, and
/// `next_allowed_at` is the earliest instant at which all of them do.
///
/// If no such instant exists within [`SEARCH_DAYS`] (or `zones` is empty), the call is
/// held until the end of the search, when it should be decided again.
pub fn decide_all_zones(
    at: DateTime<Utc>,
    zones: &[Tz],
    state: Option<UsState>,
    campaign: Option<&CampaignWindow>,
    rules: &Rules,
) -> Decision {
    let gates = gates(zones, state, campaign, rules);
    let closed: Vec<&Gate> = gates.iter().filter(|g| !g.allows(at)).collect();
    if closed.is_empty() && !gates.is_empty() {
        return Decision::Allowed;
    }
    let state_only = closed.iter().try_fold(None, |found, g| match g.source {
        Source::Window => Err(()),
        Source::State(s) => Ok(found.or(Some(s))),
    });
    let reason = match state_only {
        Ok(Some(state)) => HoldReason::StateRule { state },
        _ => HoldReason::OutsideWindow,
    };
    Decision::Held {
        reason,
        next_allowed_at: next_allowed(at, &gates),
    }
}

fn gates<'a>(
    zones: &[Tz],
    state: Option<UsState>,
    campaign: Option<&CampaignWindow>,
    rules: &'a Rules,
) -> Vec<Gate<'a>> {
    let mut zones = zones.to_vec();
    zones.sort_by_key(|z| z.name());
    zones.dedup();
    let state_rule = state.and_then(|s| Some((s, rules.state(s)?)));
    let mut gates = Vec::new();
    for zone in zones {
        let clock = Clock::Zone(zone);
        gates.push(Gate {
            clock,
            week: rules.federal.week,
            banned: Some(rules.federal.holiday_dates()),
            source: Source::Window,
        });
        if let Some(c) = campaign {
            gates.push(Gate {
                clock,
                week: c.week,
                banned: None,
                source: Source::Window,
            });
        }
        if let Some((s, rule)) = state_rule {
            gates.push(Gate {
                clock,
                week: rule.week,
                banned: Some(rule.holiday_dates()),
                source: Source::State(s),
            });
            // The statute's own clock as well: whichever reading is stricter wins.
            if let Some(off) = rule.hours_clock {
                gates.push(Gate {
                    clock: Clock::Fixed(off),
                    week: rule.week,
                    banned: None,
                    source: Source::State(s),
                });
            }
        }
    }
    gates
}

fn next_allowed(at: DateTime<Utc>, gates: &[Gate]) -> DateTime<Utc> {
    let until = at + TimeDelta::days(SEARCH_DAYS);
    let mut candidates: Vec<DateTime<Utc>> =
        gates.iter().flat_map(|g| g.openings(at, until)).collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .into_iter()
        .find(|t| !gates.is_empty() && gates.iter().all(|g| g.allows(*t)))
        .unwrap_or(until)
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
