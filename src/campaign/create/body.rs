//! Reading a `POST /api/calls/outbound` body whose `contacts` list may be
//! huge: the list is counted while it is parsed and the parse stops at the
//! first contact past the limit, so an oversized campaign is refused before
//! the rest of its contacts are built (a 62 MB body of 2.7 million contacts
//! used to be parsed whole, over a gigabyte, before it was counted).

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Not JSON at all (or nested too deep).
    Malformed(serde_json::Error),
    /// JSON, but not an object.
    NotObject,
    /// The top-level `contacts` list has more than the limit.
    TooManyContacts,
}

/// The body as a JSON object, its top-level `contacts` list (when it is a
/// list) holding at most `max_contacts` items.
pub fn read(body: &[u8], max_contacts: usize) -> Result<Value, BodyError> {
    let over = Cell::new(false);
    let seed = Body {
        max_contacts,
        over: &over,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(BodyError::NotObject),
        Err(_) if over.get() => Err(BodyError::TooManyContacts),
        Err(e) => Err(BodyError::Malformed(e)),
    }
}

/// The top level: an object (`Some`), anything else read and dropped (`None`).
struct Body<'a> {
    max_contacts: usize,
    over: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Body<'_> {
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Body<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = if key == "contacts" {
                map.next_value_seed(Contacts {
                    max: self.max_contacts,
                    over: self.over,
                })?
            } else {
                map.next_value::<Value>()?
            };
            object.insert(key, value);
        }
        Ok(Some(Value::Object(object)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// The `contacts` value: a list is counted as it is read; anything else is
/// kept as it is, for the typed request to refuse with its own message.
struct Contacts<'a> {
    max: usize,
    over: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Contacts<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Contacts<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of contacts")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // The hint is the parser's guess: never trusted for more than the limit.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
        while let Some(item) = seq.next_element::<Value>()? {
            if items.len() == self.max {
                self.over.set(true);
                return Err(serde::de::Error::custom("too many contacts"));
            }
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        use serde::Deserialize;
        Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read_str(body: &str, max: usize) -> Result<Value, BodyError> {
        read(body.as_bytes(), max)
    }

    #[test]
    fn a_body_within_the_limit_reads_as_plain_json_would() {
        let body =
            r#"{"flow": "x", "contacts": [{"to": "+15551112222"}, 5, "a"], "n": [1, {"a": null}]}"#;
        let expected: Value = serde_json::from_str(body).unwrap();
        assert_eq!(read_str(body, 3).unwrap(), expected);
        for odd in [
            r#"{"contacts": 5}"#,
            r#"{"contacts": {"a": 1}}"#,
            r#"{"contacts": null}"#,
            r#"{}"#,
        ] {
            assert_eq!(
                read_str(odd, 3).unwrap(),
                serde_json::from_str::<Value>(odd).unwrap()
            );
        }
    }

    #[test]
    fn the_first_contact_past_the_limit_stops_the_parse() {
        let body = json!({"contacts": [1, 2, 3, 4]}).to_string();
        assert!(read_str(&body, 4).is_ok());
        assert!(matches!(
            read_str(&body, 3),
            Err(BodyError::TooManyContacts)
        ));
        // Stopped there: what follows the fourth contact is never looked at.
        let truncated = r#"{"contacts": [1, 2, 3, 4, {"#;
        assert!(matches!(
            read_str(truncated, 3),
            Err(BodyError::TooManyContacts)
        ));
        // Only the top-level list is counted.
        let nested = json!({"x": {"contacts": [1, 2, 3, 4]}, "contacts": [1]}).to_string();
        assert!(read_str(&nested, 3).is_ok());
    }

    #[test]
    fn not_an_object_and_not_json_are_told_apart() {
        for body in ["[1, 2]", "5", "\"s\"", "null", "true"] {
            assert!(
                matches!(read_str(body, 3), Err(BodyError::NotObject)),
                "{body}"
            );
        }
        for body in ["", "{", "{\"a\": }", "{} x", "[1,"] {
            assert!(
                matches!(read_str(body, 3), Err(BodyError::Malformed(_))),
                "{body}"
            );
        }
    }
}
