//! Phone-number prefix -> time zones, from libphonenumber's `timezones/map_data.txt`
//! (Apache-2.0, vendored in `data/`). The longest matching prefix wins; a prefix
//! may name several zones, and newer area codes may be missing.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono_tz::Tz;

static MAP: LazyLock<PrefixZones> = LazyLock::new(|| {
    PrefixZones::parse(include_str!(
        "../../data/libphonenumber-timezones-map_data.txt"
    ))
});

pub struct PrefixZones {
    by_prefix: HashMap<String, Vec<Tz>>,
    longest: usize,
}

impl PrefixZones {
    fn parse(text: &str) -> Self {
        let mut by_prefix = HashMap::new();
        let mut longest = 0;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((prefix, zones)) = line.split_once('|') else {
                continue;
            };
            // Zones chrono-tz does not know are skipped rather than guessed.
            let zones: Vec<Tz> = zones.split('&').filter_map(|z| z.parse().ok()).collect();
            if !zones.is_empty() {
                longest = longest.max(prefix.len());
                by_prefix.insert(prefix.to_string(), zones);
            }
        }
        Self { by_prefix, longest }
    }

    /// The longest matching prefix and its zones.
    fn lookup<'a>(&self, digits: &'a str) -> Option<(&'a str, &[Tz])> {
        (1..=digits.len().min(self.longest)).rev().find_map(|n| {
            self.by_prefix
                .get(&digits[..n])
                .map(|z| (&digits[..n], z.as_slice()))
        })
    }
}

/// The zones a number may be in (E.164 with or without '+'); empty when unknown.
///
/// A match on a country code alone that lists several zones (`1` names every
/// zone from Guam to Adak) says nothing about where the number is: the area
/// code is unknown, so it counts as unknown rather than as "all of them".
pub fn zones_for_number(number: &str) -> Vec<Tz> {
    let digits = number.trim_start_matches('+');
    match MAP.lookup(digits) {
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
