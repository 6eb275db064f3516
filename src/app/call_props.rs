//! Property tests of a call's whole life with the shipped flow: random inputs
//! (callbacks in any order, repeated, for the wrong turn, with any words, and
//! the results of our own dials) go through the same pure steps the
//! transition loop takes (`Flow::rules`, the flow's classifier, `call::apply`,
//! the TwiML renderer), and several calls to a few numbers go through the dial
//! gate's decision with a do-not-call list the calls' opt-outs fill.
//!
//! Checked after every input: nothing panics; an ended call never moves again;
//! nothing is recorded (no `StartRecording` effect, no `<Recording>` in the
//! TwiML, no stored recording) unless the callee said yes to the consent
//! question first; an opt-out puts the number on the list; and a number on the
//! list is never dialed again.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

use super::dial_gate::{self, CapUse, DialTarget, GateDecision};
use crate::call::apply::{apply, Change};
use crate::call::{CallRecord, CallState, CallStatus, Effect, Input, Intent};
use crate::compliance::Rules as ComplianceRules;
use crate::flow::Flow;
use crate::phone::E164;
use crate::render::TwimlRenderer;

fn flow() -> &'static Flow {
    static FLOW: std::sync::LazyLock<Flow> = std::sync::LazyLock::new(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/flows/outbound_booking.toml");
        Flow::load(path.as_ref()).expect("the shipped flow is valid")
    });
    &FLOW
}

fn renderer() -> TwimlRenderer {
    TwimlRenderer {
        public_base_url: "https://calls.example.com".into(),
        company: "Smith & <Sons>".into(),
        purpose: "your booking".into(),
        callback_number: "+15550001111".into(),
    }
}

/// Noon in New York on a Wednesday: every gate but do-not-call is open.
fn noon() -> DateTime<Utc> {
    DateTime::from_timestamp(1_768_410_000, 0).expect("a valid instant")
}

/// The numbers the calls go to: New York numbers, so the gate can allow them.
const NUMBERS: [&str; 3] = ["+12125550101", "+12125550102", "+12125550103"];

fn new_record(to: &str, named: bool, n: usize) -> CallRecord {
    CallRecord {
        call_id: format!("call{n}"),
        direction: crate::call::Direction::Outbound,
        tenant: "default".into(),
        flow_id: flow().id.clone(),
        flow_version: flow().version.clone(),
        to: E164::parse(to).expect("a valid number"),
        from: E164::parse("+15550001111").expect("a valid number"),
        name: named.then(|| "Ada".to_string()),
        variables: BTreeMap::new(),
        call_sid: None,
        status: CallStatus::Queued,
        state: CallState::Queued,
        consent: None,
        recording_sid: None,
        recording_status: None,
        disposition: None,
        answered_by: None,
        turn: 0,
        last_sequence: None,
        duration_secs: None,
        error: None,
        created_at: noon(),
        updated_at: noon(),
        answered_at: None,
        ended_at: None,
        campaign: None,
        timezone: None,
        callee_state: None,
        scheduled_at: None,
    }
}

/// Which turn a generated gather names.
#[derive(Debug, Clone)]
enum Turn {
    /// The turn the call is on when the gather arrives.
    Current,
    /// Any turn: late, early or far off.
    Other(u32),
}

/// An input before its turn is known.
#[derive(Debug, Clone)]
enum Gen {
    Input(Input),
    Gather {
        turn: Turn,
        speech: Option<String>,
        digits: Option<String>,
    },
}

impl Gen {
    fn resolve(&self, record: &CallRecord) -> Input {
        match self {
            Gen::Input(input) => input.clone(),
            Gen::Gather {
                turn,
                speech,
                digits,
            } => Input::Gather {
                turn: match turn {
                    Turn::Current => record.turn,
                    Turn::Other(t) => *t,
                },
                speech: speech.clone(),
                digits: digits.clone(),
                confidence: None,
            },
        }
    }
}

fn words() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec![
            "yes",
            "yes please",
            "no",
            "not interested",
            "stop calling me",
            "remove me from your list",
            "sure, record it",
            "",
            "   ",
            "what?",
        ])
        .prop_map(|s| Some(s.to_string())),
        // Anything at all, including markup and control characters.
        any::<String>().prop_map(Some),
    ]
}

fn keys() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        2 => prop::sample::select(vec!["1", "2", "9", "0", "*", "#", "", "12"])
            .prop_map(|s| Some(s.to_string())),
        1 => "[0-9*#]{0,4}".prop_map(Some),
    ]
}

fn status_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "queued", "initiated", "ringing", "in-progress", "answered", "completed",
            "busy", "no-answer", "failed", "canceled",
        ])
        .prop_map(str::to_string),
        1 => ".{0,12}",
    ]
}

fn failure() -> impl Strategy<Value = crate::call::ApiFailure> {
    (proptest::option::of(0u64..100_000), ".{0,20}")
        .prop_map(|(code, message)| crate::call::ApiFailure { code, message })
}

