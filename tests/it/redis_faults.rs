//! Redis faults on the callback path: a transition that reaches Redis after
//! the webhook gave up on it is never applied, and an opt-out's do-not-call
//! entry is written if and only if its transition is stored (a crash in
//! between is completed by the reaper).

use std::time::{Duration, Instant};

use callflow::store::{Effect, Keys};
use redis::AsyncCommands;
use twilio_sim::Persona;

use crate::helpers::{spawn_app, turn_of, TestApp, Twilio};

async fn redis(app: &TestApp) -> redis::aio::MultiplexedConnection {
    redis::Client::open(app.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// The do-not-call list as stored: number -> entry JSON.
async fn dnc_entries(app: &TestApp) -> Vec<(String, String)> {
    let mut c = redis(app).await;
    c.hgetall(Keys::new("default").dnc()).await.unwrap()
}

async fn pending_effects(app: &TestApp) -> u64 {
    let mut c = redis(app).await;
    c.zcard(Keys::new("default").pending_effects())
        .await
        .unwrap()
}

/// A placed Manual call answered and past the identify question: (Twilio by
/// hand, the consent question's turn).
async fn call_at_consent(app: &TestApp, to: &str) -> (Twilio, u32) {
    app.sim.set_persona(to, Persona::Manual);
    let (status, placed) = app
        .place(serde_json::json!({"to": to, "name": "Ada"}))
        .await;
    assert_eq!(status, 201, "{placed}");
    let tw = Twilio::new(
        &app.base_url,
        placed["call_id"].as_str().unwrap(),
        placed["call_sid"].as_str().unwrap(),
    );
    let (_, first) = tw.answer().await;
    let (_, consent) = tw.say(turn_of(&first), "yes").await;
    assert!(consent.contains("<Gather"), "{consent}");
    (tw, turn_of(&consent))
}

/// Sends `words` for `turn` while Redis is frozen past the store's timeout,
/// then lets Redis go on: the reply given meanwhile.
async fn say_during_a_stall(app: &TestApp, tw: &Twilio, turn: u32, words: &str) -> String {
    app.redis.pause().unwrap();
    let started = Instant::now();
    let (status, reply) = tw.say(turn, words).await;
    let took = started.elapsed();
    assert_eq!(status, 200);
    assert!(reply.contains("<Hangup"), "the apology: {reply}");
    assert!(
        took < Duration::from_secs(15),
        "inside Twilio's 15 s: {took:?}"
    );
    // Redis comes back after the webhook gave up, and runs what was queued.
    tokio::time::sleep(Duration::from_millis(2500).saturating_sub(started.elapsed())).await;
    app.redis.resume().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    reply
}

/// Twilio delivers `turn` again: the answer is the one the record now stands
/// by (the last timeline entry's), and a further delivery gets the same.
async fn retry_is_consistent(
    app: &TestApp,
    tw: &Twilio,
    turn: u32,
    words: &str,
    before: &serde_json::Value,
) {
    let (status, retried) = tw.say(turn, words).await;
    assert_eq!(status, 200);
    let moved = app.get_call(&tw.call_id).await;
    assert_ne!(moved["call"]["state"], before["call"]["state"], "{moved}");
    let last = moved["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["twiml"].as_str(), Some(retried.as_str()), "{last}");
    assert_eq!(tw.say(turn, words).await.1, retried);
}

#[tokio::test]
async fn a_gather_answered_during_a_redis_stall_is_never_applied_later() {
    let app = spawn_app().await;
    let to = "+15552227001";
    app.sim.set_persona(to, Persona::Manual);
    let (status, placed) = app
        .place(serde_json::json!({"to": to, "name": "Ada"}))
        .await;
    assert_eq!(status, 201, "{placed}");
    let tw = Twilio::new(
        &app.base_url,
        placed["call_id"].as_str().unwrap(),
        placed["call_sid"].as_str().unwrap(),
    );
    let (_, first) = tw.answer().await;
    let turn = turn_of(&first);
    let before = app.get_call(&tw.call_id).await;
    assert_eq!(before["call"]["state"], "identify");

    // "yes" to identify, while Redis is frozen: identify -> consent must not
    // be stored once the caller has heard goodbye.
    say_during_a_stall(&app, &tw, turn, "yes").await;
    let after = app.get_call(&tw.call_id).await;
    assert_eq!(
        after["call"]["version"], before["call"]["version"],
        "{after}"
    );
    assert_eq!(after["call"]["state"], "identify");
    assert_eq!(after["timeline"], before["timeline"], "no timeline entry");

    retry_is_consistent(&app, &tw, turn, "yes", &before).await;
}

#[tokio::test]
async fn an_opt_out_during_a_redis_stall_writes_no_do_not_call_entry_until_it_is_stored() {
    let app = spawn_app().await;
    let (tw, turn) = call_at_consent(&app, "+15552227006").await;
    let before = app.get_call(&tw.call_id).await;

    say_during_a_stall(&app, &tw, turn, "stop").await;
    let after = app.get_call(&tw.call_id).await;
    assert_eq!(
        after["call"]["version"], before["call"]["version"],
        "{after}"
    );
    assert!(dnc_entries(&app).await.is_empty(), "no do-not-call entry");

    // Delivered again and stored this time: exactly one entry, nothing pending.
    retry_is_consistent(&app, &tw, turn, "stop", &before).await;
    let entries = dnc_entries(&app).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].1.contains(&format!("call:{}", tw.call_id)));
    assert_eq!(pending_effects(&app).await, 0);
}

#[tokio::test]
async fn an_opt_out_writes_exactly_one_do_not_call_entry_and_a_replay_none() {
    let app = spawn_app().await;
    // A whole call through the simulator: the callee opts out mid-pitch.
    let to = "+15552227002";
    app.sim.set_persona(to, Persona::OptsOutMidPitch);
    let (status, placed) = app
        .place(serde_json::json!({"to": to, "name": "Ada"}))
        .await;
    assert_eq!(status, 201, "{placed}");
    let sid = placed["call_sid"].as_str().unwrap();
    app.sim
        .wait_finished(sid, Duration::from_secs(20))
        .await
        .expect("finished");
    let entries = dnc_entries(&app).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].0, to);
    let call_id = placed["call_id"].as_str().unwrap();
    assert!(entries[0].1.contains(&format!("call:{call_id}")));
    assert_eq!(pending_effects(&app).await, 0, "nothing left pending");

    // A handled "yes" delivered again as "stop": no entry for that number.
    let other = "+15552227003";
    let (tw, turn) = call_at_consent(&app, other).await;
    let (_, consent_reply) = tw.say(turn, "yes").await;
    assert_eq!(tw.say(turn, "stop").await.1, consent_reply);
    assert_eq!(dnc_entries(&app).await.len(), 1, "still only the first");
}

