//! Single calls: `Idempotency-Key` (a repeat answers as the first and dials
//! nobody again), account pacing shared with campaigns, Twilio's 429, and the
//! callee's `timezone` and `state`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::CreateFailure;

use crate::helpers::{spawn_app, spawn_app_with, TestApp, TIMING};

/// `POST /api/calls/outbound` with an `Idempotency-Key`: status, headers, body.
async fn place_keyed(
    app: &TestApp,
    key: &str,
    body: &Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = app
        .api(Method::POST, "/api/calls/outbound")
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

/// Create-call requests the simulator received for `to`.
fn dials_to(app: &TestApp, to: &str) -> usize {
    app.sim.calls().iter().filter(|c| c.to == to).count()
}

#[tokio::test]
async fn a_repeated_key_answers_as_the_first_and_dials_once() {
    let app = spawn_app().await;
    let to = "+15552220001";
    let body = json!({"to": to, "name": "Ada"});
    let (status, first_headers, first) = place_keyed(&app, "order-7/try", &body).await;
    assert_eq!(status, 201, "{first}");
    assert!(first_headers.get("Idempotent-Replayed").is_none());
    let (status, headers, again) = place_keyed(&app, "order-7/try", &body).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again, first, "the first answer, word for word");
    assert_eq!(headers["Idempotent-Replayed"], "true");
    assert_eq!(dials_to(&app, to), 1);

    // The same key with another body is refused, and dials nobody.
    let other = json!({"to": to, "name": "Grace"});
    let (status, _, err) = place_keyed(&app, "order-7/try", &other).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "idempotency_key_reused");
    assert_eq!(err["error"]["field"], "Idempotency-Key");
    assert_eq!(dials_to(&app, to), 1);

    // Another key is another request (once the first call is over: one call
    // in progress per number).
    let sid = first["call_sid"].as_str().unwrap();
    app.sim
        .wait_finished(sid, std::time::Duration::from_secs(20))
        .await
        .expect("finished");
    crate::one_call_per_number::wait_released(&app, to).await;
    let (status, _, second) = place_keyed(&app, "order-8", &body).await;
    assert_eq!(status, 201, "{second}");
    assert_ne!(second["call_id"], first["call_id"]);
    assert_eq!(dials_to(&app, to), 2);
}

#[tokio::test]
async fn two_requests_at_once_with_one_key_make_one_call() {
    let app = spawn_app().await;
    let to = "+15552220002";
    let body = json!({"to": to});
    let (a, b) = tokio::join!(
        place_keyed(&app, "same-key", &body),
        place_keyed(&app, "same-key", &body)
    );
    assert_eq!((a.0, b.0), (201, 201), "{} / {}", a.2, b.2);
    assert_eq!(a.2["call_id"], b.2["call_id"]);
    assert_eq!(dials_to(&app, to), 1);
}

#[tokio::test]
async fn an_uncertain_dial_is_remembered_and_never_redialed() {
    let app = spawn_app().await;
    let to = "+15552220003";
    // Twilio places the call but its answer is lost (HTTP 500).
    app.sim.fail_next_create(to, CreateFailure::PlacedButLost);
    let body = json!({"to": to});
    let (status, _, first) = place_keyed(&app, "uncertain-1", &body).await;
    assert_eq!(status, 502, "{first}");
    assert_eq!(first["error"]["code"], "twilio_uncertain");
    let (status, headers, again) = place_keyed(&app, "uncertain-1", &body).await;
    assert_eq!(status, 502);
    assert_eq!(again, first);
    assert_eq!(headers["Idempotent-Replayed"], "true");
    assert_eq!(dials_to(&app, to), 1, "the retry did not dial again");
}

