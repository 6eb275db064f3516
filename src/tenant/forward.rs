//! Who a tenant's inbound calls ring: one number (the original form of
//! `forward_to`) or a list of people, each with an optional name and ring time.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::phone::E164;

/// A person's name as said and shown: not blank, at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl TryFrom<String> for PersonName {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 100 {
            return Err("must be 1 to 100 characters");
        }
        Ok(Self(t.to_string()))
    }
}

impl From<PersonName> for String {
    fn from(n: PersonName) -> Self {
        n.0
    }
}

impl PersonName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long one person's phone rings, in seconds (`<Dial timeout>`): 5 to 600.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct RingSecs(u32);

impl TryFrom<u32> for RingSecs {
    type Error = &'static str;
    fn try_from(v: u32) -> Result<Self, Self::Error> {
        if (5..=600).contains(&v) {
            Ok(Self(v))
        } else {
            Err("must be a whole number of seconds from 5 to 600")
        }
    }
}

impl From<RingSecs> for u32 {
    fn from(r: RingSecs) -> Self {
        r.0
    }
}

impl RingSecs {
    pub fn get(self) -> u32 {
        self.0
    }
}

/// One person an inbound call rings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub number: E164,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<PersonName>,
    /// How long their phone rings (else the inbound flow's `ring_timeout_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<RingSecs>,
}

/// The most people one tenant's calls ring.
pub const MAX_PEOPLE: usize = 10;

/// Who the tenant's inbound calls ring: one number (`"+1..."`, the original
/// form, kept as it was given) or a list of people (`[{"number": "+1...",
/// "name": "Ana", "timeout_s": 20}]`) rung as the tenant's `ring_strategy` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ForwardTo {
    One(E164),
    People(Vec<Person>),
}

impl ForwardTo {
    /// Everyone to ring, in the order given.
    pub fn people(&self) -> Vec<Person> {
        match self {
            ForwardTo::One(number) => vec![Person {
                number: number.clone(),
                name: None,
                timeout_s: None,
            }],
            ForwardTo::People(people) => people.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for ForwardTo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ForwardTo;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a phone number in E.164 or a list of people ({\"number\", \"name\", \"timeout_s\"})")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ForwardTo, E> {
                E164::parse(v).map(ForwardTo::One).map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ForwardTo, A::Error> {
                use serde::de::Error;
                let mut people: Vec<Person> = Vec::new();
                while let Some(person) = seq.next_element::<Person>()? {
                    if people.iter().any(|p| p.number == person.number) {
                        return Err(A::Error::custom(format!(
                            "{} is listed twice",
                            person.number.masked()
                        )));
                    }
                    people.push(person);
                    if people.len() > MAX_PEOPLE {
                        return Err(A::Error::custom(format!("at most {MAX_PEOPLE} people")));
                    }
                }
                if people.is_empty() {
                    return Err(A::Error::custom("must name at least one person"));
                }
                Ok(ForwardTo::People(people))
            }
        }
        d.deserialize_any(Visit)
    }
}
