use super::*;
use crate::inbound::{CallReason, InboundPrompt, MenuPick};

const DEFAULT: &str = include_str!("../../flows/inbound_default.toml");

fn default_flow() -> InboundFlow {
    InboundFlow::parse("inbound_default", DEFAULT, "inbound_default.toml").expect("valid")
}

fn broken(from: &str, to: &str) -> FlowError {
    assert!(
        DEFAULT.contains(from),
        "fixture text '{from}' not in the default flow"
    );
    InboundFlow::parse("x", &DEFAULT.replacen(from, to, 1), "x.toml").unwrap_err()
}

#[test]
fn the_default_flow_loads_with_its_menu() {
    let flow = default_flow();
    assert_eq!(flow.options.len(), 7);
    assert_eq!(flow.ring_timeout_secs, 20);
    assert!(flow.transcribe);
}

#[test]
fn keys_and_speech_pick_options() {
    let flow = default_flow();
    assert_eq!(
        flow.pick(None, Some("1")),
        MenuPick::Forward(CallReason::SetupAppointment)
    );
    assert_eq!(
        flow.pick(Some("I need to cancel please"), None),
        MenuPick::Forward(CallReason::CancelAppointment)
    );
    assert_eq!(
        flow.pick(Some("what are your opening hours"), None),
        MenuPick::Info {
            option: 3,
            reason: CallReason::GetHours
        }
    );
    assert_eq!(
        flow.pick(None, Some("6")),
        MenuPick::Sms {
            option: 5,
            reason: CallReason::SetupAppointment
        }
    );
    assert_eq!(
        flow.pick(None, Some("0")),
        MenuPick::Voicemail(CallReason::Other)
    );
    assert_eq!(flow.pick(None, Some("8")), MenuPick::Unclear);
    assert_eq!(flow.pick(Some("banana"), None), MenuPick::Unclear);
    assert_eq!(flow.pick(Some("  "), Some("")), MenuPick::Silence);
}

#[test]
fn texts_fill_placeholders() {
    let flow = default_flow();
    let values = |name: &str| (name == "company").then(|| "Smith & Sons".to_string());
    assert_eq!(
        flow.text(InboundPrompt::Greeting, &values),
        "Thank you for calling Smith & Sons."
    );
    assert!(flow
        .text(InboundPrompt::Option(3), &values)
        .contains("Monday"));
    assert_eq!(
        flow.option_sms(5, &values).as_deref(),
        Some("Smith & Sons: book online at https://example.com/book")
    );
    assert_eq!(flow.option_sms(0, &values), None);
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (r#"key = "2""#, r#"key = "1""#, "options[1].key"),
        (r#"key = "2""#, r#"key = "22""#, "options[1].key"),
        (
            r#"reason = "get_pricing""#,
            r#"reason = "pricing""#,
            "options[4].reason",
        ),
        (
            r#"intent = '''(?i)\b(cancel)\b'''"#,
            r#"intent = '''(cancel'''"#,
            "options[1].intent",
        ),
        (
            "text = \"We have sent",
            "sms_text = \"We have sent",
            "line 75",
        ),
        ("kind = \"inbound\"", "kind = \"outbound\"", "kind"),
        (
            "ring_timeout_secs = 20",
            "ring_timeout_secs = 2",
            "ring_timeout_secs",
        ),
        ("goodbye = ", "farewell = ", "prompts.goodbye"),
        (
            "{company}: book online at {booking_link}",
            "{nope}",
            "options[5].sms",
        ),
        (
            "timeout_secs = 5",
            "timeout_secs = 0",
            "gather.timeout_secs",
        ),
    ];
    for (from, to, field) in cases {
        let e = broken(from, to);
        assert_eq!(e.field, field, "{from} -> {to}: {e}");
        assert_eq!(e.file, "x.toml");
    }
}

#[test]
fn a_say_option_needs_its_text_and_others_have_none() {
    let e = broken(
        "text = \"A standard appointment costs 50 dollars. We will confirm the price of anything else when you book.\"\n",
        "",
    );
    assert_eq!(e.field, "options[4].text");
    let e = broken(
        "action = \"voicemail\"\n",
        "action = \"voicemail\"\ntext = \"hi\"\n",
    );
    assert_eq!(e.field, "options[6].text");
}

#[test]
fn menu_prompts_need_a_menu() {
    let without_menu = DEFAULT[..DEFAULT.find("[[options]]").unwrap()].to_string();
    let e = InboundFlow::parse("x", &without_menu, "x.toml").unwrap_err();
    assert_eq!(e.field, "prompts.menu");
    let bare: String = without_menu
        .lines()
        .filter(|l| !l.starts_with("menu"))
        .map(|l| format!("{l}\n"))
        .collect();
    let flow = InboundFlow::parse("x", &bare, "x.toml").expect("a flow without a menu");
    assert!(!flow.rules(1, true, crate::inbound::Route::Forward).menu);
}
