//! Unit tests of `file.rs`.

use super::*;
use crate::call::Intent;
use crate::flow::schema::placeholders;

const DEFAULT: &str = include_str!("../../flows/outbound_booking.toml");

fn flow() -> Flow {
    Flow::parse("outbound_booking", DEFAULT, "flows/outbound_booking.toml").unwrap()
}

#[test]
fn default_flow_is_valid_and_versioned() {
    let f = flow();
    assert_eq!(f.version.len(), 16);
    assert_eq!(f.version, version_of(DEFAULT));
    assert_ne!(f.version, version_of(&format!("{DEFAULT}\n# edit")));
}

#[test]
fn intents_classify_speech_and_keys() {
    let i = flow().intents;
    let c = |s: &str| i.classify(Some(s), None);
    assert_eq!(c("yes"), Intent::Yes);
    assert_eq!(c("Yeah, that's me"), Intent::Yes);
    assert_eq!(c("sure, go ahead"), Intent::Yes);
    assert_eq!(c("no"), Intent::No);
    assert_eq!(c("No thanks, not interested"), Intent::No);
    assert_eq!(c("no, you have the wrong number"), Intent::No);
    for phrase in [
        "stop",
        "Please remove me from your list",
        "do not call me again",
        "don't call me",
        "take me off your list",
        "unsubscribe",
        "I want to opt out",
        "no, stop calling",
    ] {
        assert_eq!(c(phrase), Intent::OptOut, "{phrase}");
    }
    assert_eq!(c("what is this about"), Intent::Unclear);
    assert_eq!(
        c("nobody"),
        Intent::Unclear,
        "words containing 'no' are not a no"
    );
    assert_eq!(c("yesterday"), Intent::Unclear);
    assert_eq!(c("  "), Intent::Silence);
    assert_eq!(i.classify(None, None), Intent::Silence);
    assert_eq!(i.classify(None, Some("1")), Intent::Yes);
    assert_eq!(i.classify(None, Some("2")), Intent::No);
    assert_eq!(i.classify(None, Some("9")), Intent::OptOut);
    assert_eq!(i.classify(Some("yes"), Some("5")), Intent::Unclear);
}

#[test]
fn renders_placeholders() {
    let f = flow();
    let text = f.render(Prompt::Intro, &|name| match name {
        "company" => Some("Smith & <Sons>".into()),
        "purpose" => Some("about your booking".into()),
        _ => None,
    });
    assert!(text.contains("Smith & <Sons>"), "{text}");
    assert!(!text.contains('{'), "{text}");
}

fn with(find: &str, replace: &str) -> Result<Flow, FlowError> {
    assert!(DEFAULT.contains(find), "{find}");
    Flow::parse("t", &DEFAULT.replacen(find, replace, 1), "flows/t.toml")
}

#[test]
fn rejects_bad_regex_unknown_placeholder_and_missing_prompt() {
    let e = with("yes = '''", "yes = '''(unclosed").unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.field.as_str()),
        ("flows/t.toml", "intents.yes")
    );
    assert!(e.reason.contains("invalid regex"), "{e}");

    let e = with("intro = \"", "intro = \"{nope} ").unwrap_err();
    assert_eq!(e.field, "prompts.intro");
    assert!(e.reason.contains("unknown placeholder '{nope}'"), "{e}");

    let e = with("pitch_reprompt = ", "not_a_prompt = ").unwrap_err();
    assert!(e.field.starts_with("prompts."), "{e}");

    let e = with(
        "machine_detection = \"DetectMessageEnd\"",
        "machine_detection = \"Maybe\"",
    )
    .unwrap_err();
    assert_eq!(e.field, "machine_detection");

    let e = Flow::parse("Bad Id", DEFAULT, "x").unwrap_err();
    assert_eq!(e.field, "id");
    let e = Flow::parse("t", "voice = 3", "x").unwrap_err();
    assert!(e.field.starts_with("line"), "{e}");
}

#[test]
fn placeholder_syntax() {
    assert_eq!(placeholders("a {b} c {d_1}").unwrap(), vec!["b", "d_1"]);
    assert!(placeholders("a {b").is_err());
    assert!(placeholders("a } b").is_err());
    assert!(placeholders("a {b c}").is_err());
}
