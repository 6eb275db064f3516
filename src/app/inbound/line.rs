//! A tenant's phone line as inbound calls see it: who is rung and how, when
//! the business is open, and what callers hear or get when nobody answers.
//! Built from the tenant's record by the registry (the core knows no tenants).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::inbound::{legs, OpenHours, RingStrategy, Ringee, Route};
use crate::phone::E164;

#[derive(Debug, Clone)]
pub struct InboundLine {
    /// Who is rung in business hours, in the order given.
    pub people: Vec<Ringee>,
    pub ring_strategy: RingStrategy,
    /// Who is rung outside business hours (none: voicemail).
    pub after_hours: Option<E164>,
    pub hours: OpenHours,
    pub timezone: Tz,
    /// Said before the beep instead of the flow's words.
    pub voicemail_greeting: Option<String>,
    /// Texted to a caller whose call was missed (sent by whoever listens).
    pub missed_call_sms: Option<String>,
}

impl Default for InboundLine {
    /// Nobody to ring, never open: every call goes to voicemail.
    fn default() -> Self {
        Self {
            people: Vec::new(),
            ring_strategy: RingStrategy::default(),
            after_hours: None,
            hours: OpenHours::default(),
            timezone: chrono_tz::America::New_York,
            voicemail_greeting: None,
            missed_call_sms: None,
        }
    }
}

/// Where a new call goes and who each forward leg rings, decided once when it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    pub route: Route,
    pub legs: Vec<Vec<Ringee>>,
}

impl InboundLine {
    /// Whether calls that come in now need a place in the round-robin rotation.
    pub fn needs_turn(&self, at: DateTime<Utc>) -> bool {
        self.ring_strategy == RingStrategy::RoundRobin
            && self.people.len() > 1
            && self.hours.is_open(self.timezone, at)
    }

    /// In hours with someone to ring: ring them (`turn`: the call's place in
    /// the rotation). Out of hours: the after-hours number when set, else a
    /// message.
    pub fn routing(&self, at: DateTime<Utc>, turn: u64) -> Routing {
        let open = self.hours.is_open(self.timezone, at);
        match (open, &self.after_hours) {
            (true, _) if !self.people.is_empty() => Routing {
                route: Route::Forward,
                legs: legs(self.ring_strategy, &self.people, turn),
            },
            (false, Some(number)) => Routing {
                route: Route::AfterHoursForward,
                legs: vec![vec![Ringee::number(number.as_str())]],
            },
            _ => Routing {
                route: Route::Voicemail,
                legs: Vec::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> InboundLine {
        let mut hours = OpenHours::default();
        let t = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        hours.add(2, t(9), t(17));
        InboundLine {
            people: vec![
                Ringee::number("+15550000101"),
                Ringee::number("+15550000102"),
            ],
            ring_strategy: RingStrategy::RoundRobin,
            hours,
            timezone: chrono_tz::America::Los_Angeles,
            ..InboundLine::default()
        }
    }

    #[test]
    fn in_hours_rings_the_people_in_turn_and_out_of_hours_takes_a_message() {
        let open: DateTime<Utc> = "2026-01-14T22:30:00Z".parse().unwrap();
        let closed: DateTime<Utc> = "2026-01-15T03:30:00Z".parse().unwrap();
        let line = line();
        assert!(line.needs_turn(open) && !line.needs_turn(closed));
        let r = line.routing(open, 1);
        assert_eq!(r.route, Route::Forward);
        assert_eq!(r.legs[0][0].number, "+15550000102");
        assert_eq!(line.routing(closed, 0).route, Route::Voicemail);
        let after = InboundLine {
            after_hours: Some(E164::parse("+15550000199").unwrap()),
            ..line
        };
        let r = after.routing(closed, 0);
        assert_eq!(r.route, Route::AfterHoursForward);
        assert_eq!(r.legs, vec![vec![Ringee::number("+15550000199")]]);
    }
}
