//! The order a campaign's contacts are dialed in, and the next dial it shows.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::campaigns::{campaign, wait_campaign};
use crate::helpers::{spawn_app_with, TestApp};

/// Twelve New York numbers, so indexes 10 and 11 sort before 2 as text.
fn twelve_contacts() -> (Vec<String>, Value) {
    let numbers: Vec<String> = (0..12).map(|i| format!("+1212555{:04}", 100 + i)).collect();
    let contacts = numbers.iter().map(|to| json!({"to": to})).collect();
    (numbers, Value::Array(contacts))
}

/// List order holds within a shard; shards take turns (see `due_in_list_order`).
fn one_shard(env: &mut HashMap<&'static str, String>) {
    env.insert("CAMPAIGN_SHARD_CONTACTS", "100".into());
}

fn dial_order(app: &TestApp) -> Vec<String> {
    app.sim.calls().into_iter().map(|c| c.to).collect()
}

async fn run_one_at_a_time(app: &TestApp, contacts: Value) {
    let (status, created) = app
        .place(json!({"contacts": contacts, "max_concurrent": 1, "calls_per_second": 50}))
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["campaign_id"].as_str().unwrap();
    wait_campaign(app, id, 60, |c| c["status"] == "completed").await;
}

#[tokio::test]
async fn contacts_are_dialed_in_list_order() {
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "50".into());
        one_shard(env);
    })
    .await;
    app.sim.set_default_persona(Persona::Busy);
    let (numbers, contacts) = twelve_contacts();
    run_one_at_a_time(&app, contacts).await;
    assert_eq!(dial_order(&app), numbers);
}

#[tokio::test]
async fn contacts_held_until_the_same_opening_are_dialed_in_list_order() {
    // 07:00 in New York, 1,200 times faster than real time: every contact is
    // held until 08:00, three real seconds away, then all are due at once.
    let app = spawn_app_with(|env| {
        env.insert("CALLFLOW_CLOCK_START", "2026-01-14T12:00:00Z".into());
        env.insert("CALLFLOW_CLOCK_SPEED", "1200".into());
        env.insert("DISPATCH_LEASE_SECS", "6000".into());
        env.insert("TWILIO_MAX_CPS", "100".into());
        one_shard(env);
    })
    .await;
    app.sim.set_default_persona(Persona::Busy);
    let (numbers, contacts) = twelve_contacts();
    run_one_at_a_time(&app, contacts).await;
    assert_eq!(dial_order(&app), numbers);
}

#[tokio::test]
async fn next_scheduled_dial_is_the_held_contacts_not_a_call_in_progress() {
    // 20:30 in New York: a Florida contact waits for 08:00 tomorrow while a New
    // York contact is dialed and stays in its call (the test plays Twilio).
    let app = spawn_app_with(|env| {
        env.insert("CALLFLOW_CLOCK_START", "2026-01-15T01:30:00Z".into());
    })
    .await;
    let (florida, new_yorker) = ("+13055550601", "+12125550602");
    app.sim.set_persona(new_yorker, Persona::Manual);
    let (status, created) = app
        .place(json!({"contacts": [{"to": florida}, {"to": new_yorker}], "calls_per_second": 10}))
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["campaign_id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let view = loop {
        let view = campaign(&app, id).await;
        let in_call = view["counts"]["in_progress"].as_u64().unwrap_or(0)
            + view["counts"]["dialing"].as_u64().unwrap_or(0);
        if dial_order(&app) == [new_yorker] && in_call >= 1 && held(&app, id).await {
            break view;
        }
        assert!(Instant::now() < deadline, "never settled: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        view["next_scheduled_dial"], "2026-01-15T13:00:00Z",
        "the held contact's time, not the call's lease: {view}"
    );
}

/// Whether the campaign's first contact is held by its state's rule.
async fn held(app: &TestApp, id: &str) -> bool {
    let page: Value = app
        .api(reqwest::Method::GET, &format!("/api/campaigns/{id}/calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["calls"][0]["waiting_reason"] == "state_rule"
}
