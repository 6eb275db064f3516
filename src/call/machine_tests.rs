//! Unit tests of `machine.rs`.

use super::*;
use crate::call::samples::{sample_events, sample_states};

const RULES: Rules = Rules {
    ask_name: true,
    consent: true,
    max_reprompts: 1,
    voicemail: VoicemailAction::LeaveMessage,
};

fn names(step: &Step) -> Vec<&'static str> {
    step.via
        .iter()
        .chain(std::iter::once(&step.state))
        .map(CallState::name)
        .collect()
}

#[test]
fn consent_yes_records_then_pitches_in_one_answer() {
    let step = advance(
        &CallState::Consent { attempts: 0 },
        &Event::Input(Intent::Yes),
        RULES,
    );
    assert_eq!(names(&step), ["record", "pitch", "gather"]);
    assert_eq!(
        step.effects,
        [
            Effect::RecordConsent(true),
            Effect::StartRecording,
            Effect::Ask(Prompt::Pitch)
        ]
    );
}

#[test]
fn no_path_but_consent_yes_starts_a_recording() {
    for state in sample_states() {
        for event in sample_events() {
            let step = advance(&state, &event, RULES);
            let records = step.effects.contains(&Effect::StartRecording);
            let allowed =
                matches!(state, CallState::Consent { .. }) && event == Event::Input(Intent::Yes);
            assert_eq!(records, allowed, "{state:?} + {event:?}");
        }
    }
}

#[test]
fn without_a_name_identification_and_consent_share_the_first_answer() {
    let rules = Rules {
        ask_name: false,
        ..RULES
    };
    let step = advance(
        &CallState::Ringing,
        &Event::Answered { machine: false },
        rules,
    );
    assert_eq!(names(&step), ["identify", "consent"]);
    assert_eq!(
        step.effects,
        [Effect::Say(Prompt::Intro), Effect::Ask(Prompt::Consent)]
    );
}

#[test]
fn silence_reprompts_once_then_counts_as_no() {
    let s1 = advance(
        &CallState::Consent { attempts: 0 },
        &Event::Input(Intent::Silence),
        RULES,
    );
    assert_eq!(s1.state, CallState::Consent { attempts: 1 });
    let s2 = advance(&s1.state, &Event::Input(Intent::Silence), RULES);
    assert_eq!(names(&s2), ["pitch", "gather"]);
    assert!(s2.effects.contains(&Effect::RecordConsent(false)));
}

#[test]
fn opt_out_from_every_conversational_state() {
    for state in [
        CallState::Identify { attempts: 0 },
        CallState::Consent { attempts: 0 },
        CallState::Gather { attempts: 1 },
    ] {
        let step = advance(&state, &Event::Input(Intent::OptOut), RULES);
        assert_eq!(
            step.state,
            CallState::Ended {
                disposition: Disposition::OptedOut
            }
        );
        assert_eq!(step.effects[0], Effect::AddToDoNotCall);
    }
}

#[test]
fn ended_is_final() {
    let ended = CallState::Ended {
        disposition: Disposition::Declined,
    };
    for event in sample_events() {
        let step = advance(&ended, &event, RULES);
        assert_eq!(step.state, ended);
        assert!(step.effects.is_empty());
    }
}

#[test]
fn stored_names_are_pinned() {
    let json = serde_json::to_string(&CallState::Gather { attempts: 1 }).unwrap();
    assert_eq!(json, r#"{"name":"gather","attempts":1}"#);
    let json = serde_json::to_string(&CallState::Ended {
        disposition: Disposition::NoAnswer,
    })
    .unwrap();
    assert_eq!(json, r#"{"name":"ended","disposition":"no_answer"}"#);
}

#[test]
fn completed_before_any_answer_is_an_answered_call_not_a_failure() {
    // Twilio's `completed` means the call connected and ended: it was picked up.
    for state in [CallState::Queued, CallState::Dialing, CallState::Ringing] {
        let step = advance(&state, &Event::Status(CallStatus::Completed), RULES);
        assert_eq!(
            step.state.disposition(),
            Some(Disposition::HungUp),
            "{state:?}"
        );
    }
    let failed = advance(
        &CallState::Ringing,
        &Event::Status(CallStatus::Failed),
        RULES,
    );
    assert_eq!(failed.state.disposition(), Some(Disposition::Failed));
}
