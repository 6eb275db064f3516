//! One reviewed snapshot of the TwiML for every transition of the inbound
//! machine with the default inbound flow: in hours, out of hours, answered,
//! no-answer, busy, each menu option, voicemail recorded, caller hung up.

use callflow::flow::InboundFlow;
use callflow::inbound::{
    advance, legs, DialOutcome, InboundEvent, InboundRules, InboundState, MenuPick, RingStrategy,
    Ringee, Route,
};
use callflow::render_inbound::{InboundCall, InboundRenderer};

fn flow() -> InboundFlow {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/flows/inbound_default.toml");
    InboundFlow::load(path.as_ref()).expect("default inbound flow is valid")
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

fn people() -> Vec<Ringee> {
    ["+15550000101", "+15550000102"]
        .map(Ringee::number)
        .to_vec()
}

fn event_name(event: &InboundEvent) -> String {
    match event {
        InboundEvent::Incoming => "incoming".into(),
        InboundEvent::Menu(pick) => format!("menu:{}", pick_name(pick)),
        InboundEvent::DialEnded(o) => format!("dial:{o:?}").to_lowercase(),
        InboundEvent::Recorded { seconds } => format!("recorded:{seconds}s"),
        InboundEvent::HungUp => "hung_up".into(),
        InboundEvent::Proceed => "proceed".into(),
    }
}

fn pick_name(pick: &MenuPick) -> String {
    match pick {
        MenuPick::Forward(r) => format!("forward({})", r.as_str()),
        MenuPick::Voicemail(r) => format!("voicemail({})", r.as_str()),
        MenuPick::Info { option, reason } => format!("say{option}({})", reason.as_str()),
        MenuPick::Sms { option, reason } => format!("sms{option}({})", reason.as_str()),
        MenuPick::Unclear => "unclear".into(),
        MenuPick::Silence => "silence".into(),
    }
}

/// One transition as the snapshot shows it: what happened, the effects that
/// are not TwiML (texts, reasons), then the TwiML.
fn transition(
    flow: &InboundFlow,
    state: &InboundState,
    event: &InboundEvent,
    rules: InboundRules,
    strategy: RingStrategy,
) -> String {
    let step = advance(state, event, rules);
    let path: Vec<&str> = step
        .via
        .iter()
        .chain(std::iter::once(&step.state))
        .map(InboundState::name)
        .collect();
    let disposition = step
        .state
        .disposition()
        .map(|d| format!(" ({})", d.as_str()))
        .unwrap_or_default();
    let side: Vec<String> = step
        .effects
        .iter()
        .filter(|e| {
            !matches!(
                e,
                callflow::inbound::InboundEffect::Say(_)
                    | callflow::inbound::InboundEffect::Ask(_)
                    | callflow::inbound::InboundEffect::Forward { .. }
                    | callflow::inbound::InboundEffect::Record
                    | callflow::inbound::InboundEffect::Hangup
            )
        })
        .map(|e| format!("{e:?}"))
        .collect();
    let legs = legs(strategy, &people(), 0);
    let call = InboundCall {
        call_id: "1nb0und",
        turn: 2,
        // An awkward name on purpose: every snapshot shows it escaped.
        company: "Smith & <Sons>",
        called: "+15550001111",
        legs: &legs,
        voicemail_greeting: None,
    };
    let renderer = InboundRenderer {
        public_base_url: "https://calls.example.com".into(),
    };
    format!(
        "{} + {} -> {}{}\nside effects: {}\n\n{}",
        state.name(),
        event_name(event),
        path.join(" -> "),
        disposition,
        if side.is_empty() {
            "none".to_string()
        } else {
            side.join(", ")
        },
        renderer.render(flow, &call, &step.effects)
    )
}

#[test]
fn inbound_twiml_of_every_transition() {
    use callflow::inbound::CallReason as R;
    use InboundEvent as E;
    use InboundState as S;
    let flow = flow();
    let menu = flow.rules(1, true, Route::Forward);
    let plain = InboundRules {
        menu: false,
        ..menu
    };
    let sequential = InboundRules { legs: 2, ..plain };
    let menu0 = S::Menu {
        attempts: 0,
        informed: false,
    };
    let menu1 = S::Menu {
        attempts: 1,
        informed: false,
    };
    let informed = S::Menu {
        attempts: 1,
        informed: true,
    };
    let simultaneous = RingStrategy::Simultaneous;
    #[rustfmt::skip]
    let cases: Vec<(&str, S, E, InboundRules, RingStrategy)> = vec![
        ("in_hours_menu", S::Ringing, E::Incoming, menu, simultaneous),
        ("in_hours_no_menu", S::Ringing, E::Incoming, plain, simultaneous),
        ("in_hours_sequential", S::Ringing, E::Incoming, sequential, RingStrategy::Sequential),
        ("after_hours_forward", S::Ringing, E::Incoming, InboundRules { route: Route::AfterHoursForward, ..plain }, simultaneous),
        ("out_of_hours_voicemail", S::Ringing, E::Incoming, InboundRules { route: Route::Voicemail, ..plain }, simultaneous),
        ("out_of_hours_closed", S::Ringing, E::Incoming, InboundRules { route: Route::Closed, voicemail: false, ..plain }, simultaneous),
        ("menu_forward", menu0.clone(), E::Menu(MenuPick::Forward(R::SetupAppointment)), menu, simultaneous),
        ("menu_forward_out_of_hours", menu0.clone(), E::Menu(MenuPick::Forward(R::CancelAppointment)), InboundRules { route: Route::Voicemail, ..menu }, simultaneous),
        ("menu_voicemail", menu0.clone(), E::Menu(MenuPick::Voicemail(R::Other)), menu, simultaneous),
        ("menu_hours", menu0.clone(), E::Menu(MenuPick::Info { option: 3, reason: R::GetHours }), menu, simultaneous),
        ("menu_pricing", menu0.clone(), E::Menu(MenuPick::Info { option: 4, reason: R::GetPricing }), menu, simultaneous),
        ("menu_sms_link", menu0.clone(), E::Menu(MenuPick::Sms { option: 5, reason: R::SetupAppointment }), menu, simultaneous),
        ("menu_unclear", menu0.clone(), E::Menu(MenuPick::Unclear), menu, simultaneous),
        ("menu_silence_exhausted", menu1.clone(), E::Menu(MenuPick::Silence), menu, simultaneous),
        ("menu_silence_after_info", informed.clone(), E::Menu(MenuPick::Silence), menu, simultaneous),
        ("menu_hung_up", menu0.clone(), E::HungUp, menu, simultaneous),
        ("menu_hung_up_after_info", informed, E::HungUp, menu, simultaneous),
        ("forward_answered", S::Forwarding { leg: 0 }, E::DialEnded(DialOutcome::Answered), plain, simultaneous),
        ("forward_no_answer", S::Forwarding { leg: 0 }, E::DialEnded(DialOutcome::NoAnswer), plain, simultaneous),
        ("forward_busy", S::Forwarding { leg: 0 }, E::DialEnded(DialOutcome::Busy), plain, simultaneous),
        ("forward_failed_no_voicemail", S::Forwarding { leg: 0 }, E::DialEnded(DialOutcome::Failed), InboundRules { voicemail: false, ..plain }, simultaneous),
        ("forward_next_leg", S::Forwarding { leg: 0 }, E::DialEnded(DialOutcome::NoAnswer), sequential, RingStrategy::Sequential),
        ("forward_canceled", S::Forwarding { leg: 0 }, E::DialEnded(DialOutcome::Canceled), plain, simultaneous),
        ("forward_hung_up", S::Forwarding { leg: 0 }, E::HungUp, plain, simultaneous),
        ("voicemail_recorded", S::Voicemail { after_miss: true }, E::Recorded { seconds: 14 }, plain, simultaneous),
        ("voicemail_empty", S::Voicemail { after_miss: false }, E::Recorded { seconds: 0 }, plain, simultaneous),
        ("voicemail_hung_up", S::Voicemail { after_miss: false }, E::HungUp, plain, simultaneous),
        ("late_recording", S::Ended { disposition: callflow::inbound::InboundDisposition::Missed }, E::Recorded { seconds: 9 }, plain, simultaneous),
        ("late_answer", S::Ended { disposition: callflow::inbound::InboundDisposition::Abandoned }, E::DialEnded(DialOutcome::Answered), plain, simultaneous),
        ("hung_up_before_greeting", S::Ringing, E::HungUp, plain, simultaneous),
    ];
    settings().bind(|| {
        for (label, state, event, rules, strategy) in &cases {
            let text = transition(&flow, state, event, *rules, *strategy);
            insta::assert_snapshot!(format!("inbound__{label}"), text);
        }
    });
    assert_eq!(cases.len(), 30);
}
