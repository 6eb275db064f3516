use super::*;
use chrono::TimeZone;
use chrono_tz::America::{Chicago, New_York};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn rules() -> &'static Rules {
    Rules::shipped().expect("shipped rules parse")
}

fn held(reason: HoldReason, next: DateTime<Utc>) -> Decision {
    Decision::Held {
        reason,
        next_allowed_at: next,
    }
}

fn state_rule(state: UsState) -> HoldReason {
    HoldReason::StateRule { state }
}

#[test]
fn florida_at_half_past_eight_is_held_by_its_state_rule() {
    // Wednesday 2026-06-10 20:30 EDT.
    let at = utc(2026, 6, 11, 0, 30);
    assert_eq!(
        decide(at, New_York, Some(UsState::FL), None, rules()),
        held(state_rule(UsState::FL), utc(2026, 6, 11, 12, 0))
    );
    // Georgia has no rule of its own: federal hours allow 20:30.
    assert_eq!(
        decide(at, New_York, Some(UsState::GA), None, rules()),
        Decision::Allowed
    );
    assert_eq!(decide(at, New_York, None, None, rules()), Decision::Allowed);
}

#[test]
fn federal_hours_hold_every_state() {
    // 07:30 EDT: federal hours and Florida's both say no; federal is the reason.
    let at = utc(2026, 6, 10, 11, 30);
    assert_eq!(
        decide(at, New_York, Some(UsState::FL), None, rules()),
        held(HoldReason::OutsideWindow, utc(2026, 6, 10, 12, 0))
    );
}

#[test]
fn sunday_ban_waits_for_monday() {
    // Sunday 2026-06-14 10:00 CDT in Alabama.
    let at = utc(2026, 6, 14, 15, 0);
    assert_eq!(
        decide(at, Chicago, Some(UsState::AL), None, rules()),
        held(state_rule(UsState::AL), utc(2026, 6, 15, 13, 0))
    );
    // Texas allows Sunday calls from noon only.
    assert_eq!(
        decide(at, Chicago, Some(UsState::TX), None, rules()),
        held(state_rule(UsState::TX), utc(2026, 6, 14, 17, 0))
    );
}

#[test]
fn holiday_weekend_waits_past_the_holiday_and_the_sunday() {
    // Friday 2026-07-03 (Independence Day observed) 10:00 CDT in Alabama: Saturday is
    // the holiday itself and Sunday is banned, so Monday 08:00 CDT.
    let at = utc(2026, 7, 3, 15, 0);
    assert_eq!(
        decide(at, Chicago, Some(UsState::AL), None, rules()),
        held(state_rule(UsState::AL), utc(2026, 7, 6, 13, 0))
    );
    // Christmas Day in Louisiana.
    let at = utc(2026, 12, 25, 18, 0);
    assert_eq!(
        decide(at, Chicago, Some(UsState::LA), None, rules()),
        held(state_rule(UsState::LA), utc(2026, 12, 26, 14, 0))
    );
}

#[test]
fn spring_forward_and_fall_back_in_new_york() {
    // 2026-03-08 01:00 EST, before clocks jump: opens at 08:00 EDT = 12:00 UTC.
    let at = utc(2026, 3, 8, 6, 0);
    assert_eq!(
        decide(at, New_York, None, None, rules()),
        held(HoldReason::OutsideWindow, utc(2026, 3, 8, 12, 0))
    );
    // 2026-11-01 01:30 EDT, before clocks fall back: opens at 08:00 EST = 13:00 UTC.
    let at = utc(2026, 11, 1, 5, 30);
    assert_eq!(
        decide(at, New_York, None, None, rules()),
        held(HoldReason::OutsideWindow, utc(2026, 11, 1, 13, 0))
    );
    // Evening of the fall-back day: 20:59 EST allowed, 21:00 EST held.
    assert_eq!(
        decide(utc(2026, 11, 2, 1, 59), New_York, None, None, rules()),
        Decision::Allowed
    );
    assert_eq!(
        decide(utc(2026, 11, 2, 2, 0), New_York, None, None, rules()),
        held(HoldReason::OutsideWindow, utc(2026, 11, 2, 13, 0))
    );
}

#[test]
fn spring_forward_and_fall_back_sundays_in_texas() {
    // Sunday 2026-03-08 10:00 CDT: Texas opens at noon CDT = 17:00 UTC.
    assert_eq!(
        decide(
            utc(2026, 3, 8, 15, 0),
            Chicago,
            Some(UsState::TX),
            None,
            rules()
        ),
        held(state_rule(UsState::TX), utc(2026, 3, 8, 17, 0))
    );
    // Sunday 2026-11-01 11:00 CST: noon CST = 18:00 UTC.
    assert_eq!(
        decide(
            utc(2026, 11, 1, 17, 0),
            Chicago,
            Some(UsState::TX),
            None,
            rules()
        ),
        held(state_rule(UsState::TX), utc(2026, 11, 1, 18, 0))
    );
}

