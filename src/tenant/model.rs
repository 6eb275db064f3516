//! A tenant as stored and shown, and the changes a request (or the tenants
//! file) may make to it. Every field is a validated type, so a bad value is
//! refused while the request is read, naming its field.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

pub use super::forward::{ForwardTo, Person, PersonName, RingSecs, MAX_PEOPLE};
use crate::inbound::RingStrategy;
use crate::phone::E164;

pub const MAX_ID_LEN: usize = 64;
const MAX_NAME_LEN: usize = 100;
const MAX_TEXT_LEN: usize = 1_600;

/// A tenant id: 1-64 of `a-z`, `0-9` and `-`, starting with a letter or digit
/// (it becomes part of every Redis key and of webhook URLs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let ok = !s.is_empty()
            && s.len() <= MAX_ID_LEN
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err("must be 1-64 of a-z, 0-9 and '-', starting with a letter or digit")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `TENANT_ID`, checked by the settings with its own (older, wider) rule.
    pub(super) fn configured(id: &str) -> Self {
        Self(id.to_string())
    }
}

impl TryFrom<String> for TenantId {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TenantId> for String {
    fn from(id: TenantId) -> Self {
        id.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Text said or sent on the tenant's behalf: not blank, at most `N` characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const N: usize>(String);

impl<const N: usize> TryFrom<String> for Text<N> {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let t = s.trim();
        if t.is_empty() {
            return Err("must not be empty".into());
        }
        if t.chars().count() > N {
            return Err(format!("must be at most {N} characters"));
        }
        Ok(Self(t.to_string()))
    }
}

impl<const N: usize> From<Text<N>> for String {
    fn from(t: Text<N>) -> Self {
        t.0
    }
}

impl<const N: usize> Text<N> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub type Name = Text<MAX_NAME_LEN>;
pub type Message = Text<MAX_TEXT_LEN>;

/// An IANA time zone name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone(String);

impl TryFrom<String> for Zone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse::<chrono_tz::Tz>()
            .map(|_| Self(s.clone()))
            .map_err(|_| format!("'{s}' is not an IANA time zone (e.g. America/Chicago)"))
    }
}

impl From<Zone> for String {
    fn from(z: Zone) -> Self {
        z.0
    }
}

impl Zone {
    pub fn new(tz: chrono_tz::Tz) -> Self {
        Self(tz.name().to_string())
    }

    /// The zone (checked when read, so it parses).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0.parse().unwrap_or(chrono_tz::UTC)
    }
}

/// Opening hours per weekday in the tenant's zone:
/// `{"mon": [["09:00", "17:00"]], "sat": []}`. A day left out is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<String, Vec<(String, String)>>")]
pub struct BusinessHours(BTreeMap<String, Vec<(String, String)>>);

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl TryFrom<BTreeMap<String, Vec<(String, String)>>> for BusinessHours {
    type Error = String;
    fn try_from(days: BTreeMap<String, Vec<(String, String)>>) -> Result<Self, Self::Error> {
        for (day, spans) in &days {
            if !DAYS.contains(&day.as_str()) {
                return Err(format!(
                    "'{day}' is not a weekday (use mon, tue, wed, thu, fri, sat, sun)"
                ));
            }
            let mut last_end: Option<NaiveTime> = None;
            for (start, end) in spans {
                let time = |t: &str| {
                    NaiveTime::parse_from_str(t, "%H:%M")
                        .map_err(|_| format!("{day}: '{t}' is not a time of day HH:MM"))
                };
                let (s, e) = (time(start)?, time(end)?);
                if s >= e {
                    return Err(format!("{day}: {start}-{end} must start before it ends"));
                }
                if last_end.is_some_and(|prev| s < prev) {
                    return Err(format!("{day}: spans must be in order and not overlap"));
                }
                last_end = Some(e);
            }
        }
        Ok(Self(days))
    }
}