fn gen_input() -> impl Strategy<Value = Gen> {
    let turn = prop_oneof![4 => Just(Turn::Current), 1 => (0u32..8).prop_map(Turn::Other)];
    prop_oneof![
        8 => (turn, words(), keys()).prop_map(|(turn, speech, digits)| Gen::Gather { turn, speech, digits }),
        3 => proptest::option::of(prop::sample::select(vec![
            "human", "machine_start", "machine_end_beep", "fax", "unknown",
        ]))
        .prop_map(|a| Gen::Input(Input::Answer {
            machine: crate::twilio::webhook::is_machine(a),
            answered_by: a.map(str::to_string),
        })),
        4 => (status_text(), proptest::option::of(0u32..20), proptest::option::of(0u32..600))
            .prop_map(|(status, sequence, duration_secs)| Gen::Input(Input::Status {
                status,
                sequence,
                duration_secs,
            })),
        1 => ("RE[0-9a-f]{4}", prop::sample::select(vec!["in-progress", "completed", "absent"]))
            .prop_map(|(sid, status)| Gen::Input(Input::Recording { sid, status: status.into() })),
        1 => "CA[0-9a-f]{4}".prop_map(|sid| Gen::Input(Input::Dialed { sid })),
        1 => "CA[0-9a-f]{4}".prop_map(|sid| Gen::Input(Input::Reconciled { sid })),
        1 => failure().prop_map(|failure| Gen::Input(Input::Rejected { failure })),
        1 => failure().prop_map(|failure| Gen::Input(Input::Uncertain { failure })),
        1 => ".{0,10}".prop_map(|reason| Gen::Input(Input::Abandoned { reason })),
        1 => (0i64..86_400).prop_map(|s| Gen::Input(Input::Scheduled { at: noon() + TimeDelta::seconds(s) })),
        1 => Just(Gen::Input(Input::Due)),
    ]
}

/// One call: its number (an index into [`NUMBERS`]), whether a name is known,
/// and what happens to it.
fn gen_call() -> impl Strategy<Value = (usize, bool, Vec<Gen>)> {
    (
        0..NUMBERS.len(),
        any::<bool>(),
        prop::collection::vec(gen_input(), 0..24),
    )
}

/// What the transition loop decides for one input, without the store: the
/// same rules, classifier, `apply` and renderer as `OutboundCalls::decide`.
fn step(record: &CallRecord, input: &Input, require_consent: bool) -> (Change, Option<String>) {
    let flow = flow();
    let rules = flow.rules(record.name.is_some(), require_consent);
    let classify =
        |speech: Option<&str>, digits: Option<&str>| flow.intents.classify(speech, digits);
    let change = apply(record, input, Some("CA0001"), rules, classify, noon());
    let reply = input
        .expects_voice_reply()
        .then(|| renderer().render(flow, &change.record, change.effects()));
    (change, reply)
}

/// The intent a gather for the current turn carries, as the flow reads it.
fn intent_of(record: &CallRecord, input: &Input) -> Option<Intent> {
    match input {
        Input::Gather {
            turn,
            speech,
            digits,
            ..
        } if *turn == record.turn => Some(
            flow()
                .intents
                .classify(speech.as_deref(), digits.as_deref()),
        ),
        _ => None,
    }
}

fn records(reply: Option<&str>) -> bool {
    reply.is_some_and(|r| r.contains("<Recording") || r.contains("<Record"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_call_never_leaves_its_end_records_without_consent_or_dials_an_opted_out_number(
        require_consent in any::<bool>(),
        calls in prop::collection::vec(gen_call(), 1..6),
    ) {
        let compliance = ComplianceRules::shipped().expect("shipped rules parse");
        let mut dnc: HashSet<&str> = HashSet::new();
        for (n, (number, named, inputs)) in calls.into_iter().enumerate() {
            let to = NUMBERS[number];
            let target = DialTarget { to, timezone: None, state: None, window: None };
            let callee = dial_gate::callee(&target, chrono_tz::America::New_York);
            let decision = dial_gate::decide(
                noon(), &callee, None, dnc.contains(to), CapUse::Under, compliance,
            );
            if dnc.contains(to) {
                prop_assert_eq!(decision, GateDecision::DoNotCall, "{} opted out but was let through", to);
                continue;
            }
            prop_assert_eq!(decision, GateDecision::Allowed);

            let mut record = new_record(to, named, n);
            let mut consent_given = false;
            for generated in &inputs {
                let input = generated.resolve(&record);
                let intent = intent_of(&record, &input);
                let was_asking_consent = matches!(record.state, CallState::Consent { .. });
                let was_talking = matches!(
                    record.state,
                    CallState::Identify { .. } | CallState::Consent { .. } | CallState::Gather { .. }
                );
                let (change, reply) = step(&record, &input, require_consent);
                let next = &change.record;
                if was_asking_consent && intent == Some(Intent::Yes) {
                    consent_given = true;
                }

                // An ended call stays as it ended.
                if let Some(d) = record.state.disposition() {
                    prop_assert_eq!(&next.state, &record.state, "ended call moved on {:?}", input);
                    prop_assert_eq!(next.disposition, Some(d));
                    prop_assert!(change.effects().is_empty(), "ended call acted: {:?}", change.effects());
                }
                if record.status.is_terminal() {
                    prop_assert_eq!(next.status, record.status);
                }
                prop_assert_eq!(next.disposition, next.state.disposition());

                // Recording only after a yes to the consent question.
                let starts = change.effects().contains(&Effect::StartRecording);
                if starts || records(reply.as_deref()) {
                    prop_assert!(consent_given, "recording without consent after {:?}: {:?}", input, reply);
                    prop_assert_eq!(next.consent, Some(true));
                    let yes = change.effects().iter().position(|e| *e == Effect::RecordConsent(true));
                    let start = change.effects().iter().position(|e| *e == Effect::StartRecording);
                    prop_assert!(yes < start, "consent noted after the recording started");
                }
                if next.recording_sid.is_some() {
                    prop_assert!(consent_given, "a recording was kept without consent");
                }
                if next.consent == Some(true) {
                    prop_assert!(consent_given);
                }

                // An opt-out while talking is honoured, and only an opt-out adds to the list.
                let opted_out = was_talking && intent == Some(Intent::OptOut);
                prop_assert_eq!(change.adds_to_dnc(), opted_out, "after {:?} in {:?}", input, record.state);
                if change.adds_to_dnc() {
                    dnc.insert(to);
                }
                record = change.record;
            }
        }
    }
}