#[test]
fn mississippi_hours_hold_on_central_standard_time_too() {
    // Tuesday 2026-06-09 08:30 CDT = 07:30 CST: held until 08:00 CST = 09:00 CDT.
    assert_eq!(
        decide(
            utc(2026, 6, 9, 13, 30),
            Chicago,
            Some(UsState::MS),
            None,
            rules()
        ),
        held(state_rule(UsState::MS), utc(2026, 6, 9, 14, 0))
    );
    // 20:30 CDT: still held by local time, next morning 09:00 CDT.
    assert_eq!(
        decide(
            utc(2026, 6, 10, 1, 30),
            Chicago,
            Some(UsState::MS),
            None,
            rules()
        ),
        held(state_rule(UsState::MS), utc(2026, 6, 10, 14, 0))
    );
    // In winter both clocks agree: 08:00 CST.
    assert_eq!(
        decide(
            utc(2026, 1, 13, 14, 0),
            Chicago,
            Some(UsState::MS),
            None,
            rules()
        ),
        Decision::Allowed
    );
}

#[test]
fn campaign_window_is_applied_in_local_time() {
    let nine = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
    let five = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let window = CampaignWindow::new(nine, five, &weekdays).unwrap();
    // Saturday 2026-06-13 11:00 EDT: wait for Monday 10:00 EDT.
    assert_eq!(
        decide(
            utc(2026, 6, 13, 15, 0),
            New_York,
            None,
            Some(&window),
            rules()
        ),
        held(HoldReason::OutsideWindow, utc(2026, 6, 15, 14, 0))
    );
    // A Florida Friday afternoon inside the window is allowed.
    assert_eq!(
        decide(
            utc(2026, 6, 12, 18, 0),
            New_York,
            Some(UsState::FL),
            Some(&window),
            rules()
        ),
        Decision::Allowed
    );
    assert_eq!(
        CampaignWindow::new(five, nine, &weekdays),
        Err(WindowError::Empty {
            start: five,
            end: nine
        })
    );
    assert_eq!(
        CampaignWindow::new(nine, five, &[]),
        Err(WindowError::NoDays)
    );
}

/// Every zone libphonenumber gives the bare +1 country code.
fn plus_one_zones() -> Vec<Tz> {
    let map = include_str!("../../data/libphonenumber-timezones-map_data.txt");
    let line = map
        .lines()
        .find(|l| l.starts_with("1|"))
        .expect("a +1 line");
    line[2..]
        .split('&')
        .map(|z| z.parse().expect("a known zone"))
        .collect()
}

#[test]
fn unknown_plus_one_area_code_is_callable_only_a_few_hours_a_day() {
    let zones = plus_one_zones();
    assert!(zones.contains(&chrono_tz::Pacific::Guam));
    assert!(zones.contains(&chrono_tz::Pacific::Honolulu));
    // Winter: Guam opens at 22:00 UTC; St. John's (UTC-3:30) closes at 00:30 UTC.
    let noon = utc(2026, 1, 14, 12, 0);
    assert_eq!(
        decide_all_zones(noon, &zones, None, None, rules()),
        held(HoldReason::OutsideWindow, utc(2026, 1, 14, 22, 0))
    );
    assert_eq!(
        decide_all_zones(utc(2026, 1, 14, 23, 0), &zones, None, None, rules()),
        Decision::Allowed
    );
    assert_eq!(
        decide_all_zones(utc(2026, 1, 15, 0, 30), &zones, None, None, rules()),
        held(HoldReason::OutsideWindow, utc(2026, 1, 15, 22, 0))
    );
    // Summer: St. John's is UTC-2:30, so only 22:00 to 23:30 UTC remain.
    assert_eq!(
        decide_all_zones(utc(2026, 7, 15, 23, 30), &zones, None, None, rules()),
        held(HoldReason::OutsideWindow, utc(2026, 7, 16, 22, 0))
    );
}

#[test]
fn no_common_window_holds_until_the_search_ends() {
    // Zones eight hours apart: three 13-hour windows have no common instant.
    let zones = [
        chrono_tz::Etc::UTC,
        chrono_tz::Asia::Shanghai,
        chrono_tz::Pacific::Pitcairn,
    ];
    let at = utc(2026, 1, 14, 12, 0);
    let end = at + TimeDelta::days(SEARCH_DAYS);
    assert_eq!(
        decide_all_zones(at, &zones, None, None, rules()),
        held(HoldReason::OutsideWindow, end)
    );
    // A Sunday-only campaign to Alabama, which bans Sunday calls.
    let sundays = CampaignWindow::new(
        NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        &[Weekday::Sun],
    )
    .unwrap();
    let sunday = utc(2026, 6, 14, 15, 0);
    assert_eq!(
        decide(sunday, Chicago, Some(UsState::AL), Some(&sundays), rules()),
        held(
            state_rule(UsState::AL),
            sunday + TimeDelta::days(SEARCH_DAYS)
        )
    );
    assert_eq!(
        decide_all_zones(at, &[], None, None, rules()),
        held(HoldReason::OutsideWindow, end)
    );
}