impl BusinessHours {
    /// The spans as the inbound line reads them (checked when read, so every one parses).
    pub fn open_hours(&self) -> crate::inbound::OpenHours {
        let mut hours = crate::inbound::OpenHours::default();
        for (day, spans) in &self.0 {
            let Some(index) = DAYS.iter().position(|d| d == day) else {
                continue;
            };
            for (start, end) in spans {
                let time = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").ok();
                if let (Some(s), Some(e)) = (time(start), time(end)) {
                    hours.add(index, s, e);
                }
            }
        }
        hours
    }
}

/// Where the tenant's events are sent: an `http(s)` URL (its address is
/// checked against private ranges where it is set, see `egress`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventsUrl(String);

impl TryFrom<String> for EventsUrl {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match url::Url::parse(&s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(Self(s)),
            _ => Err("must be an http(s) URL"),
        }
    }
}

impl From<EventsUrl> for String {
    fn from(u: EventsUrl) -> Self {
        u.0
    }
}

impl EventsUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A rate above 0 and at most `MAX` per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Rate<const MAX: u32>(f64);

impl<const MAX: u32> TryFrom<f64> for Rate<MAX> {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        if v.is_finite() && v > 0.0 && v <= f64::from(MAX) {
            Ok(Self(v))
        } else {
            Err(format!("must be a number above 0 and at most {MAX}"))
        }
    }
}

impl<const MAX: u32> From<Rate<MAX>> for f64 {
    fn from(r: Rate<MAX>) -> Self {
        r.0
    }
}

impl<const MAX: u32> Rate<MAX> {
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A tenant as stored (JSON under `cf:<id>:tenant`) and shown by the admin API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: Name,
    /// Said on its calls.
    pub company_name: Name,
    pub timezone: Zone,
    /// Its Twilio numbers (held in the global ownership index); the first is
    /// the caller ID of its calls unless a call names another.
    pub numbers: Vec<E164>,
    /// Who its inbound calls ring in business hours.
    pub forward_to: Option<ForwardTo>,
    /// How the people in `forward_to` are rung (one number: it alone).
    #[serde(default)]
    pub ring_strategy: RingStrategy,
    /// The number rung outside business hours (none: voicemail).
    #[serde(default)]
    pub after_hours_forward_to: Option<E164>,
    pub business_hours: BusinessHours,
    pub voicemail_greeting: Option<Message>,
    pub missed_call_sms: Option<Message>,
    pub sms_auto_reply: Option<Message>,
    pub events_url: Option<EventsUrl>,
    pub call_purpose: Message,
    /// Its share of the account's dial rate (calls per second).
    pub max_cps: Option<Rate<1000>>,
    /// Requests per second each of its tokens may make (else `API_RATE_LIMIT_PER_S`).
    pub api_rate_limit_per_s: Option<Rate<100000>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `Some(None)` for an explicit `null`, so a change can clear a field.
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The fields a create or a change gives; absent fields stay as they are
/// (`null` clears an optional one).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantFields {
    #[serde(default)]
    pub id: Option<TenantId>,
    #[serde(default)]
    pub name: Option<Name>,
    #[serde(default)]
    pub company_name: Option<Name>,
    #[serde(default)]
    pub timezone: Option<Zone>,
    #[serde(default)]
    pub numbers: Option<Vec<E164>>,
    #[serde(default, deserialize_with = "nullable")]
    pub forward_to: Option<Option<ForwardTo>>,
    #[serde(default)]
    pub ring_strategy: Option<RingStrategy>,
    #[serde(default, deserialize_with = "nullable")]
    pub after_hours_forward_to: Option<Option<E164>>,
    #[serde(default)]
    pub business_hours: Option<BusinessHours>,
    #[serde(default, deserialize_with = "nullable")]
    pub voicemail_greeting: Option<Option<Message>>,
    #[serde(default, deserialize_with = "nullable")]
    pub missed_call_sms: Option<Option<Message>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sms_auto_reply: Option<Option<Message>>,
    #[serde(default, deserialize_with = "nullable")]
    pub events_url: Option<Option<EventsUrl>>,
    #[serde(default)]
    pub call_purpose: Option<Message>,
    #[serde(default, deserialize_with = "nullable")]
    pub max_cps: Option<Option<Rate<1000>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub api_rate_limit_per_s: Option<Option<Rate<100000>>>,
}

