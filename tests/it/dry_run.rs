//! `"dry_run": true`: what a call or a campaign would meet, with nothing
//! stored and nobody dialed. The service clock starts Wednesday 2026-01-14
//! 19:00 UTC (14:00 in New York).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};

/// Every key the service wrote to Redis that is not the do-not-call list.
async fn stored_keys(app: &TestApp) -> Vec<String> {
    let mut redis = redis::Client::open(app.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("cf:*")
        .query_async(&mut redis)
        .await
        .unwrap();
    keys.into_iter().filter(|k| !k.ends_with(":dnc")).collect()
}

#[tokio::test]
async fn a_single_call_dry_run_reports_zone_state_and_rules_and_creates_nothing() {
    let app = at_wednesday_1900_utc().await;
    // Miami's area code: Florida, New York time, 14:00 there: dialable.
    let (status, run) = app
        .place(json!({"to": "+13055550123", "dry_run": true}))
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["dry_run"], true);
    assert_eq!(run["kind"], "call");
    let c = &run["contacts"][0];
    assert_eq!(c["to"], "+1***-***-0123");
    assert_eq!(c["zones"], json!(["America/New_York"]));
    assert_eq!(c["zone_source"], "number");
    assert_eq!(
        (c["state"].as_str(), c["state_source"].as_str()),
        (Some("FL"), Some("area_code"))
    );
    let scopes: Vec<&str> = c["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["federal", "FL"]);
    assert_eq!(c["dialable_now"], true);
    assert_eq!(c["next_allowed_at"], Value::Null);
    assert_eq!(c["rejected"], Value::Null);

    // Given zone Paris: 20:00 there. Federal hours allow it, Florida's (to
    // 20:00) do not: held until 08:00 Paris time.
    let (status, run) = app
        .place(json!({"to": "+13055550123", "timezone": "Europe/Paris", "dry_run": true}))
        .await;
    assert_eq!(status, 200, "{run}");
    let c = &run["contacts"][0];
    assert_eq!(c["zones"], json!(["Europe/Paris"]));
    assert_eq!(c["zone_source"], "timezone");
    assert_eq!(c["dialable_now"], false);
    assert_eq!(c["held_by"], "state_rule");
    assert_eq!(c["next_allowed_at"], "2026-01-15T07:00:00Z");
    assert_eq!(run["summary"]["held"], 1);

    // A given state wins over the area code.
    let (_, run) = app
        .place(json!({"to": "+13055550123", "state": "TX", "dry_run": true}))
        .await;
    assert_eq!(run["contacts"][0]["state"], "TX");
    assert_eq!(run["contacts"][0]["state_source"], "given");

    // A number on the do-not-call list is a rejection, not an error.
    let dnc = app
        .api(Method::POST, "/api/dnc")
        .json(&json!({"number": "+12125550199"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dnc.status(), 201);
    let (status, run) = app
        .place(json!({"to": "+12125550199", "dry_run": true}))
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["contacts"][0]["rejected"]["code"], "do_not_call");

    assert!(app.sim.calls().is_empty(), "nobody dialed");
    assert!(
        stored_keys(&app).await.is_empty(),
        "{:?}",
        stored_keys(&app).await
    );
}

#[tokio::test]
async fn a_campaign_dry_run_judges_every_contact_and_creates_nothing() {
    let app = at_wednesday_1900_utc().await;
    let dnc = app
        .api(Method::POST, "/api/dnc")
        .json(&json!({"number": "+13125550104"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dnc.status(), 201);
    let body = json!({
        "dry_run": true,
        "contacts": [
            {"to": "+12125550100"},
            {"to": "+13105550101"},
            {"to": "555"},
            {"to": "+12125550100"},
            {"to": "+13125550104"},
            {"to": "+15555550105", "timezone": "Asia/Tokyo"}
        ],
        // 15:00-20:00: too early in New York (14:00), fine nowhere yet.
        "window": {"start": "15:00", "end": "20:00"}
    });
    let (status, run) = app.place(body).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["kind"], "campaign");
    let c = run["contacts"].as_array().unwrap();
    assert_eq!(c.len(), 6);
    assert_eq!(c[0]["held_by"], "window");
    assert_eq!(
        c[0]["next_allowed_at"], "2026-01-14T20:00:00Z",
        "15:00 in New York"
    );
    assert_eq!(c[0]["state"], "NY");
    assert_eq!(c[1]["zones"], json!(["America/Los_Angeles"]));
    assert_eq!(
        c[1]["next_allowed_at"], "2026-01-14T23:00:00Z",
        "15:00 in Los Angeles"
    );
    assert_eq!(c[2]["rejected"]["code"], "invalid_number");
    assert_eq!(c[3]["rejected"]["code"], "duplicate");
    assert_eq!(c[4]["rejected"]["code"], "do_not_call");
    assert_eq!(c[5]["zones"], json!(["Asia/Tokyo"]));
    assert_eq!(c[5]["state"], Value::Null);
    // 04:00 in Tokyo; the window opens at 15:00 there.
    assert_eq!(c[5]["next_allowed_at"], "2026-01-15T06:00:00Z");
    let s = &run["summary"];
    assert_eq!(
        (
            s["contacts"].as_u64(),
            s["held"].as_u64(),
            s["rejected"].as_u64()
        ),
        (Some(6), Some(3), Some(3))
    );
    assert_eq!(s["dialable_now"], 0);
    assert_eq!(s["next_allowed_at"], "2026-01-14T20:00:00Z");
    assert_eq!(s["rejections"]["duplicate"], 1);
    assert_eq!(run["truncated"], false);

    assert!(app.sim.calls().is_empty(), "nobody dialed");
    assert!(
        stored_keys(&app).await.is_empty(),
        "{:?}",
        stored_keys(&app).await
    );
}

#[tokio::test]
async fn a_large_dry_run_lists_a_bounded_page_and_counts_everything() {
    let app = at_wednesday_1900_utc().await;
    let contacts: Vec<Value> = (0..3_000)
        .map(|i| json!({"to": format!("+1212555{i:04}")}))
        .collect();
    let (status, run) = app
        .place(json!({"contacts": contacts, "dry_run": true}))
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["contacts"].as_array().unwrap().len(), 1_000);
    assert_eq!(run["truncated"], true);
    assert_eq!(run["summary"]["contacts"], 3_000);
    assert_eq!(run["summary"]["dialable_now"], 3_000);
    // New York has no rule stricter than the federal one.
    assert_eq!(run["summary"]["states"]["none"], 3_000);
    assert!(stored_keys(&app).await.is_empty());
}

/// The dry-run expectations are worked out for Wednesday 2026-01-14, 19:00 UTC
/// (14:00 in New York, 11:00 in Los Angeles).
async fn at_wednesday_1900_utc() -> TestApp {
    spawn_app_with(|env| {
        env.insert("CALLFLOW_CLOCK_START", "2026-01-14T19:00:00Z".into());
    })
    .await
}
