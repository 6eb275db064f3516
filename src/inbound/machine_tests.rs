use super::*;
use crate::inbound::{CallReason, DialOutcome, InboundDisposition as D, InboundEffect as E};

fn rules(route: Route) -> InboundRules {
    InboundRules {
        menu: false,
        max_reprompts: 1,
        legs: 1,
        voicemail: true,
        route,
    }
}

fn menu_rules() -> InboundRules {
    InboundRules {
        menu: true,
        ..rules(Route::Forward)
    }
}

fn run(
    mut state: InboundState,
    events: &[InboundEvent],
    rules: InboundRules,
) -> (InboundState, Vec<E>) {
    let mut effects = Vec::new();
    for event in events {
        let step = advance(&state, event, rules);
        effects.extend(step.effects);
        state = step.state;
    }
    (state, effects)
}

fn ended(d: D) -> InboundState {
    InboundState::Ended { disposition: d }
}

#[test]
fn in_hours_without_menu_rings_the_business_and_an_answer_ends_answered() {
    let r = rules(Route::Forward);
    let step = advance(&InboundState::Ringing, &InboundEvent::Incoming, r);
    assert_eq!(step.state, InboundState::Forwarding { leg: 0 });
    assert_eq!(step.via, vec![InboundState::Greeting]);
    assert_eq!(
        step.effects,
        vec![
            E::Say(InboundPrompt::Greeting),
            E::Say(InboundPrompt::Connecting),
            E::Forward { leg: 0 }
        ]
    );
    let (state, effects) = run(
        step.state,
        &[InboundEvent::DialEnded(DialOutcome::Answered)],
        r,
    );
    assert_eq!(state, ended(D::Answered));
    assert_eq!(effects, vec![E::Hangup]);
}

#[test]
fn a_missed_forward_texts_the_caller_once_and_takes_a_message() {
    for outcome in [
        DialOutcome::Busy,
        DialOutcome::NoAnswer,
        DialOutcome::Failed,
    ] {
        let (state, effects) = run(
            InboundState::Ringing,
            &[
                InboundEvent::Incoming,
                InboundEvent::DialEnded(outcome),
                InboundEvent::Recorded { seconds: 12 },
            ],
            rules(Route::Forward),
        );
        assert_eq!(state, ended(D::Voicemail), "{outcome:?}");
        assert_eq!(
            effects.iter().filter(|e| **e == E::TextMissedCall).count(),
            1
        );
        assert!(effects.contains(&E::Record));
    }
}

#[test]
fn sequential_legs_ring_in_turn_before_voicemail() {
    let r = InboundRules {
        legs: 3,
        ..rules(Route::Forward)
    };
    let (state, effects) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::DialEnded(DialOutcome::NoAnswer),
            InboundEvent::DialEnded(DialOutcome::Busy),
        ],
        r,
    );
    assert_eq!(state, InboundState::Forwarding { leg: 2 });
    assert!(effects.contains(&E::Forward { leg: 1 }) && effects.contains(&E::Forward { leg: 2 }));
    assert!(!effects.contains(&E::TextMissedCall));
    let (state, _) = run(state, &[InboundEvent::DialEnded(DialOutcome::Answered)], r);
    assert_eq!(state, ended(D::Answered));
}

#[test]
fn out_of_hours_takes_a_message_or_says_closed() {
    let (state, effects) = run(
        InboundState::Ringing,
        &[InboundEvent::Incoming],
        rules(Route::Voicemail),
    );
    assert_eq!(state, InboundState::Voicemail { after_miss: false });
    assert_eq!(
        effects,
        vec![
            E::Say(InboundPrompt::Greeting),
            E::Say(InboundPrompt::Closed),
            E::Say(InboundPrompt::Voicemail),
            E::Record
        ]
    );
    let (state, effects) = run(
        InboundState::Ringing,
        &[InboundEvent::Incoming],
        rules(Route::Closed),
    );
    assert_eq!(state, ended(D::Missed));
    assert!(effects.contains(&E::TextMissedCall) && effects.ends_with(&[E::Hangup]));
    let (state, _) = run(
        InboundState::Ringing,
        &[InboundEvent::Incoming],
        rules(Route::AfterHoursForward),
    );
    assert_eq!(state, InboundState::Forwarding { leg: 0 });
}

#[test]
fn an_empty_recording_is_missed_and_texts_once() {
    let (state, effects) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::Recorded { seconds: 0 },
        ],
        rules(Route::Voicemail),
    );
    assert_eq!(state, ended(D::Missed));
    assert_eq!(
        effects.iter().filter(|e| **e == E::TextMissedCall).count(),
        1
    );
    // After a missed forward the text went out already.
    let (state, effects) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::DialEnded(DialOutcome::NoAnswer),
            InboundEvent::HungUp,
        ],
        rules(Route::Forward),
    );
    assert_eq!(state, ended(D::Missed));
    assert_eq!(
        effects.iter().filter(|e| **e == E::TextMissedCall).count(),
        1
    );
}

