use super::*;
use chrono::{Datelike, NaiveTime, TimeZone, Weekday};
use chrono_tz::{America, Pacific};
use proptest::prelude::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn rules() -> &'static Rules {
    Rules::shipped().expect("shipped rules parse")
}

fn target(to: &str) -> DialTarget<'_> {
    DialTarget {
        to,
        timezone: None,
        state: None,
        window: None,
    }
}

#[test]
fn callee_zone_explicit_then_prefix_then_country_then_default() {
    let default = chrono_tz::Europe::Lisbon;
    let mut t = target("+12125550100");
    assert_eq!(callee(&t, default).zones, [America::New_York]);
    t.timezone = Some(America::Chicago);
    assert_eq!(
        callee(&t, default).zones,
        [America::Chicago],
        "explicit wins"
    );
    // An area code the zone data does not know: every +1 zone, Guam to Adak.
    let unknown = callee(&target("+15555550100"), default).zones;
    for zone in [Pacific::Guam, Pacific::Honolulu, America::New_York] {
        assert!(unknown.contains(&zone), "{zone} missing from {unknown:?}");
    }
    assert!(!unknown.contains(&default));
    // No prefix at all: the configured default.
    assert_eq!(callee(&target("+99912345678"), default).zones, [default]);
}

#[test]
fn callee_state_explicit_then_area_code() {
    let default = America::New_York;
    assert_eq!(
        callee(&target("+13055550100"), default).state,
        Some(UsState::FL)
    );
    let mut moved = target("+13055550100");
    moved.state = Some(UsState::GA);
    assert_eq!(callee(&moved, default).state, Some(UsState::GA));
    let mut to_florida = target("+12125550100");
    to_florida.state = Some(UsState::FL);
    assert_eq!(callee(&to_florida, default).state, Some(UsState::FL));
    assert_eq!(callee(&target("+15555550100"), default).state, None);
}

#[test]
fn do_not_call_comes_first_then_time_then_cap() {
    let noon = utc(2026, 6, 10, 16, 0); // Wednesday 12:00 EDT
    let ny = Callee {
        zones: vec![America::New_York],
        state: None,
    };
    let reached = CapUse::Reached {
        until: utc(2026, 6, 11, 9, 0),
    };
    assert_eq!(
        decide(noon, &ny, None, true, CapUse::Under, rules()),
        GateDecision::DoNotCall
    );
    assert_eq!(
        decide(noon, &ny, None, false, CapUse::Under, rules()),
        GateDecision::Allowed
    );
    assert_eq!(
        decide(noon, &ny, None, false, reached, rules()),
        GateDecision::Held {
            reason: Hold::FrequencyCap,
            next_allowed_at: utc(2026, 6, 11, 9, 0)
        }
    );
    // Another call in progress: held until the gate looks again, and the
    // do-not-call list still comes first.
    let busy = CapUse::Busy {
        until: noon + TimeDelta::seconds(5),
    };
    assert_eq!(
        decide(noon, &ny, None, false, busy, rules()),
        GateDecision::Held {
            reason: Hold::CallInProgress,
            next_allowed_at: noon + TimeDelta::seconds(5)
        }
    );
    assert_eq!(
        decide(noon, &ny, None, true, busy, rules()),
        GateDecision::DoNotCall
    );
    assert_eq!(Hold::CallInProgress.as_str(), "call_in_progress");
    // 22:00 EDT: the clock holds it, whatever the cap says.
    let late = utc(2026, 6, 11, 2, 0);
    assert_eq!(
        decide(late, &ny, None, false, reached, rules()),
        GateDecision::Held {
            reason: Hold::OutsideWindow,
            next_allowed_at: utc(2026, 6, 11, 12, 0)
        }
    );
}

#[test]
fn florida_at_half_past_eight_waits_for_its_state_rule() {
    let at = utc(2026, 1, 15, 1, 30); // Wednesday 20:30 EST
    let florida = Callee {
        zones: vec![America::New_York],
        state: Some(UsState::FL),
    };
    assert_eq!(
        decide(at, &florida, None, false, CapUse::Under, rules()),
        GateDecision::Held {
            reason: Hold::StateRule(UsState::FL),
            next_allowed_at: utc(2026, 1, 15, 13, 0)
        }
    );
    let georgia = Callee {
        state: Some(UsState::GA),
        ..florida
    };
    assert_eq!(
        decide(at, &georgia, None, false, CapUse::Under, rules()),
        GateDecision::Allowed
    );
}

#[test]
fn unknown_area_code_waits_until_every_zone_allows() {
    let default = America::New_York;
    let all = callee(&target("+15555550100"), default);
    // 19:00 UTC: afternoon on the mainland, 05:00 tomorrow in Guam.
    let at = utc(2026, 1, 14, 19, 0);
    assert_eq!(
        decide(at, &all, None, false, CapUse::Under, rules()),
        GateDecision::Held {
            reason: Hold::OutsideWindow,
            next_allowed_at: utc(2026, 1, 14, 22, 0)
        }
    );
    assert_eq!(
        decide(
            utc(2026, 1, 14, 22, 0),
            &all,
            None,
            false,
            CapUse::Under,
            rules()
        ),
        GateDecision::Allowed
    );
}

