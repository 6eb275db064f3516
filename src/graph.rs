//! `callflow flows graph`: the call machine as a Mermaid state diagram,
//! discovered by running the machine itself over every state, event and rule
//! set; the console draws the same edges.

use std::collections::BTreeMap;

use crate::call::samples::{sample_events, sample_states};
use crate::call::{advance, CallState, Rules, VoicemailAction};

/// The machine's transitions: (from, to) -> the events that take it, in a
/// stable order. Built once (it runs the machine over every sample).
pub fn edges() -> &'static BTreeMap<(String, String), Vec<String>> {
    static EDGES: std::sync::LazyLock<BTreeMap<(String, String), Vec<String>>> =
        std::sync::LazyLock::new(discover);
    &EDGES
}

/// The states in the order a call meets them, for drawing.
pub const STATES: [&str; 11] = [
    "queued",
    "dialing",
    "ringing",
    "identify",
    "consent",
    "record",
    "pitch",
    "gather",
    "opt_out",
    "voicemail",
    "ended",
];

fn discover() -> BTreeMap<(String, String), Vec<String>> {
    // (from, to) -> event labels, in a stable order.
    let mut edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut add = |from: &str, to: &str, label: String| {
        let labels = edges.entry((from.to_string(), to.to_string())).or_default();
        if !labels.contains(&label) {
            labels.push(label);
        }
    };
    for ask_name in [true, false] {
        for consent in [true, false] {
            for voicemail in [VoicemailAction::LeaveMessage, VoicemailAction::Hangup] {
                let rules = Rules {
                    ask_name,
                    consent,
                    max_reprompts: 1,
                    voicemail,
                };
                for state in sample_states() {
                    // A state these rules only pass through never receives events.
                    if advance(&state, &crate::call::Event::Proceed, rules).changed_from(&state) {
                        continue;
                    }
                    for event in sample_events() {
                        let step = advance(&state, &event, rules);
                        if !step.changed_from(&state) {
                            continue;
                        }
                        let mut from = state.name();
                        let mut label = event.name();
                        for next in step.via.iter().chain(std::iter::once(&step.state)) {
                            add(from, next.name(), label);
                            from = next.name();
                            label = "proceed".into();
                        }
                    }
                }
            }
        }
    }
    edges
}

pub fn mermaid() -> String {
    let mut out = String::from("stateDiagram-v2\n    [*] --> queued\n");
    for ((from, to), labels) in edges() {
        if labels.is_empty() {
            continue;
        }
        out.push_str(&format!("    {from} --> {to}: {}\n", labels.join(", ")));
    }
    out.push_str(&format!(
        "    {} --> [*]\n",
        CallState::Ended {
            disposition: crate::call::Disposition::Interested
        }
        .name()
    ));
    out.push_str(
        "    note right of ended\n        interested, declined, no_response, opted_out, wrong_party,\n        voicemail, busy, no_answer, failed, canceled, hung_up\n    end note\n",
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn graph_has_every_state_and_the_happy_path() {
        let g = super::mermaid();
        for state in [
            "queued",
            "dialing",
            "ringing",
            "identify",
            "consent",
            "record",
            "pitch",
            "gather",
            "opt_out",
            "voicemail",
            "ended",
        ] {
            assert!(
                g.contains(&format!("    {state} --> ")),
                "{state} missing:\n{g}"
            );
        }
        assert!(g.contains("consent --> record: input:yes"), "{g}");
        assert!(g.contains("record --> pitch: proceed"), "{g}");
        assert!(g.contains("pitch --> gather: proceed"), "{g}");
        assert!(g.contains("gather --> ended: input:yes"), "{g}");
    }
}