#[tokio::test]
async fn the_reaper_completes_a_do_not_call_write_a_crash_left_and_drops_what_was_never_owed() {
    let app = spawn_app().await;
    let keys = Keys::new("default");
    let (owing, _) = call_at_consent(&app, "+15552227004").await;
    let (not_owing, _) = call_at_consent(&app, "+15552227005").await;
    let mut c = redis(&app).await;
    // As an instance that died between the transition and the do-not-call
    // write leaves it: the effect in the call's hash, the call pending.
    let effect = Effect::DoNotCall {
        number: "+15552227004".into(),
        entry: format!(
            r#"{{"added_at":"2026-01-14T22:30:00Z","source":"call:{}"}}"#,
            owing.call_id
        ),
    };
    let _: () = c
        .hset(keys.call(&owing.call_id), "fx", effect.to_json())
        .await
        .unwrap();
    let (secs, _): (i64, i64) = redis::cmd("TIME").query_async(&mut c).await.unwrap();
    let long_ago = (secs - 60) * 1000;
    let _: () = c
        .zadd(keys.pending_effects(), keys.call(&owing.call_id), long_ago)
        .await
        .unwrap();
    // And as one that died before its transition was stored: pending, owing nothing.
    let _: () = c
        .zadd(
            keys.pending_effects(),
            keys.call(&not_owing.call_id),
            long_ago,
        )
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    while pending_effects(&app).await > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pending_effects(&app).await, 0, "both taken up");
    let entries = dnc_entries(&app).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].0, "+15552227004");
}