#[test]
fn menu_options_tag_the_reason_and_route() {
    let r = menu_rules();
    let (state, effects) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::Menu(MenuPick::Forward(CallReason::SetupAppointment)),
        ],
        r,
    );
    assert_eq!(state, InboundState::Forwarding { leg: 0 });
    assert!(effects.contains(&E::Reason(CallReason::SetupAppointment)));

    let (state, effects) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::Menu(MenuPick::Info {
                option: 2,
                reason: CallReason::GetHours,
            }),
            InboundEvent::HungUp,
        ],
        r,
    );
    assert_eq!(state, ended(D::MenuInfo));
    assert!(effects.contains(&E::Say(InboundPrompt::Option(2))));

    let (state, effects) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::Menu(MenuPick::Sms {
                option: 4,
                reason: CallReason::SetupAppointment,
            }),
        ],
        r,
    );
    assert_eq!(
        state,
        InboundState::Menu {
            attempts: 0,
            informed: true
        }
    );
    assert!(effects.contains(&E::SendOptionSms { option: 4 }));

    let (state, _) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::Menu(MenuPick::Voicemail(CallReason::Other)),
        ],
        r,
    );
    assert_eq!(state, InboundState::Voicemail { after_miss: false });
}

#[test]
fn a_forward_choice_out_of_hours_takes_a_message() {
    let r = InboundRules {
        route: Route::Voicemail,
        ..menu_rules()
    };
    let (state, _) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::Menu(MenuPick::Forward(CallReason::ModifyAppointment)),
        ],
        r,
    );
    assert_eq!(state, InboundState::Voicemail { after_miss: false });
}

#[test]
fn silence_at_the_menu_reprompts_then_routes() {
    let r = menu_rules();
    let (state, effects) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::Menu(MenuPick::Silence),
        ],
        r,
    );
    assert_eq!(
        state,
        InboundState::Menu {
            attempts: 1,
            informed: false
        }
    );
    assert_eq!(effects.last(), Some(&E::Ask(InboundPrompt::MenuReprompt)));
    let (state, _) = run(state, &[InboundEvent::Menu(MenuPick::Unclear)], r);
    assert_eq!(state, InboundState::Forwarding { leg: 0 });
}

#[test]
fn hanging_up_before_anyone_is_reached_is_abandoned() {
    for events in [
        vec![InboundEvent::HungUp],
        vec![InboundEvent::Incoming, InboundEvent::HungUp],
        vec![
            InboundEvent::Incoming,
            InboundEvent::DialEnded(DialOutcome::Canceled),
        ],
    ] {
        let r = if events.len() == 2 && events[1] == InboundEvent::HungUp {
            menu_rules()
        } else {
            rules(Route::Forward)
        };
        let (state, _) = run(InboundState::Ringing, &events, r);
        assert_eq!(state, ended(D::Abandoned), "{events:?}");
    }
}

#[test]
fn late_facts_correct_a_guess_from_the_status_callback() {
    let r = rules(Route::Forward);
    // The status callback beat the dial action of a forward that was answered.
    let (state, _) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::HungUp,
            InboundEvent::DialEnded(DialOutcome::Answered),
        ],
        r,
    );
    assert_eq!(state, ended(D::Answered));
    // ... or the record action of a message left.
    let (state, _) = run(
        InboundState::Ringing,
        &[
            InboundEvent::Incoming,
            InboundEvent::HungUp,
            InboundEvent::Recorded { seconds: 30 },
        ],
        rules(Route::Voicemail),
    );
    assert_eq!(state, ended(D::Voicemail));
}

#[test]
fn nothing_else_moves_an_ended_call() {
    let events = [
        InboundEvent::Incoming,
        InboundEvent::Menu(MenuPick::Silence),
        InboundEvent::DialEnded(DialOutcome::NoAnswer),
        InboundEvent::DialEnded(DialOutcome::Answered),
        InboundEvent::Recorded { seconds: 5 },
        InboundEvent::HungUp,
        InboundEvent::Proceed,
    ];
    for d in [D::Answered, D::Voicemail, D::MenuInfo] {
        for e in &events {
            let step = advance(&ended(d), e, rules(Route::Forward));
            assert_eq!(step.state, ended(d), "{d:?} {e:?}");
        }
    }
}

#[test]
fn stored_names_are_pinned() {
    let json = serde_json::to_string(&InboundState::Menu {
        attempts: 1,
        informed: true,
    })
    .unwrap();
    assert_eq!(json, r#"{"name":"menu","attempts":1,"informed":true}"#);
    let json = serde_json::to_string(&ended(D::MenuInfo)).unwrap();
    assert_eq!(json, r#"{"name":"ended","disposition":"menu_info"}"#);
}
