//! Phone-number prefix -> time zones, as a campaign's own window reads them.
//! The table itself (libphonenumber's `timezones/map_data.txt`, vendored in
//! `data/`) lives in `compliance`; the dial gate (`app::dial_gate`) reads a bare
//! multi-zone country code as "every zone it lists" rather than as unknown.

use chrono_tz::Tz;

pub use crate::compliance::PrefixZones;

/// The zones a number may be in (E.164 with or without '+'); empty when unknown.
///
/// A match on a country code alone that lists several zones (`1` names every
/// zone from Guam to Adak) says nothing about where the number is: the area
/// code is unknown, so it counts as unknown rather than as "all of them".
pub fn zones_for_number(number: &str) -> Vec<Tz> {
    match crate::compliance::prefix_zones(number) {
        Some((prefix, zones)) if prefix.len() <= 3 && zones.len() > 1 => Vec::new(),
        Some((_, zones)) => zones.to_vec(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America;

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(zones_for_number("+12125550100"), vec![America::New_York]);
        assert_eq!(zones_for_number("+13125550100"), vec![America::Chicago]);
        assert_eq!(zones_for_number("+12082015555"), vec![America::Denver]);
        let boise = zones_for_number("+12083005555");
        assert!(boise.contains(&America::Boise) && boise.contains(&America::Los_Angeles));
    }

    #[test]
    fn a_bare_multi_zone_country_code_is_unknown() {
        // 555 is no real area code: only "1" (every North American zone) matches.
        assert!(zones_for_number("+15551234567").is_empty());
        // A single-zone country is precise enough.
        assert_eq!(
            zones_for_number("+33612345678"),
            vec![chrono_tz::Europe::Paris]
        );
    }

    #[test]
    fn unknown_prefix_is_empty() {
        assert!(zones_for_number("+99912345678").is_empty());
        assert!(zones_for_number("").is_empty());
    }
}