#[tokio::test]
async fn bad_keys_name_the_header() {
    let app = spawn_app().await;
    let body = json!({"to": "+15552220004"});
    for key in ["has space", &"k".repeat(256), "tab\there"] {
        let (status, _, err) = place_keyed(&app, key, &body).await;
        assert_eq!(status, 400, "{key:?}: {err}");
        assert_eq!(err["error"]["field"], "Idempotency-Key");
    }
    let (status, _, _) = place_keyed(&app, &"k".repeat(255), &body).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn twilio_429_answers_twilio_rate_limited_and_the_key_is_freed() {
    let app = spawn_app().await;
    let to = "+15552220005";
    app.sim.fail_next_create(to, CreateFailure::Throttled);
    let body = json!({"to": to});
    let (status, headers, err) = place_keyed(&app, "throttled-1", &body).await;
    assert_eq!(status, 429, "{err}");
    assert_eq!(err["error"]["code"], "twilio_rate_limited");
    let retry: u64 = headers["Retry-After"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "{retry}");
    assert_eq!(dials_to(&app, to), 0, "Twilio placed nothing");
    // Nothing was placed, so the retry with the same key really dials.
    let (status, headers, placed) = place_keyed(&app, "throttled-1", &body).await;
    assert_eq!(status, 201, "{placed}");
    assert!(headers.get("Idempotent-Replayed").is_none());
    assert_eq!(dials_to(&app, to), 1);
}

#[tokio::test]
async fn twilio_retry_after_is_passed_on() {
    let app = spawn_app().await;
    let to = "+15552220006";
    app.sim
        .fail_next_create(to, CreateFailure::ThrottledFor(17));
    let resp = app
        .api(Method::POST, "/api/calls/outbound")
        .json(&json!({"to": to}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["Retry-After"], "17");
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "twilio_rate_limited");
    assert_eq!(err["error"]["status"], "failed");
    let call = app
        .get_call(err["error"]["call_id"].as_str().unwrap())
        .await;
    assert_eq!(call["call"]["status"], "failed", "{call}");
    assert_eq!(dials_to(&app, to), 0);
}

#[tokio::test]
async fn single_calls_are_spread_out_by_the_account_pace() {
    let _turn = TIMING.lock().await;
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "5".into());
    })
    .await;
    let numbers: Vec<String> = (0..5).map(|i| format!("+1555222010{i}")).collect();
    let placed =
        futures_util::future::join_all(numbers.iter().map(|to| app.place(json!({"to": to})))).await;
    for (status, body) in &placed {
        assert_eq!(*status, 201, "{body}");
    }
    let mut created: Vec<_> = app.sim.calls().iter().map(|c| c.created_at).collect();
    created.sort();
    assert_eq!(created.len(), 5);
    // Slots are 200 ms apart: five dials span at least 800 ms (less some
    // scheduling slack), where unpaced they would arrive together.
    let span = created[4] - created[0];
    assert!(span >= Duration::from_millis(600), "{span:?}");
}

#[tokio::test]
async fn a_single_call_without_a_slot_in_time_is_rate_limited() {
    let _turn = TIMING.lock().await;
    // One slot every 2 s; a single call waits at most 3 s for one.
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "0.5".into());
    })
    .await;
    let numbers: Vec<String> = (0..3).map(|i| format!("+1555222020{i}")).collect();
    let app = &app;
    let placed = futures_util::future::join_all(numbers.iter().map(|to| async move {
        let resp = app
            .api(Method::POST, "/api/calls/outbound")
            .json(&json!({"to": to}))
            .send()
            .await
            .unwrap();
        let retry = resp.headers().get("Retry-After").cloned();
        (
            to,
            resp.status().as_u16(),
            retry,
            resp.json::<Value>().await.unwrap(),
        )
    }))
    .await;
    let refused: Vec<_> = placed.iter().filter(|p| p.1 == 429).collect();
    assert_eq!(refused.len(), 1, "{placed:?}");
    let (to, _, retry, body) = refused[0];
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert!(retry.is_some(), "Retry-After");
    assert!(body["error"].get("call_id").is_none(), "no record: {body}");
    assert_eq!(dials_to(app, to), 0, "nothing dialed");
    assert_eq!(placed.iter().filter(|p| p.1 == 201).count(), 2);
}

#[tokio::test]
async fn timezone_and_state_are_checked_and_name_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"to": "+15552220301", "state": "ZZ"}), "state"),
        (json!({"to": "+15552220301", "state": "PR"}), "state"),
        (json!({"to": "+15552220301", "state": 12}), "state"),
        (
            json!({"to": "+15552220301", "timezone": "Mars/Base"}),
            "timezone",
        ),
        (json!({"to": "+15552220301", "dry_run": "yes"}), "dry_run"),
    ];
    for (body, field) in cases {
        let (status, err) = app.place(body.clone()).await;
        assert_eq!(status, 400, "{body}: {err}");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    assert!(app.sim.calls().is_empty());
    let ok = json!({"to": "+15552220301", "state": "fl", "timezone": "America/New_York"});
    let (status, placed) = app.place(ok).await;
    assert_eq!(status, 201, "{placed}");
}

#[tokio::test]
async fn a_repeated_campaign_request_starts_one_campaign() {
    let app = spawn_app().await;
    let body = json!({"contacts": [{"to": "+15552220401"}, {"to": "+15552220402"}]});
    let (status, _, first) = place_keyed(&app, "campaign-1", &body).await;
    assert_eq!(status, 202, "{first}");
    let (status, headers, again) = place_keyed(&app, "campaign-1", &body).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again, first);
    assert_eq!(headers["Idempotent-Replayed"], "true");
    let mut redis = redis::Client::open(app.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let campaigns: Vec<String> = redis::cmd("KEYS")
        .arg("cf:default:campaign:{*}")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(campaigns.len(), 1, "{campaigns:?}");
}