#[test]
fn a_state_cap_stricter_than_the_setting_wins() {
    assert_eq!(dial_cap(5, Some(UsState::FL), rules()), 3);
    assert_eq!(dial_cap(2, Some(UsState::FL), rules()), 2);
    assert_eq!(dial_cap(5, Some(UsState::GA), rules()), 5);
    assert_eq!(dial_cap(5, None, rules()), 5);
}

const ZONES: [Tz; 12] = [
    America::New_York,
    America::Chicago,
    America::Denver,
    America::Phoenix,
    America::Los_Angeles,
    America::Anchorage,
    America::Adak,
    America::Puerto_Rico,
    America::St_Johns,
    Pacific::Honolulu,
    Pacific::Guam,
    Pacific::Pago_Pago,
];

/// A campaign window as generated: start and end hour, weekdays (Monday = bit 0).
#[derive(Debug, Clone, Copy)]
struct WindowParams {
    start: u32,
    end: u32,
    days: u8,
}

impl WindowParams {
    fn build(self) -> CampaignWindow {
        let days: Vec<Weekday> = (0..7u8)
            .filter(|d| self.days & (1 << d) != 0)
            .filter_map(|d| Weekday::try_from(d).ok())
            .collect();
        CampaignWindow::new(hour(self.start), hour(self.end), &days).expect("valid window")
    }

    fn allows(self, local: chrono::NaiveDateTime) -> bool {
        let day = local.weekday().num_days_from_monday();
        self.days & (1 << day) != 0
            && hour(self.start) <= local.time()
            && local.time() < hour(self.end)
    }
}

fn hour(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).unwrap()
}

/// The strictest window, read independently of the gate: federal hours, the
/// state's hours, days, holidays and statute clock, the campaign's window, in
/// every zone.
fn strictest_allows(
    at: DateTime<Utc>,
    callee: &Callee,
    window: Option<WindowParams>,
    rules: &Rules,
) -> bool {
    let rule_allows = |rule: &compliance::Rule, local: chrono::NaiveDateTime, holidays: bool| {
        rule.hours_on(local.weekday())
            .is_some_and(|h| h.start <= local.time() && local.time() < h.end)
            && !(holidays && rule.is_holiday(local.date()))
    };
    !callee.zones.is_empty()
        && callee.zones.iter().all(|zone| {
            let local = at.with_timezone(zone).naive_local();
            let state = callee.state.and_then(|s| rules.state(s));
            rule_allows(&rules.federal, local, true)
                && window.is_none_or(|w| w.allows(local))
                && state.is_none_or(|r| {
                    rule_allows(r, local, true)
                        && r.hours_clock.is_none_or(|off| {
                            rule_allows(r, at.with_timezone(&off).naive_local(), false)
                        })
                })
        })
}

fn arb_window() -> impl Strategy<Value = Option<WindowParams>> {
    proptest::option::of(
        (6u32..22, 1u32..8, 1u8..128).prop_map(|(start, len, days)| WindowParams {
            start,
            end: (start + len).min(23),
            days,
        }),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_allows_outside_the_strictest_window_over_the_cap_or_on_dnc(
        zones in proptest::sample::subsequence(ZONES.to_vec(), 1..4),
        state in proptest::option::of(proptest::sample::select(UsState::ALL.to_vec())),
        minutes in 0i64..(2 * 365 * 24 * 60),
        window in arb_window(),
        on_dnc in any::<bool>(),
        cap_reached in any::<bool>(),
    ) {
        let at = utc(2026, 1, 1, 0, 0) + TimeDelta::minutes(minutes);
        let callee = Callee { zones, state };
        let cap = if cap_reached {
            CapUse::Reached { until: at + TimeDelta::hours(3) }
        } else {
            CapUse::Under
        };
        let built = window.map(WindowParams::build);
        let decision = decide(at, &callee, built.as_ref(), on_dnc, cap, rules());
        match decision {
            GateDecision::Allowed => {
                prop_assert!(!on_dnc);
                prop_assert!(!cap_reached);
                prop_assert!(strictest_allows(at, &callee, window, rules()));
            }
            GateDecision::DoNotCall => prop_assert!(on_dnc),
            GateDecision::Held { reason, next_allowed_at } => {
                prop_assert!(!on_dnc);
                prop_assert!(next_allowed_at > at);
                if reason == Hold::FrequencyCap {
                    prop_assert!(cap_reached);
                    prop_assert!(strictest_allows(at, &callee, window, rules()));
                } else {
                    prop_assert!(!strictest_allows(at, &callee, window, rules()));
                    // The instant it names is open, unless nothing opens within the search.
                    prop_assert!(
                        strictest_allows(next_allowed_at, &callee, window, rules())
                            || next_allowed_at == at + TimeDelta::days(compliance::SEARCH_DAYS)
                    );
                }
                if let Hold::StateRule(s) = reason {
                    prop_assert_eq!(Some(s), state);
                }
            }
        }
    }
}
