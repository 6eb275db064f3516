//! A campaign contact whose stored state cannot be read is held: never dialed,
//! never dropped, counted in `counts.errors`, while the others are dialed.

use std::net::TcpListener;
use std::time::Duration;

use callflow::startup::Application;
use callflow::store::keys::shard_of;
use callflow::store::Keys;
use reqwest::Method;
use serde_json::json;

use crate::campaigns::{campaign, wait_campaign};
use crate::helpers::{env_for, settings, spawn_app_with};

#[tokio::test]
async fn a_contact_with_an_unreadable_state_is_never_dialed() {
    // This process only creates the campaign; a second one dispatches it once
    // the state has been damaged.
    let app = spawn_app_with(|env| {
        env.insert("DISPATCHER_ENABLED", "false".into());
    })
    .await;
    let numbers: Vec<String> = (0..6).map(|i| format!("+1555666{:04}", 1000 + i)).collect();
    let (status, created) = app
        .place(json!({
            "contacts": numbers.iter().map(|to| json!({"to": to})).collect::<Vec<_>>(),
            "calls_per_second": 5,
        }))
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["campaign_id"].as_str().unwrap().to_string();

    let keys = Keys::new("default");
    let mut redis = redis::Client::open(app.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let shards: u32 = redis::cmd("HGET")
        .arg(keys.campaign(&id))
        .arg("shards")
        .query_async(&mut redis)
        .await
        .unwrap();
    let damaged = 4_u32;
    let states = keys.campaign_states(&id, shard_of(damaged, shards));
    let _: () = redis::cmd("HSET")
        .arg(&states)
        .arg(damaged)
        .arg("{\"phase\":\"pend")
        .query_async(&mut redis)
        .await
        .unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let env = env_for(&app.redis.url(), &app.sim.base_url(), port);
    let dispatcher = Application::build(settings(&env), &app.redis.url(), listener)
        .await
        .expect("app builds");
    tokio::spawn(dispatcher.server);

    let c = wait_campaign(&app, &id, 60, |c| {
        c["counts"]["done"] == 5 && c["counts"]["errors"] == 1
    })
    .await;
    // Give it a few more dispatcher rounds to misbehave.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let c2 = campaign(&app, &id).await;
    assert_eq!(c2["status"], "running", "held, so not complete: {c2}");
    assert_eq!(c2["counts"]["errors"], 1, "counted once: {c2}");
    assert_eq!(c2["counts"]["pending"], 1, "{c2}");
    assert_eq!(c["counts"]["attempts"], 5, "{c}");

    let dialed: Vec<String> = app.sim.calls().into_iter().map(|c| c.to).collect();
    assert_eq!(dialed.len(), 5, "{dialed:?}");
    for (i, to) in numbers.iter().enumerate() {
        let times = dialed.iter().filter(|d| *d == to).count();
        let expected = usize::from(i as u32 != damaged);
        assert_eq!(times, expected, "contact {i} ({to})");
    }
    // Still there, untouched: held, not dropped or overwritten.
    let stored: String = redis::cmd("HGET")
        .arg(&states)
        .arg(damaged)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(stored, "{\"phase\":\"pend");
    let due: Option<f64> = redis::cmd("ZSCORE")
        .arg(keys.campaign_due(&id, shard_of(damaged, shards)))
        .arg(damaged)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(due.is_some(), "still due (later), not dropped");
    let listed = app
        .api(Method::GET, &format!("/api/campaigns/{id}/calls"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    drop(dispatcher.stop);
}
