//! Phone-number prefix -> time zones, from libphonenumber's `timezones/map_data.txt`
//! (Apache-2.0, vendored in `data/`). The longest matching prefix wins; a prefix
//! may name several zones (a country code alone names every zone of its
//! country), and newer area codes may be missing.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono_tz::Tz;

static MAP: LazyLock<PrefixZones> = LazyLock::new(|| {
    PrefixZones::parse(include_str!(
        "../../data/libphonenumber-timezones-map_data.txt"
    ))
});

/// The parsed prefix table.
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

/// The longest prefix of `number` (E.164, with or without '+') in the table and
/// every zone listed for it; `None` when no prefix matches at all. A `+1` number
/// whose area code the table does not know matches `1` alone, which lists every
/// North American zone from Guam to Adak.
pub fn prefix_zones(number: &str) -> Option<(&str, &'static [Tz])> {
    let digits = number.trim_start_matches('+');
    MAP.lookup(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Pacific};

    #[test]
    fn unknown_area_codes_match_the_whole_country_code() {
        let (prefix, zones) = prefix_zones("+15551234567").unwrap();
        assert_eq!(prefix, "1");
        assert!(zones.contains(&Pacific::Guam) && zones.contains(&Pacific::Honolulu));
        assert!(zones.contains(&America::New_York));
        let (prefix, zones) = prefix_zones("+12125550100").unwrap();
        assert_eq!((prefix.len() > 1, zones), (true, &[America::New_York][..]));
        assert_eq!(prefix_zones("+99912345678"), None);
        assert_eq!(prefix_zones(""), None);
    }
}