/// A field a create needs and did not get.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Missing {
    pub field: &'static str,
    pub reason: &'static str,
}

/// What a tenant takes from the deployment when a create does not say.
pub struct Defaults<'a> {
    pub timezone: chrono_tz::Tz,
    pub call_purpose: &'a str,
}

impl TenantFields {
    /// A new tenant from these fields (`id`, `name` and `company_name` required).
    pub fn create(self, defaults: Defaults<'_>, now: DateTime<Utc>) -> Result<Tenant, Missing> {
        let missing = |field| Missing {
            field,
            reason: "is required",
        };
        let id = self.id.clone().ok_or(missing("id"))?;
        let name = self.name.clone().ok_or(missing("name"))?;
        let company_name = self.company_name.clone().ok_or(missing("company_name"))?;
        let call_purpose = match self.call_purpose.clone() {
            Some(p) => p,
            None => Message::try_from(defaults.call_purpose.to_string())
                .map_err(|_| missing("call_purpose"))?,
        };
        let mut tenant = Tenant {
            id: id.0,
            name,
            company_name,
            timezone: Zone::new(defaults.timezone),
            numbers: Vec::new(),
            forward_to: None,
            ring_strategy: RingStrategy::default(),
            after_hours_forward_to: None,
            business_hours: BusinessHours::default(),
            voicemail_greeting: None,
            missed_call_sms: None,
            sms_auto_reply: None,
            events_url: None,
            call_purpose,
            max_cps: None,
            api_rate_limit_per_s: None,
            created_at: now,
            updated_at: now,
        };
        tenant.apply(TenantFields { id: None, ..self }, now);
        Ok(tenant)
    }
}

impl Tenant {
    /// Applies a change (its `id`, if any, is checked by the caller).
    pub fn apply(&mut self, f: TenantFields, now: DateTime<Utc>) {
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut self.name, f.name);
        set(&mut self.company_name, f.company_name);
        set(&mut self.timezone, f.timezone);
        set(&mut self.numbers, f.numbers.map(dedup));
        set(&mut self.forward_to, f.forward_to);
        set(&mut self.ring_strategy, f.ring_strategy);
        set(&mut self.after_hours_forward_to, f.after_hours_forward_to);
        set(&mut self.business_hours, f.business_hours);
        set(&mut self.voicemail_greeting, f.voicemail_greeting);
        set(&mut self.missed_call_sms, f.missed_call_sms);
        set(&mut self.sms_auto_reply, f.sms_auto_reply);
        set(&mut self.events_url, f.events_url);
        set(&mut self.call_purpose, f.call_purpose);
        set(&mut self.max_cps, f.max_cps);
        set(&mut self.api_rate_limit_per_s, f.api_rate_limit_per_s);
        self.updated_at = now;
    }

    pub fn number_strings(&self) -> Vec<String> {
        self.numbers
            .iter()
            .map(|n| n.as_str().to_string())
            .collect()
    }
}

