//! Calling windows in the callee's local time. Whatever a campaign asks, no call
//! is placed before 08:00 or from 21:00 local time (TCPA). A contact that may be
//! in several zones is called only when every one of them allows it.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

pub const HARD_START: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(t) => t,
    None => panic!(),
};
pub const HARD_END: NaiveTime = match NaiveTime::from_hms_opt(21, 0, 0) {
    Some(t) => t,
    None => panic!(),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Inclusive local start, already clamped to 08:00.
    pub start: NaiveTime,
    /// Exclusive local end, already clamped to 21:00.
    pub end: NaiveTime,
    /// Allowed weekdays, Monday first.
    pub days: [bool; 7],
}

pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Window {
    /// The legal window only: every day, 08:00-21:00.
    pub fn legal() -> Self {
        Self {
            start: HARD_START,
            end: HARD_END,
            days: [true; 7],
        }
    }

    /// Builds a window from `HH:MM` times and day names, clamped to the legal hours.
    /// Errors name the field.
    pub fn parse(
        start: &str,
        end: &str,
        days: Option<&[String]>,
    ) -> Result<Self, (String, String)> {
        let time = |field: &str, v: &str| {
            NaiveTime::parse_from_str(v.trim(), "%H:%M").map_err(|_| {
                (
                    format!("window.{field}"),
                    format!("'{v}' is not a time as HH:MM"),
                )
            })
        };
        let start = time("start", start)?.max(HARD_START);
        let end = time("end", end)?.min(HARD_END);
        if start >= end {
            return Err((
                "window".into(),
                "leaves no time to call once clamped to 08:00-21:00 local time".into(),
            ));
        }
        let mut allowed = [days.is_none(); 7];
        for day in days.unwrap_or_default() {
            let i = DAY_NAMES
                .iter()
                .position(|d| d.eq_ignore_ascii_case(day.trim()))
                .ok_or_else(|| {
                    (
                        "window.days".to_string(),
                        format!("'{day}' is not one of {}", DAY_NAMES.join(", ")),
                    )
                })?;
            allowed[i] = true;
        }
        if !allowed.contains(&true) {
            return Err(("window.days".into(), "must name at least one day".into()));
        }
        Ok(Self {
            start,
            end,
            days: allowed,
        })
    }

    fn allows_in(&self, zone: Tz, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&zone);
        let day = local.weekday().num_days_from_monday() as usize;
        let t = local.time();
        self.days[day] && t >= self.start && t < self.end
    }

    /// Whether a call may start now: in every zone the contact may be in.
    pub fn allows(&self, zones: &[Tz], now: DateTime<Utc>) -> bool {
        !zones.is_empty() && zones.iter().all(|z| self.allows_in(*z, now))
    }

    /// The first instant at or after `now` when a call may start, within 8 days.
    /// The intersection of daily windows always opens at some zone's window start,
    /// so only those instants need checking.
    pub fn next_allowed(&self, zones: &[Tz], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.allows(zones, now) {
            return Some(now);
        }
        let mut candidates: Vec<DateTime<Utc>> = Vec::new();
        for zone in zones {
            let today = now.with_timezone(zone).date_naive();
            for offset in 0..=8 {
                let date = today + Duration::days(offset);
                if let Some(t) = zone
                    .from_local_datetime(&date.and_time(self.start))
                    .earliest()
                {
                    let t = t.with_timezone(&Utc);
                    if t > now {
                        candidates.push(t);
                    }
                }
            }
        }
        candidates.sort();
        candidates.into_iter().find(|t| self.allows(zones, *t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn hard_cap_applies_whatever_the_campaign_says() {
        let w = Window::parse("06:00", "23:00", None).unwrap();
        assert_eq!((w.start, w.end), (HARD_START, HARD_END));
        let ny = [America::New_York];
        // 07:59 and 21:00 in New York (EST, UTC-5) are refused; 08:00 and 20:59 allowed.
        assert!(!w.allows(&ny, utc("2026-01-14T12:59:00Z")));
        assert!(w.allows(&ny, utc("2026-01-14T13:00:00Z")));
        assert!(w.allows(&ny, utc("2026-01-15T01:59:00Z")));
        assert!(!w.allows(&ny, utc("2026-01-15T02:00:00Z")));
        assert!(Window::parse("21:00", "23:00", None).is_err());
    }

    #[test]
    fn dst_changes_move_the_window_in_utc() {
        let w = Window::parse("09:00", "20:00", None).unwrap();
        let ny = [America::New_York];
        // US DST starts 2026-03-08: 09:00 EDT is 13:00 UTC (before: 14:00 UTC).
        assert!(!w.allows(&ny, utc("2026-03-07T13:30:00Z")));
        assert!(w.allows(&ny, utc("2026-03-07T14:00:00Z")));
        assert!(w.allows(&ny, utc("2026-03-09T13:00:00Z")));
        // DST ends 2026-11-01: 09:00 EST is 14:00 UTC again.
        assert!(w.allows(&ny, utc("2026-10-31T13:00:00Z")));
        assert!(!w.allows(&ny, utc("2026-11-02T13:30:00Z")));
        assert!(w.allows(&ny, utc("2026-11-02T14:00:00Z")));
        // The next opening across the spring change is 09:00 EDT.
        assert_eq!(
            w.next_allowed(&ny, utc("2026-03-08T02:00:00Z")),
            Some(utc("2026-03-08T13:00:00Z"))
        );
    }

    #[test]
    fn several_zones_use_the_most_restrictive_reading() {
        let w = Window::parse("09:00", "20:00", None).unwrap();
        let both = [America::Denver, America::Los_Angeles];
        // 09:30 in Denver is 08:30 in Los Angeles: not yet.
        let t = utc("2026-01-14T16:30:00Z");
        assert!(w.allows(&[America::Denver], t));
        assert!(!w.allows(&both, t));
        assert_eq!(w.next_allowed(&both, t), Some(utc("2026-01-14T17:00:00Z")));
        // 19:30 in Denver and 18:30 in LA: fine; 20:30 Denver: no.
        assert!(w.allows(&both, utc("2026-01-15T02:30:00Z")));
        assert!(!w.allows(&both, utc("2026-01-15T03:30:00Z")));
    }

    #[test]
    fn days_are_respected_and_unknown_zones_never_allow() {
        let days = vec!["mon".to_string(), "tue".to_string()];
        let w = Window::parse("09:00", "17:00", Some(&days)).unwrap();
        let chi = [America::Chicago];
        // 2026-01-14 is a Wednesday: next is Monday 2026-01-19 09:00 CST (15:00 UTC).
        let wed = utc("2026-01-14T16:00:00Z");
        assert!(!w.allows(&chi, wed));
        assert_eq!(w.next_allowed(&chi, wed), Some(utc("2026-01-19T15:00:00Z")));
        assert!(!w.allows(&[], wed));
        assert_eq!(w.next_allowed(&[], wed), None);
        assert!(Window::parse("09:00", "17:00", Some(&["funday".to_string()])).is_err());
        assert!(Window::parse("9am", "17:00", None).is_err());
    }
}
