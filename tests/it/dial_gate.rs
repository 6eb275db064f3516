//! The dial gate through real campaigns: state calling rules, the per-number
//! cap across campaigns, and numbers whose zone only the country code tells.

use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::campaigns::wait_campaign;
use crate::helpers::{env_for, settings, spawn_app_with, TestApp};

async fn start(app: &TestApp, body: Value) -> String {
    let (status, created) = app.place(body).await;
    assert_eq!(status, 202, "{created}");
    created["campaign_id"].as_str().unwrap().to_string()
}

/// The first page of a campaign's listing, in contact order.
async fn listed(app: &TestApp, id: &str) -> Vec<Value> {
    let page: Value = app
        .api(Method::GET, &format!("/api/campaigns/{id}/calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["calls"].as_array().cloned().unwrap_or_default()
}

/// Polls the listing until item `index` satisfies `ok` (or panics after `secs`).
async fn wait_item(
    app: &TestApp,
    id: &str,
    index: usize,
    secs: u64,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let items = listed(app, id).await;
        if let Some(item) = items.get(index).filter(|i| ok(i)) {
            return item.clone();
        }
        assert!(Instant::now() < deadline, "not there in {secs}s: {items:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn dials_to(app: &TestApp, to: &str) -> usize {
    app.sim.calls().iter().filter(|c| c.to == to).count()
}

async fn wait_dials(app: &TestApp, to: &str, n: usize, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while dials_to(app, to) < n {
        assert!(
            Instant::now() < deadline,
            "{to} not dialed {n} times in {secs}s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn florida_contact_at_half_past_eight_is_held_by_its_state_rule() {
    // Wednesday 20:30 in New York: federal hours allow it, Florida's 20:00 end does not.
    let app = spawn_app_with(|env| {
        env.insert("CALLFLOW_CLOCK_START", "2026-01-15T01:30:00Z".into());
    })
    .await;
    let (moved_to_florida, new_yorker, moved_to_georgia) =
        ("+12125550301", "+12125550302", "+13055550303");
    let id = start(
        &app,
        json!({"contacts": [
            // A New York number whose owner lives in Florida: the contact's state wins.
            {"to": moved_to_florida, "state": "FL"},
            {"to": new_yorker},
            // A Florida area code, but the contact is known to be in Georgia.
            {"to": moved_to_georgia, "state": "ga", "timezone": "America/New_York"},
        ], "calls_per_second": 10}),
    )
    .await;
    wait_dials(&app, new_yorker, 1, 30).await;
    wait_dials(&app, moved_to_georgia, 1, 30).await;
    let held = wait_item(&app, &id, 0, 30, |i| i["waiting_reason"] == "state_rule").await;
    assert_eq!(held["state"], "pending", "{held}");
    assert_eq!(held["waiting_state"], "FL", "{held}");
    assert_eq!(held["callee_state"], "FL", "{held}");
    assert_eq!(held["zones"], json!(["America/New_York"]), "{held}");
    // 08:00 EST the next morning.
    assert_eq!(held["next_attempt_at"], "2026-01-15T13:00:00Z", "{held}");
    assert_eq!(dials_to(&app, moved_to_florida), 0);
    let items = listed(&app, &id).await;
    assert_eq!(items[1]["callee_state"], "NY");
    assert_eq!(items[2]["callee_state"], "GA");
    assert!(items[1]["waiting_reason"].is_null(), "{}", items[1]);

    // A state that is no US state is refused, naming the field.
    let (status, created) = app
        .place(json!({"contacts": [{"to": "+12125550304", "state": "PR"}, {"to": "+12125550305"}]}))
        .await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["rejected"], 1);
    let message = created["rejections"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("state:"), "{message}");
}

#[tokio::test]
async fn the_fourth_dial_to_one_number_in_a_day_is_held_across_campaigns() {
    let app = spawn_app_with(|_| {}).await;
    let busy = "+12125550401";
    app.sim.set_persona(busy, Persona::Busy);
    let first = start(
        &app,
        json!({"contacts": [{"to": busy}], "calls_per_second": 10,
               "retry": {"on": ["busy"], "max_attempts": 6, "backoff": ["1s"]}}),
    )
    .await;
    let held = wait_item(&app, &first, 0, 60, |i| {
        i["waiting_reason"] == "frequency_cap"
    })
    .await;
    assert_eq!(dials_to(&app, busy), 3, "three dials, then the cap: {held}");
    assert_eq!(held["attempts"], 3, "{held}");
    // It waits for the first dial to leave the 24-hour window, never dropped.
    let mut dialed_at: Vec<DateTime<Utc>> = Vec::new();
    for call in app.sim.calls() {
        let record = app.get_call(&call.sid).await;
        dialed_at.push(
            record["call"]["created_at"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        );
    }
    dialed_at.sort();
    let next: DateTime<Utc> = held["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let after_first = next - chrono::Duration::hours(24);
    assert!(
        after_first <= dialed_at[0] && dialed_at[0] - after_first < chrono::Duration::seconds(5),
        "next attempt {next}, first dial {}",
        dialed_at[0]
    );
    // The same number in another campaign: held by the same count.
    let second = start(
        &app,
        json!({"contacts": [{"to": busy}], "calls_per_second": 10}),
    )
    .await;
    let other = wait_item(&app, &second, 0, 30, |i| {
        i["waiting_reason"] == "frequency_cap"
    })
    .await;
    assert_eq!(other["attempts"], 0, "{other}");
    let first_now = crate::campaigns::campaign(&app, &first).await;
    assert_eq!(first_now["counts"]["pending"], 1, "{first_now}");
    assert_eq!(dials_to(&app, busy), 3);
}

#[tokio::test]
async fn an_unknown_area_code_waits_until_every_north_american_zone_allows() {
    // Wednesday 14:00 in New York, 05:00 Thursday in Guam, 1,200 times faster than
    // real time: every +1 zone allows calls from 22:00 UTC, 9 real seconds away.
    let app = spawn_app_with(|env| {
        env.insert("CALLFLOW_CLOCK_START", "2026-01-14T19:00:00Z".into());
        env.insert("CALLFLOW_CLOCK_SPEED", "1200".into());
        env.insert("DISPATCH_LEASE_SECS", "6000".into());
        env.insert("TWILIO_MAX_CPS", "100".into());
    })
    .await;
    let (unknown, manhattan) = ("+15557770001", "+12125557002");
    let id = start(
        &app,
        json!({"contacts": [{"to": unknown}, {"to": manhattan}], "calls_per_second": 50}),
    )
    .await;
    let held = wait_item(&app, &id, 0, 30, |i| {
        i["waiting_reason"] == "outside_window"
    })
    .await;
    assert_eq!(held["next_attempt_at"], "2026-01-14T22:00:00Z", "{held}");
    let zones: Vec<&str> = held["zones"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for zone in [
        "Pacific/Guam",
        "Pacific/Honolulu",
        "America/New_York",
        "America/St_Johns",
    ] {
        assert!(zones.contains(&zone), "{zone} missing: {zones:?}");
    }
    assert!(held["callee_state"].is_null(), "{held}");
    wait_campaign(&app, &id, 60, |c| c["status"] == "completed").await;

    let mut unknown_dialed = None;
    for call in app.sim.calls() {
        let record = app.get_call(&call.sid).await;
        let at: DateTime<Utc> = record["call"]["created_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        if call.to == unknown {
            unknown_dialed = Some(at);
        }
    }
    let at = unknown_dialed.expect("the unknown area code was dialed once every zone allowed");
    for zone in zones {
        let local = at.with_timezone(&zone.parse::<chrono_tz::Tz>().unwrap());
        assert!(
            (8..21).contains(&local.hour()),
            "dialed at {local} in {zone}"
        );
    }
    assert_eq!(dials_to(&app, manhattan), 1);
}

#[test]
fn the_dial_cap_setting_is_validated() {
    let mut env = env_for("redis://127.0.0.1:1/", "http://127.0.0.1:1", 0);
    assert_eq!(settings(&env).max_dials_per_number_24h, 3);
    env.insert("MAX_DIALS_PER_NUMBER_24H", "5".into());
    assert_eq!(settings(&env).max_dials_per_number_24h, 5);
    for bad in ["0", "many", "101"] {
        env.insert("MAX_DIALS_PER_NUMBER_24H", bad.into());
        let err = callflow::config::from_lookup(|k| env.get(k).cloned()).unwrap_err();
        assert_eq!(err.name, "MAX_DIALS_PER_NUMBER_24H");
    }
}

#[tokio::test]
async fn a_throttled_dial_does_not_use_up_the_numbers_cap() {
    // One dial a day: a 429 that placed nothing must not be it.
    let app = spawn_app_with(|env| {
        env.insert("MAX_DIALS_PER_NUMBER_24H", "1".into());
    })
    .await;
    let throttled = "+12125550501";
    app.sim
        .fail_next_create(throttled, twilio_sim::CreateFailure::Throttled);
    let id = start(
        &app,
        json!({"contacts": [{"to": throttled}], "calls_per_second": 10}),
    )
    .await;
    let done = wait_campaign(&app, &id, 60, |c| c["status"] == "completed").await;
    assert_eq!(done["counts"]["done"], 1, "{done}");
    assert_eq!(dials_to(&app, throttled), 1);
}