/// Numbers in the order given, each once.
fn dedup(numbers: Vec<E164>) -> Vec<E164> {
    let mut seen = std::collections::HashSet::new();
    numbers
        .into_iter()
        .filter(|n| seen.insert(n.as_str().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: serde_json::Value) -> Result<TenantFields, String> {
        serde_json::from_value(json).map_err(|e| e.to_string())
    }

    #[test]
    fn ids_are_slugs() {
        assert!(TenantId::parse("acme-2").is_ok());
        for bad in ["", "Acme", "-a", "a_b", "a:b", &"a".repeat(65)] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn business_hours_are_checked() {
        assert!(fields(
            serde_json::json!({"business_hours": {"mon": [["09:00", "17:00"]], "sat": []}})
        )
        .is_ok());
        for bad in [
            serde_json::json!({"business_hours": {"monday": []}}),
            serde_json::json!({"business_hours": {"mon": [["17:00", "09:00"]]}}),
            serde_json::json!({"business_hours": {"mon": [["9", "17:00"]]}}),
            serde_json::json!({"business_hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}),
            serde_json::json!({"business_hours": {"mon": [["09:00"]]}}),
        ] {
            assert!(fields(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn forward_to_is_one_number_or_a_list_of_people() {
        let one = fields(serde_json::json!({"forward_to": "+14155550199"})).unwrap();
        let Some(Some(ForwardTo::One(n))) = &one.forward_to else {
            panic!("one number")
        };
        assert_eq!(n.as_str(), "+14155550199");
        // Shown back as it was given.
        assert_eq!(
            serde_json::to_value(one.forward_to.unwrap()).unwrap(),
            serde_json::json!("+14155550199")
        );
        let people = fields(serde_json::json!({
            "forward_to": [{"number": "+14155550101", "name": "Ana", "timeout_s": 15},
                           {"number": "+14155550102"}],
            "ring_strategy": "round_robin",
            "after_hours_forward_to": "+14155550199",
        }))
        .unwrap();
        let Some(Some(f)) = &people.forward_to else {
            panic!("people")
        };
        assert_eq!(f.people().len(), 2);
        assert_eq!(f.people()[0].timeout_s.map(RingSecs::get), Some(15));
        assert_eq!(people.ring_strategy, Some(RingStrategy::RoundRobin));
        let path = |json: serde_json::Value| {
            let text = json.to_string();
            let de = &mut serde_json::Deserializer::from_str(&text);
            serde_path_to_error::deserialize::<_, TenantFields>(de)
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        for (bad, field) in [
            (serde_json::json!({"forward_to": "555"}), "forward_to"),
            (serde_json::json!({"forward_to": []}), "forward_to"),
            (
                serde_json::json!({"forward_to": [{"number": "x"}]}),
                "forward_to[0].number",
            ),
            (
                serde_json::json!({"forward_to": [{"number": "+14155550101", "timeout_s": 2}]}),
                "forward_to[0].timeout_s",
            ),
            (
                serde_json::json!({"forward_to": [{"number": "+14155550101", "phone": 1}]}),
                "forward_to[0]",
            ),
            (
                serde_json::json!({"ring_strategy": "random"}),
                "ring_strategy",
            ),
        ] {
            let e = path(bad.clone());
            assert!(e.starts_with(field), "{bad}: {e}");
        }
        // Records stored before these fields existed still read.
        let mut t = fields(serde_json::json!({"id": "a", "name": "A", "company_name": "A"}))
            .unwrap()
            .create(
                Defaults {
                    timezone: chrono_tz::UTC,
                    call_purpose: "x",
                },
                Utc::now(),
            )
            .unwrap();
        t.forward_to = Some(ForwardTo::One(E164::parse("+14155550199").unwrap()));
        let mut json = serde_json::to_value(&t).unwrap();
        json.as_object_mut().unwrap().remove("ring_strategy");
        json.as_object_mut()
            .unwrap()
            .remove("after_hours_forward_to");
        let back: Tenant = serde_json::from_value(json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn a_change_can_clear_optional_fields_and_leaves_the_rest() {
        let now = Utc::now();
        let defaults = || Defaults {
            timezone: chrono_tz::America::Chicago,
            call_purpose: "about your order",
        };
        let mut t = fields(serde_json::json!({
            "id": "acme", "name": "Acme", "company_name": "Acme Co",
            "numbers": ["+14155550100", "+14155550100"], "forward_to": "+14155550199"
        }))
        .unwrap()
        .create(defaults(), now)
        .unwrap();
        assert_eq!(t.numbers.len(), 1);
        assert_eq!(t.timezone, Zone::new(chrono_tz::America::Chicago));
        assert_eq!(t.call_purpose.as_str(), "about your order");
        t.apply(
            fields(serde_json::json!({"forward_to": null})).unwrap(),
            now,
        );
        assert_eq!(t.forward_to, None);
        assert_eq!(t.company_name.as_str(), "Acme Co");
        let missing = fields(serde_json::json!({"id": "x", "name": "X"}))
            .unwrap()
            .create(defaults(), now)
            .unwrap_err();
        assert_eq!(missing.field, "company_name");
        assert!(fields(serde_json::json!({"max_cps": 0})).is_err());
        assert!(fields(serde_json::json!({"timezone": "Mars/Base"})).is_err());
        assert!(fields(serde_json::json!({"colour": "red"})).is_err());
    }
}
