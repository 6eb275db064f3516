//! `POST /api/sms` end to end: queued, sent through the outbox to the
//! simulator (valid against Twilio's description), statuses reported back
//! and kept in the notification log.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::{CreateFailure, MessageOutcome, Persona};

use crate::helpers::{TestApp, VOICE_NUMBER};
use crate::sms::spawn;

async fn send(app: &TestApp, body: Value) -> (u16, Value) {
    let resp = app
        .api(Method::POST, "/api/sms")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn notification(app: &TestApp, id: &str) -> Value {
    let resp = app
        .api(Method::GET, &format!("/api/notifications/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["notification"].clone()
}

/// Waits until the notification's status is `status`.
async fn wait_status(app: &TestApp, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = notification(app, id).await;
        if n["status"] == status {
            return n;
        }
        assert!(Instant::now() < deadline, "never {status}: {n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn queued(app: &TestApp, body: Value) -> String {
    let (status, answer) = send(app, body).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "queued");
    answer["notification_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_text_is_sent_from_the_tenants_number_and_reported_delivered() {
    let app = spawn().await;
    let to = "+15557010001";
    let id = queued(&app, json!({"to": to, "body": "Your table is ready"})).await;
    let n = wait_status(&app, &id, "delivered").await;
    assert_eq!(n["type"], "api");
    assert_eq!(n["to_number"], to);
    assert_eq!(n["to"], callflow::phone::mask(to));
    assert_eq!(n["body"], "Your table is ready");
    assert!(n["message_sid"].as_str().unwrap().starts_with("SM"));
    assert!(
        n["sent_at"].is_string() && n["delivered_at"].is_string(),
        "{n}"
    );
    let sent = app.sim.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].from, VOICE_NUMBER);
    let callback = sent[0].status_callback.as_deref().unwrap();
    assert_eq!(
        callback,
        format!("{}/twilio/sms/status?notification_id={id}", app.base_url)
    );
    let requests = app.sim.requests();
    assert!(requests.iter().all(|r| r.error.is_none()), "{requests:?}");
}

#[tokio::test]
async fn templates_say_the_time_in_the_recipients_zone() {
    let app = spawn().await;
    let at = "2026-01-16T20:30:00Z";
    let ny = queued(
        &app,
        json!({"to": "+12125550100", "template": "appointment_confirmation",
               "variables": {"appointment_at": at}}),
    )
    .await;
    let la = queued(
        &app,
        json!({"to": "+13105550100", "template": "appointment_reminder",
               "variables": {"appointment_at": at}}),
    )
    .await;
    let chosen = queued(
        &app,
        json!({"to": "+15557020001", "template": "appointment_confirmation",
               "variables": {"appointment_at": at}, "timezone": "America/Chicago"}),
    )
    .await;
    let ny = notification(&app, &ny).await;
    assert!(
        ny["body"]
            .as_str()
            .unwrap()
            .contains("Friday, January 16 at 3:30 PM EST"),
        "{ny}"
    );
    assert_eq!(ny["template"], "appointment_confirmation");
    let la = notification(&app, &la).await;
    assert!(
        la["body"].as_str().unwrap().contains("12:30 PM PST"),
        "{la}"
    );
    let chosen = notification(&app, &chosen).await;
    assert!(
        chosen["body"].as_str().unwrap().contains("2:30 PM CST"),
        "{chosen}"
    );
    assert!(
        ny["body"].as_str().unwrap().starts_with("Smith & <Sons>"),
        "{ny}"
    );
}

#[tokio::test]
async fn bad_requests_name_the_field_and_do_not_call_numbers_are_refused() {
    let app = spawn().await;
    let cases = [
        (json!({"to": "555", "body": "x"}), 400, "to"),
        (json!({"to": "+15557030001", "body": "  "}), 400, "body"),
        (
            json!({"to": "+15557030001", "body": "x".repeat(1601)}),
            400,
            "body",
        ),
        (json!({"to": "+15557030001"}), 400, "body"),
        (
            json!({"to": "+15557030001", "template": "nope"}),
            400,
            "template",
        ),
        (
            json!({"to": "+15557030001", "template": "appointment_confirmation"}),
            400,
            "variables.appointment_at",
        ),
        (
            json!({"to": "+15557030001", "body": "x", "colour": 1}),
            400,
            "colour",
        ),
        (
            json!({"to": "+15557030001", "body": "x", "from": "+15557039999"}),
            422,
            "from",
        ),
    ];
    for (body, status, field) in cases {
        let (got, answer) = send(&app, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (ok, _) = send(
        &app,
        json!({"to": "+15557030002", "body": "x".repeat(1600)}),
    )
    .await;
    assert_eq!(ok, 202);
    app.api(Method::POST, "/api/dnc")
        .json(&json!({"number": "+15557030003"}))
        .send()
        .await
        .unwrap();
    let (status, answer) = send(&app, json!({"to": "+15557030003", "body": "hi"})).await;
    assert_eq!(status, 409, "{answer}");
    assert!(app.sim.messages().iter().all(|m| m.to != "+15557030003"));
}

#[tokio::test]
async fn an_idempotency_key_queues_one_text() {
    let app = spawn().await;
    let body = json!({"to": "+15557040001", "body": "Once"});
    let post = || {
        app.api(Method::POST, "/api/sms")
            .header("Idempotency-Key", "text-1")
            .json(&body)
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = post().await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["Idempotent-Replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["notification_id"], again["notification_id"]);
    wait_status(
        &app,
        first["notification_id"].as_str().unwrap(),
        "delivered",
    )
    .await;
    assert_eq!(app.sim.messages().len(), 1);
    let reused = app
        .api(Method::POST, "/api/sms")
        .header("Idempotency-Key", "text-1")
        .json(&json!({"to": "+15557040001", "body": "Other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 422);
}

#[tokio::test]
async fn twilio_throttling_is_retried_after_retry_after() {
    let app = spawn().await;
    let to = "+15557050001";
    app.sim
        .fail_next_message(to, CreateFailure::ThrottledFor(1));
    let id = queued(&app, json!({"to": to, "body": "Eventually"})).await;
    wait_status(&app, &id, "delivered").await;
    let creates = app
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/Messages.json"))
        .count();
    assert_eq!(creates, 2, "one throttled, one accepted");
    assert_eq!(app.sim.messages().len(), 1);
}

#[tokio::test]
async fn statuses_never_move_back_and_failures_keep_twilios_error() {
    let app = spawn().await;
    // Final status first, then `sent`: the text stays delivered.
    app.sim.set_message_statuses_reordered(true);
    let late = queued(&app, json!({"to": "+15557060001", "body": "a"})).await;
    wait_status(&app, &late, "delivered").await;
    let undelivered = "+15557060002";
    app.sim
        .set_message_outcome(undelivered, MessageOutcome::Undelivered(30003));
    let lost = queued(&app, json!({"to": undelivered, "body": "b"})).await;
    let failed = "+15557060003";
    app.sim
        .set_message_outcome(failed, MessageOutcome::Failed(30008));
    let broken = queued(&app, json!({"to": failed, "body": "c"})).await;
    let n = wait_status(&app, &lost, "undelivered").await;
    assert_eq!(n["error_code"], "30003");
    let n = wait_status(&app, &broken, "failed").await;
    assert_eq!(n["error_code"], "30008");
    // Every callback has been heard: the delivered one is still delivered.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(notification(&app, &late).await["status"], "delivered");
    // Twilio refusing the create: failed with its code, never sent.
    let refused = "+15557060004";
    app.sim
        .fail_next_message(refused, CreateFailure::GeoPermission);
    let id = queued(&app, json!({"to": refused, "body": "d"})).await;
    let n = wait_status(&app, &id, "failed").await;
    assert_eq!(n["error_code"], "21408");
    assert!(
        !n["error_message"].as_str().unwrap().contains(refused),
        "{n}"
    );

    // The log: newest first, filtered, a page at a time.
    let app = &app;
    let list = |query: &'static str| async move {
        let resp = app
            .api(Method::GET, &format!("/api/notifications{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().await.unwrap()
    };
    let failed_only = list("?status=failed").await;
    let ids: Vec<&str> = failed_only["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["notification_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str(), broken.as_str()]);
    let first = list("?limit=2").await;
    assert_eq!(first["notifications"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let resp = app
        .api(
            Method::GET,
            &format!("/api/notifications?limit=2&cursor={cursor}"),
        )
        .send()
        .await
        .unwrap();
    let second: Value = resp.json().await.unwrap();
    let mut paged: Vec<&str> = first["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["notifications"].as_array().unwrap())
        .map(|n| n["notification_id"].as_str().unwrap())
        .collect();
    // Newest first: the last one queued leads, the first one queued ends.
    assert_eq!(paged.first(), Some(&id.as_str()));
    assert_eq!(paged.last(), Some(&late.as_str()));
    paged.sort();
    let mut all = vec![id.as_str(), broken.as_str(), lost.as_str(), late.as_str()];
    all.sort();
    assert_eq!(paged, all, "every text once across the pages");
    let bad = app
        .api(Method::GET, "/api/notifications?status=lost")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let unknown = app
        .api(Method::GET, "/api/notifications/nope")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// A copy of the shipped flows whose outbound flow sends its follow-up text.
fn flows_with_follow_up() -> std::path::PathBuf {
    let src = crate::helpers::flows_dir();
    let dir = std::env::temp_dir().join(format!(
        "callflow-followup-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(dir.join("sms")).unwrap();
    for sub in ["", "sms"] {
        for entry in std::fs::read_dir(src.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&path).unwrap().replace(
                    "# follow_up_sms = \"booking_follow_up\"",
                    "follow_up_sms = \"booking_follow_up\"",
                );
                std::fs::write(dir.join(sub).join(path.file_name().unwrap()), text).unwrap();
            }
        }
    }
    dir
}

#[tokio::test]
async fn an_interested_call_gets_the_flows_follow_up_text() {
    let flows = flows_with_follow_up();
    let app = crate::sms::spawn_with(|env| {
        env.insert("FLOWS_DIR", flows.display().to_string());
    })
    .await;
    let (yes, no) = ("+15557100001", "+15557100002");
    let (_, call) = app.run_call(yes, Some("Ada"), Persona::Interested).await;
    assert_eq!(call["call"]["disposition"], "interested");
    let (_, call) = app.run_call(no, None, Persona::Busy).await;
    assert_eq!(call["call"]["disposition"], "busy");
    let deadline = Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let resp = app
            .api(Method::GET, "/api/notifications?type=follow_up")
            .send()
            .await
            .unwrap();
        let listed: Value = resp.json().await.unwrap();
        if listed["notifications"][0]["status"] == "delivered" {
            break listed;
        }
        assert!(Instant::now() < deadline, "{listed}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let texts = listed["notifications"].as_array().unwrap();
    assert_eq!(texts.len(), 1, "{listed}");
    assert_eq!(texts[0]["to_number"], yes);
    assert_eq!(texts[0]["template"], "booking_follow_up");
    assert!(texts[0]["body"]
        .as_str()
        .unwrap()
        .contains("pick a time this week"));
    assert!(app.sim.messages().iter().all(|m| m.to != no));
}
