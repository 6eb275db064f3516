//! The federal and state calling rules of `rules/us.toml`, parsed once and validated.
//! A broken file is a typed [`RulesError`], never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::{FixedOffset, NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;

use super::us_state::UsState;

static SHIPPED: LazyLock<Result<Rules, RulesError>> =
    LazyLock::new(|| Rules::parse(include_str!("../../rules/us.toml")));

/// Why a rules file was rejected; `context` names the entry and key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("not a valid rules file: {0}")]
    Syntax(String),
    #[error("`{0}` is not the two-letter code of a US state or DC")]
    UnknownState(String),
    #[error("{context}: `{value}` is not a time of day (HH:MM)")]
    BadTime { context: String, value: String },
    #[error("{context}: the window {start}-{end} is empty (end must be after start)")]
    EmptyWindow {
        context: String,
        start: NaiveTime,
        end: NaiveTime,
    },
    #[error("{context}: `{value}` is not a weekday (mon, tue, ... sun)")]
    BadWeekday { context: String, value: String },
    #[error("{context}: `{value}` is not a date (YYYY-MM-DD)")]
    BadDate { context: String, value: String },
    #[error("{context}: `{value}` is not a UTC offset (+HH:MM or -HH:MM)")]
    BadOffset { context: String, value: String },
    #[error("{context}: max_calls_per_24h must be at least 1")]
    ZeroCap { context: String },
}

/// Allowed local hours on one day: `start <= t < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// A holiday on which the rule bans calls all day (local time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub name: String,
    pub dates: Vec<NaiveDate>,
    pub confirmed: bool,
}

/// One entry of the file: the federal baseline or a state's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub citation: String,
    pub note: String,
    pub confirmed: bool,
    pub sources: Vec<String>,
    /// Allowed hours per weekday, Monday first; `None` = no calls that day.
    pub week: [Option<DayHours>; 7],
    /// A fixed clock the statute names, checked in addition to local time.
    pub hours_clock: Option<FixedOffset>,
    pub holidays: Vec<Holiday>,
    pub max_calls_per_24h: Option<u32>,
    holiday_dates: BTreeSet<NaiveDate>,
}

impl Rule {
    pub fn hours_on(&self, day: Weekday) -> Option<DayHours> {
        self.week[day.num_days_from_monday() as usize]
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holiday_dates.contains(&date)
    }

    pub(super) fn holiday_dates(&self) -> &BTreeSet<NaiveDate> {
        &self.holiday_dates
    }
}

/// The whole rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub federal: Rule,
    states: BTreeMap<UsState, Rule>,
}

impl Rules {
    /// The compiled-in `rules/us.toml`, parsed on first use.
    pub fn shipped() -> Result<&'static Rules, RulesError> {
        SHIPPED.as_ref().map_err(Clone::clone)
    }

    pub fn parse(text: &str) -> Result<Rules, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::Syntax(e.to_string()))?;
        let federal = raw.federal.validate("federal")?;
        let mut states = BTreeMap::new();
        for (code, entry) in raw.states {
            let state: UsState = code
                .parse()
                .map_err(|_| RulesError::UnknownState(code.clone()))?;
            states.insert(state, entry.validate(&format!("states.{code}"))?);
        }
        Ok(Rules { federal, states })
    }

    /// The state's rule, if it restricts more than federal law.
    pub fn state(&self, state: UsState) -> Option<&Rule> {
        self.states.get(&state)
    }

    pub fn states(&self) -> impl Iterator<Item = (UsState, &Rule)> {
        self.states.iter().map(|(s, r)| (*s, r))
    }
}

// The file's shape, before validation. Unknown keys are errors so a typo cannot
// silently drop a restriction.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    federal: RawRule,
    #[serde(default)]
    states: BTreeMap<String, RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    citation: String,
    note: String,
    confirmed: bool,
    #[serde(default)]
    sources: Vec<String>,
    hours: RawHours,
    #[serde(default)]
    weekday_hours: BTreeMap<String, RawHours>,
    #[serde(default)]
    no_call_days: Vec<String>,
    hours_clock: Option<String>,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
    max_calls_per_24h: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    start: String,
    end: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    dates: Vec<String>,
    #[serde(default = "yes")]
    confirmed: bool,
}

