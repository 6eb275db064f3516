use std::collections::BTreeMap;

use super::*;

fn confirmation() -> SmsTemplate {
    let text = include_str!("../../flows/sms/appointment_confirmation.toml");
    SmsTemplate::parse(
        "appointment_confirmation",
        text,
        "appointment_confirmation.toml",
    )
    .unwrap()
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_appointment_is_said_in_the_recipients_zone() {
    let t = confirmation();
    let at = vars(&[("appointment_at", "2026-01-16T20:30:00Z")]);
    let ny = t.render("Acme", &at, chrono_tz::America::New_York).unwrap();
    assert_eq!(
        ny,
        "Acme: your appointment at our office is confirmed for Friday, January 16 at 3:30 PM EST. Reply HELP for help, STOP to opt out."
    );
    let la = t
        .render("Acme", &at, chrono_tz::America::Los_Angeles)
        .unwrap();
    assert!(la.contains("Friday, January 16 at 12:30 PM PST"), "{la}");
    let with_place = vars(&[
        ("appointment_at", "2026-07-03T09:05:00-04:00"),
        ("location", "Main St"),
    ]);
    let summer = t
        .render("Acme", &with_place, chrono_tz::America::Chicago)
        .unwrap();
    assert!(
        summer.contains("at Main St is confirmed for Friday, July 3 at 8:05 AM CDT"),
        "{summer}"
    );
}

#[test]
fn render_errors_name_the_variable() {
    let t = confirmation();
    let zone = chrono_tz::UTC;
    let cases = [
        (vars(&[]), "variables.appointment_at"),
        (
            vars(&[("appointment_at", "tomorrow")]),
            "variables.appointment_at",
        ),
        (
            vars(&[("appointment_at", "2026-01-16T20:30:00")]),
            "variables.appointment_at",
        ),
        (
            vars(&[
                ("appointment_at", "2026-01-16T20:30:00Z"),
                ("colour", "red"),
            ]),
            "variables.colour",
        ),
        (
            vars(&[
                ("appointment_at", "2026-01-16T20:30:00Z"),
                ("location", &"x".repeat(1600)),
            ]),
            "body",
        ),
    ];
    for (given, field) in cases {
        let e = t.render("Acme", &given, zone).unwrap_err();
        assert_eq!(e.field, field, "{given:?}: {e}");
    }
}

#[test]
fn load_errors_name_file_and_field() {
    let bad = [
        ("body = \"\"", "body"),
        ("body = \"Hi {who}\"", "body"),
        (
            "body = \"Hi\"\nrequired = [\"company\"]",
            "variables.company",
        ),
        ("body = \"Hi\"\ncolour = 1", "-"),
    ];
    for (text, field) in bad {
        let e = SmsTemplate::parse("t", text, "t.toml").unwrap_err();
        assert_eq!(e.field, field, "{text}: {e}");
        assert!(e.to_string().starts_with("t.toml: "), "{e}");
    }
    assert!(SmsTemplate::parse("Bad-Name", "body = \"x\"", "x.toml").is_err());
}

#[test]
fn the_shipped_templates_load() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/flows/sms");
    let templates = Templates::load_dir(dir.as_ref()).unwrap();
    let ids: Vec<&str> = templates.ids().collect();
    assert_eq!(
        ids,
        [
            "appointment_confirmation",
            "appointment_reminder",
            "booking_follow_up"
        ]
    );
}
