//! Request fields shared by a single call and a campaign contact (number, name,
//! variables, flow, time zone, US state), each a validated newtype, and the one place a
//! serde error becomes a [`FieldError`] that names the field by its JSON path.

use std::collections::BTreeMap;
use std::fmt::{self, Display};
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::phone::E164;

pub const MAX_NAME_LEN: usize = 100;
pub const MAX_VARIABLE_LEN: usize = 500;
pub const MAX_FLOW_ID_LEN: usize = 64;

/// A request field that cannot be used, and why. `field` is a path such as
/// `to`, `variables.booking_window` or `retry.on[0]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Names the field a serde error is about; `root` names the value itself.
    /// Serde reports a missing field at its parent (and an unknown one at the
    /// parent or the key), so the name is taken from its message.
    pub fn from_serde<E: Display>(e: serde_path_to_error::Error<E>, root: &str) -> Self {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let at = |name: &str| match path.as_str() {
            "." => name.to_string(),
            p if p == name || p.ends_with(&format!(".{name}")) => p.to_string(),
            p => format!("{p}.{name}"),
        };
        if let Some((name, rest)) = quoted(&message, "unknown field `") {
            let expected = rest
                .trim_start_matches(", ")
                .replacen("expected one of ", "expected one of: ", 1)
                .replace('`', "");
            return Self::new(at(name), format!("unknown field ({expected})"));
        }
        if let Some((name, _)) = quoted(&message, "missing field `") {
            return Self::new(at(name), "is required");
        }
        let field = if path == "." { root.to_string() } else { path };
        Self::new(field, message)
    }
}

/// `prefix` then a name in backquotes: the name and what follows it.
fn quoted<'m>(message: &'m str, prefix: &str) -> Option<(&'m str, &'m str)> {
    message.strip_prefix(prefix)?.split_once('`')
}

/// Deserializes `T` from a JSON value (owned, or borrowed to keep it), naming
/// the field on failure.
pub fn from_json<'de, D, T>(value: D, root: &str) -> Result<T, FieldError>
where
    D: Deserializer<'de>,
    D::Error: Display,
    T: Deserialize<'de>,
{
    serde_path_to_error::deserialize(value).map_err(|e| FieldError::from_serde(e, root))
}

/// A struct that must be given as a JSON object: serde alone would also take
/// a list of its fields in order.
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fields<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Fields(PhantomData)).map(Object)
    }
}

/// A phone number in E.164 form; surrounding spaces are forgiven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(pub E164);

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Number;
        impl Visitor<'_> for Number {
            type Value = Phone;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string in E.164 form, e.g. +15551234567")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Phone, E> {
                Phone::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(Number)
    }
}

impl Phone {
    pub fn parse(s: &str) -> Result<Self, crate::phone::E164Error> {
        E164::parse(s.trim()).map(Phone)
    }
}

/// A callee's name: at most [`MAX_NAME_LEN`] characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Name(pub String);

impl TryFrom<String> for Name {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.chars().count() > MAX_NAME_LEN {
            return Err(format!("must be at most {MAX_NAME_LEN} characters"));
        }
        Ok(Name(s.trim().to_string()))
    }
}

/// A flow id as asked for: at most [`MAX_FLOW_ID_LEN`] characters, trimmed.
/// Whether the flow exists is the service's to say.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct FlowName(pub String);

impl TryFrom<String> for FlowName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.chars().count() > MAX_FLOW_ID_LEN {
            return Err(format!("must be at most {MAX_FLOW_ID_LEN} characters"));
        }
        Ok(FlowName(s.trim().to_string()))
    }
}

/// An IANA time zone name such as `America/Chicago`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TimeZoneName(pub String);

impl TryFrom<String> for TimeZoneName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.parse::<chrono_tz::Tz>() {
            Ok(_) => Ok(TimeZoneName(s)),
            Err(_) => Err(format!("'{s}' is not an IANA time zone")),
        }
    }
}

/// A US state or DC by its two-letter postal code (`FL`), any case; stored upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct StateCode(pub crate::compliance::UsState);

impl TryFrom<String> for StateCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
            .map(StateCode)
            .map_err(|e: crate::compliance::UnknownState| e.to_string())
    }
}

/// Flow variables. A value may be given as a string, number or boolean; the
/// flow sees its text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Variables {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let vars = Option::<BTreeMap<String, Variable>>::deserialize(d)?.unwrap_or_default();
        Ok(Variables(
            vars.into_iter().map(|(name, v)| (name, v.0)).collect(),
        ))
    }
}

/// One variable's text, at most [`MAX_VARIABLE_LEN`] characters.
#[derive(Deserialize)]
#[serde(try_from = "Value")]
struct Variable(String);

impl TryFrom<Value> for Variable {
    type Error = String;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err("must be a string, number or boolean".into()),
        };
        if text.chars().count() > MAX_VARIABLE_LEN {
            return Err(format!("must be at most {MAX_VARIABLE_LEN} characters"));
        }
        Ok(Variable(text))
    }
}

/// One campaign contact as requested.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    pub to: Phone,
    #[serde(default)]
    pub name: Option<Name>,
    #[serde(default)]
    pub timezone: Option<TimeZoneName>,
    /// The US state the callee is in, when known: overrides the area code's.
    #[serde(default)]
    pub state: Option<StateCode>,
    #[serde(default)]
    pub variables: Variables,
}

impl ContactRequest {
    pub fn from_json(value: &Value) -> Result<Self, FieldError> {
        from_json(value, "contact").map(|c: Object<Self>| c.0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field_of(value: Value) -> String {
        ContactRequest::from_json(&value).unwrap_err().field
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field_of(json!({})), "to");
        assert_eq!(field_of(json!({"to": "555"})), "to");
        assert_eq!(field_of(json!({"to": "+15551234567", "tz": "x"})), "tz");
        assert_eq!(field_of(json!({"to": "+15551234567", "name": 7})), "name");
        assert_eq!(
            field_of(json!({"to": "+15551234567", "variables": {"a": []}})),
            "variables.a"
        );
        assert_eq!(field_of(json!([1])), "contact");
        assert_eq!(field_of(json!(["+15551234567"])), "contact");
        let nested = json!({"a": {"to": "+15551234567", "tz": "x"}});
        let err = from_json::<_, std::collections::HashMap<String, ContactRequest>>(&nested, "-");
        assert_eq!(err.unwrap_err().field, "a.tz");
    }

    #[test]
    fn state_is_a_us_postal_code() {
        let c = ContactRequest::from_json(&json!({"to": "+15551234567", "state": " fl "})).unwrap();
        assert_eq!(c.state, Some(StateCode(crate::compliance::UsState::FL)));
        for bad in [json!("PR"), json!("Florida"), json!(12)] {
            let e = ContactRequest::from_json(&json!({"to": "+15551234567", "state": bad}));
            assert_eq!(e.unwrap_err().field, "state");
        }
    }

    #[test]
    fn variables_keep_their_text() {
        let c: ContactRequest = from_json(
            &json!({"to": " +15551234567 ", "variables": {"n": 1.5, "b": true, "s": "x"}}),
            "contact",
        )
        .unwrap();
        assert_eq!(c.to.0.as_str(), "+15551234567");
        assert_eq!(c.variables.0["n"], "1.5");
        assert_eq!(c.variables.0["b"], "true");
        let null: ContactRequest =
            from_json(&json!({"to": "+15551234567", "variables": null}), "contact").unwrap();
        assert!(null.variables.0.is_empty());
    }
}
