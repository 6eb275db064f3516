//! One reviewed snapshot of the TwiML for every transition of the default flow.

use std::collections::BTreeMap;

use callflow::call::apply::apply_event;
use callflow::call::samples::{sample_events, sample_states};
use callflow::call::{CallRecord, CallState, CallStatus, Event, Rules, VoicemailAction};
use callflow::flow::Flow;
use callflow::phone::E164;
use callflow::render::TwimlRenderer;

fn flow() -> Flow {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/flows/outbound_booking.toml");
    Flow::load(path.as_ref()).expect("default flow is valid")
}

fn voice() -> TwimlRenderer {
    TwimlRenderer {
        public_base_url: "https://calls.example.com".into(),
        // An awkward name on purpose: every snapshot shows it escaped.
        company: "Smith & <Sons>".into(),
        purpose: "about your \"booking\" request".into(),
        callback_number: "+15550001111".into(),
    }
}

fn record(state: CallState, name: Option<&str>) -> CallRecord {
    let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    CallRecord {
        direction: callflow::call::Direction::Outbound,
        call_id: "c0ffee".into(),
        tenant: "default".into(),
        flow_id: "outbound_booking".into(),
        flow_version: "test".into(),
        to: E164::parse("+15551234567").unwrap(),
        from: E164::parse("+15550001111").unwrap(),
        name: name.map(str::to_owned),
        variables: BTreeMap::new(),
        call_sid: Some("CA00000000000000000000000000000001".into()),
        status: CallStatus::InProgress,
        state,
        consent: None,
        recording_sid: None,
        recording_status: None,
        disposition: None,
        answered_by: None,
        turn: 3,
        last_sequence: None,
        duration_secs: None,
        error: None,
        created_at: now,
        updated_at: now,
        answered_at: None,
        ended_at: None,
        campaign: None,
        timezone: None,
        callee_state: None,
        scheduled_at: None,
    }
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

fn state_label(state: &CallState) -> String {
    match state {
        CallState::Identify { attempts }
        | CallState::Consent { attempts }
        | CallState::Gather { attempts } => {
            format!("{}{attempts}", state.name())
        }
        other => other.name().to_string(),
    }
}

/// Renders one transition as the snapshot shows it: what happened, then the TwiML.
fn transition(flow: &Flow, rec: &CallRecord, event: &Event, rules: Rules) -> Option<String> {
    let (next, step) = apply_event(rec, event, rules, rec.created_at);
    if !step.changed_from(&rec.state) || step.effects.is_empty() {
        return None;
    }
    let path: Vec<&str> = step
        .via
        .iter()
        .chain(std::iter::once(&step.state))
        .map(CallState::name)
        .collect();
    let disposition = next
        .disposition
        .map(|d| format!(" ({})", d.as_str()))
        .unwrap_or_default();
    Some(format!(
        "{} + {} -> {}{}\n\n{}",
        rec.state.name(),
        event.name(),
        path.join(" -> "),
        disposition,
        voice().render(flow, &next, &step.effects)
    ))
}

#[test]
fn twiml_of_every_transition() {
    let flow = flow();
    let rules = flow.rules(true, true);
    let mut count = 0;
    settings().bind(|| {
        for state in sample_states() {
            for event in sample_events() {
                let rec = record(state.clone(), Some("Ada"));
                if let Some(text) = transition(&flow, &rec, &event, rules) {
                    let name = format!(
                        "{}__{}",
                        state_label(&state),
                        event.name().replace(':', "_")
                    );
                    insta::assert_snapshot!(name, text);
                    count += 1;
                }
            }
        }
        // Variants the default rules do not reach.
        let variants = [
            (
                "no_name",
                record(CallState::Ringing, None),
                Event::Answered { machine: false },
                rules_no_name(&flow),
            ),
            (
                "voicemail_hangup",
                record(CallState::Ringing, Some("Ada")),
                Event::Answered { machine: true },
                Rules {
                    voicemail: VoicemailAction::Hangup,
                    ..rules
                },
            ),
            (
                "consent_off",
                record(CallState::Identify { attempts: 0 }, Some("Ada")),
                Event::Input(callflow::call::Intent::Yes),
                Rules {
                    consent: false,
                    ..rules
                },
            ),
        ];
        for (label, rec, event, rules) in variants {
            let text = transition(&flow, &rec, &event, rules).expect("variant transitions");
            insta::assert_snapshot!(format!("variant_{label}"), text);
            count += 1;
        }
    });
    assert!(count >= 35, "only {count} transitions snapshotted");
}

fn rules_no_name(flow: &Flow) -> Rules {
    flow.rules(false, true)
}
