//! Single calls pass the same gate as campaign dials: outside the callee's
//! calling window they are refused with when they may be dialed, or scheduled
//! and dialed at the opening; over the number's cap they are refused.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::spawn_app_with;

/// Thursday 03:00 UTC: 22:00 on Wednesday in New York, too late to call.
const NY_NIGHT: &str = "2026-01-15T03:00:00Z";

#[tokio::test]
async fn a_single_call_outside_the_window_is_refused_and_nothing_is_dialed() {
    let app = spawn_app_with(|env| {
        env.insert("CALLFLOW_CLOCK_START", NY_NIGHT.into());
    })
    .await;
    let (status, body) = app.place(json!({"to": "+12125550100"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "outside_calling_window", "{body}");
    assert_eq!(body["error"]["field"], "to", "{body}");
    // 08:00 in New York.
    assert_eq!(
        body["error"]["next_allowed_at"], "2026-01-15T13:00:00+00:00",
        "{body}"
    );
    // A Florida number at 20:30 local is held by Florida's 20:00 end of calls.
    let (status, body) = app
        .place(json!({"to": "+13055550100", "timezone": "America/Chicago"}))
        .await;
    assert_eq!(status, 422, "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.sim.calls().is_empty(), "nothing was dialed");
}

#[tokio::test]
async fn a_scheduled_single_call_is_dialed_when_its_window_opens() {
    let app = spawn_app_with(|env| {
        env.insert("CALLFLOW_CLOCK_START", NY_NIGHT.into());
        // An hour a second: the window opens ten seconds from now.
        env.insert("CALLFLOW_CLOCK_SPEED", "3600".into());
        env.insert("DISPATCH_LEASE_SECS", "86400".into());
    })
    .await;
    let (status, body) = app
        .place(json!({"to": "+12125550101", "schedule": "next_window"}))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "scheduled", "{body}");
    assert_eq!(body["scheduled_at"], "2026-01-15T13:00:00Z", "{body}");
    let call_id = body["call_id"].as_str().unwrap().to_string();
    let call = app.get_call(&call_id).await;
    assert_eq!(call["call"]["status"], "scheduled", "{call}");
    // Two seconds are two hours of service time: still night in New York.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(app.sim.calls().is_empty(), "not dialed before its window");

    let deadline = Instant::now() + Duration::from_secs(60);
    while app.sim.calls().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the scheduled call was never dialed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.sim.calls().len(), 1);
    let call = app.get_call(&call_id).await;
    assert_ne!(call["call"]["status"], "scheduled", "{call}");
    assert!(call["call"]["call_sid"].is_string(), "{call}");
    // Dialed no earlier than the opening, on the service clock.
    let dialed = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "dialed")
        .and_then(|e| e["at"].as_str())
        .map(str::to_owned)
        .expect("a dialed entry");
    assert!(dialed.as_str() >= "2026-01-15T13:00:00", "{dialed}");
}

#[tokio::test]
async fn a_single_call_over_the_numbers_cap_is_refused() {
    let app = spawn_app_with(|env| {
        env.insert("MAX_DIALS_PER_NUMBER_24H", "2".into());
        env.insert("TWILIO_MAX_CPS", "50".into());
    })
    .await;
    for _ in 0..2 {
        let (status, body) = app.place(json!({"to": "+12125550102"})).await;
        assert_eq!(status, 201, "{body}");
        // One call in progress per number: the next waits for this one's end.
        let sid = body["call_sid"].as_str().unwrap();
        app.sim
            .wait_finished(sid, std::time::Duration::from_secs(20))
            .await
            .expect("finished");
        crate::one_call_per_number::wait_released(&app, "+12125550102").await;
    }
    let (status, body) = app.place(json!({"to": "+12125550102"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "frequency_cap", "{body}");
    assert!(body["error"]["next_allowed_at"].is_string(), "{body}");
    assert_eq!(app.sim.calls().len(), 2);
}
