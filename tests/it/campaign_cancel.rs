//! Canceling settles every contact that was never dialed as `canceled`, in every
//! shard, while calls in progress finish with their own disposition; and the
//! retry counts say what was retried and what still waits.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::campaigns::{campaign, wait_campaign};
use crate::helpers::{spawn_app_with, TestApp, Twilio};

async fn list(app: &TestApp, id: &str, query: &str) -> Vec<Value> {
    let r = app
        .api(
            Method::GET,
            &format!("/api/campaigns/{id}/calls?limit=500&{query}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{query}");
    let page: Value = r.json().await.unwrap();
    page["calls"].as_array().unwrap().clone()
}

async fn steer(app: &TestApp, id: &str, action: &str) -> Value {
    let r = app
        .api(Method::POST, &format!("/api/campaigns/{id}/{action}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{action}");
    r.json().await.unwrap()
}

/// The call id callflow gave a simulated call (in its answer URL).
fn call_id_of(url: &str) -> String {
    let start = url.find("call_id=").expect("call_id in the URL") + "call_id=".len();
    url[start..].split(['&', '#']).next().unwrap().to_string()
}

#[tokio::test]
async fn cancel_settles_undialed_contacts_in_every_shard_and_lets_calls_finish() {
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "50".into());
    })
    .await;
    // Callees that pick up and wait: the test ends their calls itself.
    app.sim.set_default_persona(Persona::Manual);
    let contacts: Vec<Value> = (0..20)
        .map(|i| json!({"to": format!("+1555401{i:04}")}))
        .collect();
    let (status, created) = app
        .place(json!({"contacts": contacts, "calls_per_second": 4, "max_concurrent": 3}))
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["campaign_id"].as_str().unwrap().to_string();
    // Three calls in progress fill max_concurrent; then cancel.
    wait_campaign(&app, &id, 30, |c| c["counts"]["in_progress"] == 3).await;
    let canceled = steer(&app, &id, "cancel").await;
    assert_eq!(canceled["status"], "canceled");

    // The 17 never dialed settle `canceled` (7 shards of 3 in tests); the three
    // calls are still in progress.
    let c = wait_campaign(&app, &id, 30, |c| c["counts"]["canceled"] == 17).await;
    assert_eq!(c["counts"]["pending"], 0, "{c}");
    assert_eq!(c["counts"]["in_progress"], 3, "{c}");
    let listed = list(&app, &id, "state=canceled").await;
    assert_eq!(listed.len(), 17);
    assert!(listed
        .iter()
        .all(|l| l["state"] == "canceled" && l["attempts"] == 0 && l["call_id"].is_null()));
    assert!(list(&app, &id, "state=pending").await.is_empty());

    // The calls in progress finish normally, with their real disposition.
    let calls = app.sim.calls();
    assert_eq!(calls.len(), 3, "nothing dialed after the cancel");
    for (i, call) in calls.iter().enumerate() {
        let tw = Twilio::new(&app.base_url, &call_id_of(&call.url), &call.sid);
        let (status, _) = tw
            .status(if i == 0 { "completed" } else { "busy" }, 1)
            .await;
        assert_eq!(status, 200);
    }
    let done = wait_campaign(&app, &id, 30, |c| c["counts"]["done"] == 3).await;
    let counts = &done["counts"];
    assert_eq!(done["status"], "canceled", "{done}");
    assert_eq!(counts["pending"], 0, "{done}");
    assert_eq!(counts["in_progress"], 0, "{done}");
    assert_eq!(counts["dialing"], 0, "{done}");
    assert_eq!(counts["canceled"], 17, "{done}");
    assert_eq!(counts["dispositions"]["busy"], 2, "{done}");
    assert_eq!(counts["attempts"], 3, "{done}");
    assert_eq!(list(&app, &id, "state=done").await.len(), 3);
    assert_eq!(list(&app, &id, "state=canceled").await.len(), 17);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.sim.calls().len(), 3, "a canceled campaign dialed");
}

#[tokio::test]
async fn retries_count_what_was_retried_and_what_still_waits() {
    // Backoffs are timed: take turns with the other timing tests.
    let _turn = crate::helpers::TIMING.lock().await;
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "50".into());
        // Ten service seconds a real second, so backoffs pass quickly.
        env.insert("CALLFLOW_CLOCK_SPEED", "10".into());
        // Six real seconds: above twice the REST timeout, as the server insists.
        env.insert("DISPATCH_LEASE_SECS", "60".into());
    })
    .await;
    for to in ["+15554020001", "+15554020002", "+15554030001"] {
        app.sim.set_persona(to, Persona::Busy);
    }
    // Campaign A: two busy callees wait 60 service seconds for their retry.
    let (_, a) = app
        .place(json!({
            "contacts": [{"to": "+15554020001"}, {"to": "+15554020002"}, {"to": "+15554020003"}],
            "calls_per_second": 10,
            "retry": {"on": ["busy"], "max_attempts": 2, "backoff": ["60s"]}
        }))
        .await;
    let a = a["campaign_id"].as_str().unwrap().to_string();
    // Campaign B: one busy callee, retried after 2 service seconds, then done.
    let (_, b) = app
        .place(json!({
            "contacts": [{"to": "+15554030001"}],
            "calls_per_second": 10,
            "retry": {"on": ["busy"], "max_attempts": 2, "backoff": ["2s"]}
        }))
        .await;
    let b = b["campaign_id"].as_str().unwrap().to_string();

    let waiting = wait_campaign(&app, &a, 30, |c| {
        c["counts"]["done"] == 1 && c["counts"]["waiting_retry"] == 2
    })
    .await;
    let counts = &waiting["counts"];
    assert_eq!(counts["attempts"], 3, "{waiting}");
    assert_eq!(counts["retries"], 2, "{waiting}");
    assert_eq!(counts["retries_scheduled"], 2, "{waiting}");
    assert_eq!(counts["pending"], 2, "{waiting}");

    let done = wait_campaign(&app, &b, 30, |c| c["status"] == "completed").await;
    let counts = &done["counts"];
    assert_eq!(counts["attempts"], 2, "{done}");
    assert_eq!(counts["retries"], 1, "{done}");
    assert_eq!(counts["retries_scheduled"], 1, "{done}");
    assert_eq!(counts["waiting_retry"], 0, "{done}");

    // Canceling A settles the two waiting contacts: their attempt and its
    // disposition stay, they no longer wait, the retries made stay counted.
    steer(&app, &a, "cancel").await;
    let c = wait_campaign(&app, &a, 30, |c| c["counts"]["canceled"] == 2).await;
    let counts = &c["counts"];
    assert_eq!(counts["waiting_retry"], 0, "{c}");
    assert_eq!(counts["pending"], 0, "{c}");
    assert_eq!(counts["retries"], 2, "{c}");
    let listed = list(&app, &a, "state=canceled").await;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|l| l["attempts"] == 1
        && l["disposition"] == "busy"
        && l["next_attempt_at"].is_null()));
    // Ten service seconds later nothing of A has been dialed again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let dials = app
        .sim
        .calls()
        .iter()
        .filter(|c| c.to.starts_with("+1555402"))
        .count();
    assert_eq!(dials, 3, "a canceled contact was dialed");
    assert_eq!(campaign(&app, &a).await["status"], "canceled");
}