fn yes() -> bool {
    true
}

impl RawRule {
    fn validate(self, ctx: &str) -> Result<Rule, RulesError> {
        let hours = self.hours.validate(&format!("{ctx}.hours"))?;
        let mut week = [Some(hours); 7];
        for (day, raw) in self.weekday_hours {
            let context = format!("{ctx}.weekday_hours.{day}");
            let wd = weekday(&day, &context)?;
            week[wd.num_days_from_monday() as usize] = Some(raw.validate(&context)?);
        }
        for day in &self.no_call_days {
            let wd = weekday(day, &format!("{ctx}.no_call_days"))?;
            week[wd.num_days_from_monday() as usize] = None;
        }
        let hours_clock = self
            .hours_clock
            .map(|v| offset(&v, &format!("{ctx}.hours_clock")))
            .transpose()?;
        if self.max_calls_per_24h == Some(0) {
            return Err(RulesError::ZeroCap {
                context: ctx.to_owned(),
            });
        }
        let mut holidays = Vec::with_capacity(self.holidays.len());
        for h in self.holidays {
            let context = format!("{ctx}.holidays `{}`", h.name);
            let dates = h
                .dates
                .iter()
                .map(|d| date(d, &context))
                .collect::<Result<Vec<_>, _>>()?;
            holidays.push(Holiday {
                name: h.name,
                dates,
                confirmed: h.confirmed,
            });
        }
        let holiday_dates = holidays.iter().flat_map(|h| h.dates.clone()).collect();
        Ok(Rule {
            name: self.name,
            citation: self.citation,
            note: self.note,
            confirmed: self.confirmed,
            sources: self.sources,
            week,
            hours_clock,
            holidays,
            max_calls_per_24h: self.max_calls_per_24h,
            holiday_dates,
        })
    }
}

impl RawHours {
    fn validate(&self, context: &str) -> Result<DayHours, RulesError> {
        let start = time(&self.start, context)?;
        let end = time(&self.end, context)?;
        if end <= start {
            return Err(RulesError::EmptyWindow {
                context: context.to_owned(),
                start,
                end,
            });
        }
        Ok(DayHours { start, end })
    }
}

fn time(value: &str, context: &str) -> Result<NaiveTime, RulesError> {
    NaiveTime::parse_from_str(value, "%H:%M").map_err(|_| RulesError::BadTime {
        context: context.to_owned(),
        value: value.to_owned(),
    })
}

fn date(value: &str, context: &str) -> Result<NaiveDate, RulesError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| RulesError::BadDate {
        context: context.to_owned(),
        value: value.to_owned(),
    })
}

fn weekday(value: &str, context: &str) -> Result<Weekday, RulesError> {
    let bad = || RulesError::BadWeekday {
        context: context.to_owned(),
        value: value.to_owned(),
    };
    // Only the three-letter form, so the file reads the same everywhere.
    if value.len() != 3 {
        return Err(bad());
    }
    value.parse().map_err(|_| bad())
}

fn offset(value: &str, context: &str) -> Result<FixedOffset, RulesError> {
    let bad = || RulesError::BadOffset {
        context: context.to_owned(),
        value: value.to_owned(),
    };
    let (sign, rest) = match value.as_bytes().first() {
        Some(b'+') => (1, &value[1..]),
        Some(b'-') => (-1, &value[1..]),
        _ => return Err(bad()),
    };
    let t = NaiveTime::parse_from_str(rest, "%H:%M").map_err(|_| bad())?;
    let secs = chrono::Timelike::num_seconds_from_midnight(&t) as i32;
    FixedOffset::east_opt(sign * secs).ok_or_else(bad)
}

#[cfg(test)]
#[path = "state_rules_tests.rs"]
mod tests;
