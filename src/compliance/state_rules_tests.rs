use super::*;
use chrono::Datelike;

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

#[test]
fn shipped_rules_parse() {
    let rules = Rules::shipped().expect("rules/us.toml parses");
    let fed = rules.federal.hours_on(Weekday::Wed).unwrap();
    assert_eq!((fed.start, fed.end), (t(8, 0), t(21, 0)));
    assert!(rules.states().count() >= 15);
    for (state, rule) in rules.states() {
        assert!(!rule.citation.is_empty(), "{state} has no citation");
        assert!(!rule.note.is_empty(), "{state} has no note");
    }
}

#[test]
fn shipped_rules_carry_the_researched_restrictions() {
    let rules = Rules::shipped().unwrap();
    let fl = rules.state(UsState::FL).unwrap();
    assert_eq!(fl.hours_on(Weekday::Mon).unwrap().end, t(20, 0));
    assert_eq!(fl.max_calls_per_24h, Some(3));
    assert_eq!(rules.state(UsState::OK).unwrap().max_calls_per_24h, Some(3));
    assert_eq!(rules.state(UsState::MD).unwrap().max_calls_per_24h, Some(3));
    let al = rules.state(UsState::AL).unwrap();
    assert_eq!(al.hours_on(Weekday::Sun), None);
    assert!(al.is_holiday(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()));
    let tx = rules.state(UsState::TX).unwrap();
    assert_eq!(tx.hours_on(Weekday::Sun).unwrap().start, t(12, 0));
    assert_eq!(
        rules.state(UsState::MS).unwrap().hours_clock,
        FixedOffset::west_opt(6 * 3600)
    );
    assert!(rules.state(UsState::GA).is_none());
    // Holiday dates are listed per year: every state with holidays must cover both
    // years the file promises, so a missing year shows up here.
    for (state, rule) in rules.states().filter(|(_, r)| !r.holidays.is_empty()) {
        for year in [2026, 2027] {
            assert!(
                rule.holiday_dates().iter().any(|d| d.year() == year),
                "{state} has no holiday dates for {year}"
            );
        }
    }
}

const MINIMAL: &str = r#"
[federal]
name = "Federal"
citation = "47 CFR 64.1200(c)(1)"
note = "n"
confirmed = true
hours = { start = "08:00", end = "21:00" }
"#;

fn with_state(body: &str) -> String {
    format!("{MINIMAL}\n[states.FL]\nname = \"F\"\ncitation = \"c\"\nnote = \"n\"\nconfirmed = true\n{body}\n")
}

#[test]
fn bad_files_are_typed_errors() {
    assert!(Rules::parse(MINIMAL).is_ok());
    assert!(matches!(
        Rules::parse("federal = 1"),
        Err(RulesError::Syntax(_))
    ));
    let bad_time = with_state(r#"hours = { start = "8am", end = "20:00" }"#);
    assert!(matches!(
        Rules::parse(&bad_time),
        Err(RulesError::BadTime { .. })
    ));
    let empty = with_state(r#"hours = { start = "20:00", end = "08:00" }"#);
    assert!(matches!(
        Rules::parse(&empty),
        Err(RulesError::EmptyWindow { .. })
    ));
    let day =
        with_state("hours = { start = \"08:00\", end = \"20:00\" }\nno_call_days = [\"sunday\"]");
    assert!(matches!(
        Rules::parse(&day),
        Err(RulesError::BadWeekday { .. })
    ));
    let date = with_state("hours = { start = \"08:00\", end = \"20:00\" }\nholidays = [{ name = \"x\", dates = [\"2026-13-01\"] }]");
    assert!(matches!(
        Rules::parse(&date),
        Err(RulesError::BadDate { .. })
    ));
    let clock = with_state("hours = { start = \"08:00\", end = \"20:00\" }\nhours_clock = \"CST\"");
    assert!(matches!(
        Rules::parse(&clock),
        Err(RulesError::BadOffset { .. })
    ));
    let cap = with_state("hours = { start = \"08:00\", end = \"20:00\" }\nmax_calls_per_24h = 0");
    assert!(matches!(
        Rules::parse(&cap),
        Err(RulesError::ZeroCap { .. })
    ));
    let typo =
        with_state("hours = { start = \"08:00\", end = \"20:00\" }\nno_cal_days = [\"sun\"]");
    assert!(matches!(Rules::parse(&typo), Err(RulesError::Syntax(_))));
    let state = with_state("hours = { start = \"08:00\", end = \"20:00\" }")
        .replace("states.FL", "states.PR");
    assert_eq!(
        Rules::parse(&state),
        Err(RulesError::UnknownState("PR".into()))
    );
}
