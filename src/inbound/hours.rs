//! When the business answers: opening spans per weekday in its zone.

use chrono::{DateTime, Datelike, NaiveTime, Utc};
use chrono_tz::Tz;

/// Opening spans per weekday (Monday first), each `[start, end)` in local time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenHours {
    days: [Vec<(NaiveTime, NaiveTime)>; 7],
}

impl OpenHours {
    /// Adds a span to weekday `day` (0: Monday ... 6: Sunday); out of range: ignored.
    pub fn add(&mut self, day: usize, start: NaiveTime, end: NaiveTime) {
        if let Some(spans) = self.days.get_mut(day) {
            spans.push((start, end));
        }
    }

    /// Whether `at` falls in an opening span, read in `zone`.
    pub fn is_open(&self, zone: Tz, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&zone);
        let day = local.weekday().num_days_from_monday() as usize;
        let time = local.time();
        self.days[day]
            .iter()
            .any(|(start, end)| *start <= time && time < *end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn open_in_the_zone_of_the_business() {
        let mut hours = OpenHours::default();
        // Wednesday 09:00-17:00.
        hours.add(2, t(9, 0), t(17, 0));
        // 2026-01-14 is a Wednesday; 22:30Z is 14:30 in Los Angeles, 17:30 in New York.
        let at: DateTime<Utc> = "2026-01-14T22:30:00Z".parse().unwrap();
        assert!(hours.is_open(chrono_tz::America::Los_Angeles, at));
        assert!(!hours.is_open(chrono_tz::America::New_York, at));
        assert!(!OpenHours::default().is_open(chrono_tz::America::Los_Angeles, at));
    }
}
