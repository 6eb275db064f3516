//! One call in progress per number: campaigns and single calls share the
//! number's claim. A second dial waits (a campaign contact, shown as
//! `call_in_progress`) or is refused `409 call_in_progress` (a single call),
//! and the next one is dialed once the call in progress is over.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::{Persona, SimCall};

use crate::helpers::{spawn_app, TestApp, Twilio};

fn calls_to(app: &TestApp, to: &str) -> Vec<SimCall> {
    app.sim.calls().into_iter().filter(|c| c.to == to).collect()
}

/// Waits until the simulator saw `n` dials to `to`, checking it never sees more.
async fn wait_dials(app: &TestApp, to: &str, n: usize, secs: u64) -> Vec<SimCall> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let calls = calls_to(app, to);
        assert!(
            calls.len() <= n,
            "{} dials, at most {n} expected",
            calls.len()
        );
        if calls.len() == n {
            return calls;
        }
        assert!(
            Instant::now() < deadline,
            "{to} not dialed {n} times in {secs}s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Plays Twilio for a simulated call: answered, then hung up (final status).
async fn end(app: &TestApp, call: &SimCall) {
    let call_id = call
        .url
        .split("call_id=")
        .nth(1)
        .and_then(|rest| rest.split(['&', '#']).next())
        .expect("call_id in the answer URL");
    let tw = Twilio::new(&app.base_url, call_id, &call.sid);
    assert_eq!(tw.answer().await.0, 200);
    assert_eq!(tw.status("completed", 1).await.0, 200);
}

/// Waits (briefly) until no call holds `to`: the release follows the final
/// callback's reply.
pub async fn wait_released(app: &TestApp, to: &str) {
    let mut c = redis::Client::open(app.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let key = callflow::store::Keys::new("default").number_busy(to);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let held: bool = redis::AsyncCommands::exists(&mut c, &key).await.unwrap();
        if !held {
            return;
        }
        assert!(Instant::now() < deadline, "{to} still held");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

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

#[tokio::test]
async fn one_number_in_two_campaigns_and_a_single_call_is_dialed_once_at_a_time() {
    let app = spawn_app().await;
    let to = "+15552228001";
    app.sim.set_persona(to, Persona::Manual);
    let mut campaigns = Vec::new();
    for _ in 0..2 {
        let (status, created) = app.place(json!({"contacts": [{"to": to}]})).await;
        assert_eq!(status, 202, "{created}");
        campaigns.push(created["campaign_id"].as_str().unwrap().to_string());
    }
    let first = wait_dials(&app, to, 1, 10).await;

    // While that call is in progress: the single call is refused...
    let (status, refused) = app.place(json!({"to": to})).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "call_in_progress", "{refused}");
    assert_eq!(refused["error"]["field"], "to");
    // ...and the other campaign's contact waits, saying why.
    let deadline = Instant::now() + Duration::from_secs(10);
    let waiting = loop {
        let mut found = None;
        for id in &campaigns {
            let items = listed(&app, id).await;
            if items[0]["waiting_reason"] == "call_in_progress" {
                found = Some(items[0].clone());
            }
        }
        if let Some(item) = found {
            break item;
        }
        assert!(Instant::now() < deadline, "no contact shown waiting");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(waiting["next_attempt_at"].is_string(), "{waiting}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(calls_to(&app, to).len(), 1, "still one dial");

    // The call ends: the waiting contact is dialed next, and only it.
    end(&app, &first[0]).await;
    let second = wait_dials(&app, to, 2, 15).await;
    let (status, refused) = app.place(json!({"to": to})).await;
    assert_eq!(
        status, 409,
        "the second call holds the number now: {refused}"
    );
    end(&app, &second[1]).await;

    // Free again: the single call is placed (a moment for the release, which
    // follows the final callback's reply).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, placed) = app.place(json!({"to": to})).await;
        if status == 201 {
            break;
        }
        assert_eq!(placed["error"]["code"], "call_in_progress", "{placed}");
        assert!(Instant::now() < deadline, "the number was never freed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(calls_to(&app, to).len(), 3);
}
