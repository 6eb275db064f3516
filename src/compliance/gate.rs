//! One restriction on calling times, evaluated on one clock: allowed hours per weekday
//! plus banned dates. A call is allowed when every gate that applies to it is open.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::state_rules::DayHours;

/// How far past a nonexistent local time (a DST gap) to look for the first real one.
/// Real gaps are at most a few hours.
const GAP_SCAN_MINUTES: i64 = 4 * 60;

/// The clock a gate reads: the callee's IANA zone, or a fixed offset a statute names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Clock {
    Zone(Tz),
    Fixed(FixedOffset),
}

impl Clock {
    fn local(self, at: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Clock::Zone(tz) => at.with_timezone(&tz).naive_local(),
            Clock::Fixed(off) => at.with_timezone(&off).naive_local(),
        }
    }

    /// The first instant whose local time is `local`; inside a DST gap, the first
    /// instant after it. When a local time occurs twice (fall back), the earlier.
    fn first_instant(self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        (0..=GAP_SCAN_MINUTES).find_map(|m| {
            let t = local + TimeDelta::minutes(m);
            match self {
                Clock::Zone(tz) => tz.from_local_datetime(&t).earliest().map(|d| d.to_utc()),
                Clock::Fixed(off) => off.from_local_datetime(&t).earliest().map(|d| d.to_utc()),
            }
        })
    }
}

/// What stands in the way when a gate is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// Federal hours or the campaign's own window.
    Window,
    /// A state's rule.
    State(super::UsState),
}

#[derive(Debug, Clone)]
pub(super) struct Gate<'a> {
    pub clock: Clock,
    /// Allowed hours per weekday, Monday first; `None` = closed all day.
    pub week: [Option<DayHours>; 7],
    pub banned: Option<&'a BTreeSet<NaiveDate>>,
    pub source: Source,
}

impl Gate<'_> {
    fn hours_on(&self, date: NaiveDate) -> Option<DayHours> {
        if self.banned.is_some_and(|b| b.contains(&date)) {
            return None;
        }
        self.week[date.weekday().num_days_from_monday() as usize]
    }

    pub fn allows(&self, at: DateTime<Utc>) -> bool {
        let local = self.clock.local(at);
        self.hours_on(local.date())
            .is_some_and(|h| h.start <= local.time() && local.time() < h.end)
    }

    /// Every instant in `(after, until]` at which this gate opens. The allowed set of a
    /// gate is a union of daily intervals, so the first instant at which all gates
    /// allow is either now or one of these opening instants.
    pub fn openings(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let first = self.clock.local(after).date() - TimeDelta::days(1);
        let last = self.clock.local(until).date();
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter_map(|d| {
                let h = self.hours_on(d)?;
                self.clock.first_instant(d.and_time(h.start))
            })
            .filter(|t| *t > after && *t <= until)
            .collect()
    }
}
