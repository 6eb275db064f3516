//! Who rings, in which order: the forward legs of one inbound call.

use serde::{Deserialize, Serialize};

/// How the people in a tenant's `forward_to` are rung. The names are part of
/// the API: add, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RingStrategy {
    /// Everyone at once; the first to answer takes the call.
    #[default]
    Simultaneous,
    /// One after the other, in the order given, each for the ring timeout.
    Sequential,
    /// One after the other, starting one further down the list on each call.
    RoundRobin,
}

/// One person a forward leg rings, as kept with the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ringee {
    /// E.164.
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How long their phone rings (else the flow's ring timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u32>,
}

impl Ringee {
    pub fn number(number: &str) -> Self {
        Self {
            number: number.to_string(),
            name: None,
            timeout_secs: None,
        }
    }
}

/// The people each forward leg rings. `turn` is the call's place in the
/// rotation (a counter shared by every instance); only `round_robin` uses it.
pub fn legs<T: Clone>(strategy: RingStrategy, people: &[T], turn: u64) -> Vec<Vec<T>> {
    if people.is_empty() {
        return Vec::new();
    }
    match strategy {
        RingStrategy::Simultaneous => vec![people.to_vec()],
        RingStrategy::Sequential => people.iter().map(|p| vec![p.clone()]).collect(),
        RingStrategy::RoundRobin => {
            let start = (turn % people.len() as u64) as usize;
            people[start..]
                .iter()
                .chain(&people[..start])
                .map(|p| vec![p.clone()])
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<String> {
        ["+15550000001", "+15550000002", "+15550000003"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn simultaneous_is_one_leg_with_everyone() {
        assert_eq!(
            legs(RingStrategy::Simultaneous, &people(), 7),
            vec![people()]
        );
    }

    #[test]
    fn sequential_keeps_the_order_and_round_robin_rotates_it() {
        let firsts = |s, turn| legs(s, &people(), turn)[0][0].clone();
        assert_eq!(firsts(RingStrategy::Sequential, 5), "+15550000001");
        assert_eq!(firsts(RingStrategy::RoundRobin, 0), "+15550000001");
        assert_eq!(firsts(RingStrategy::RoundRobin, 1), "+15550000002");
        assert_eq!(firsts(RingStrategy::RoundRobin, 5), "+15550000003");
        let rr = legs(RingStrategy::RoundRobin, &people(), 1);
        assert_eq!(rr.len(), 3);
        assert_eq!(rr[2], vec!["+15550000001".to_string()]);
    }

    #[test]
    fn nobody_to_ring_is_no_leg() {
        assert!(legs::<String>(RingStrategy::Sequential, &[], 0).is_empty());
    }
}
