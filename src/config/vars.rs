//! Reading one setting: trimmed, empty as unset, and each kind of value
//! (number in a range, boolean, RFC 3339 time) refused with a reason that
//! names the setting.

use super::ConfigError;

/// The settings as a lookup (the environment, or a map in tests).
pub(super) struct Vars<F: Fn(&str) -> Option<String>> {
    pub get: F,
}

pub(super) fn bad(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        reason: reason.into(),
    }
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    pub fn value(&self, name: &'static str) -> Option<String> {
        (self.get)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.value(name)
            .ok_or_else(|| bad(name, "is required (see .env.example)"))
    }

    /// A value parsed by `parse`, or `default` when unset; `refusal` says why not.
    pub fn parsed<T>(
        &self,
        name: &'static str,
        default: T,
        parse: impl Fn(&str) -> Option<T>,
        refusal: impl Fn(&str) -> String,
    ) -> Result<T, ConfigError> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => parse(&v).ok_or_else(|| bad(name, refusal(&v))),
        }
    }

    pub fn boolean(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        self.parsed(
            name,
            default,
            |v| match v {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            |v| format!("'{v}' is not true or false"),
        )
    }

    /// Whole seconds within `range`.
    pub fn secs(
        &self,
        name: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, ConfigError> {
        self.parsed(
            name,
            default,
            |v| v.parse::<u64>().ok().filter(|n| range.contains(n)),
            |v| {
                format!(
                    "'{v}' is not a whole number of seconds in {}..={}",
                    range.start(),
                    range.end()
                )
            },
        )
    }

    pub fn instant(
        &self,
        name: &'static str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, ConfigError> {
        self.parsed(
            name,
            None,
            |v| {
                chrono::DateTime::parse_from_rfc3339(v)
                    .ok()
                    .map(|t| Some(t.with_timezone(&chrono::Utc)))
            },
            |v| format!("'{v}' is not an RFC 3339 time"),
        )
    }
}
