//! `GET /api/calls`: the tenant's calls newest first, filtered, paged with a
//! cursor that neither skips nor repeats while calls are added, and call
//! records that expire after `CALL_LOG_RETENTION_DAYS` (do-not-call entries stay).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::campaigns::wait_campaign;
use crate::helpers::{spawn_app_with, TestApp, API_TOKEN, VOICE_NUMBER};

async fn list(app: &TestApp, query: &str) -> (u16, Value) {
    let r = app
        .api(Method::GET, &format!("/api/calls{query}"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<String> {
    page["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap().to_string())
        .collect()
}

/// Places a call the simulator leaves alone (no callbacks); its call id.
async fn place_quiet(app: &TestApp, to: &str) -> String {
    app.sim.set_persona(to, Persona::Manual);
    let (status, placed) = app.place(json!({"to": to})).await;
    assert_eq!(status, 201, "{placed}");
    placed["call_id"].as_str().unwrap().to_string()
}

fn fast_dials(env: &mut std::collections::HashMap<&'static str, String>) {
    env.insert("TWILIO_MAX_CPS", "100".into());
}

#[tokio::test]
async fn the_log_lists_calls_newest_first_with_filters_and_masked_numbers() {
    let app = spawn_app_with(fast_dials).await;
    let (_, first) = app
        .run_call("+15550107001", Some("Ada"), Persona::Interested)
        .await;
    let (_, second) = app
        .run_call("+15550107002", Some("Ada"), Persona::Declines)
        .await;
    let campaign = app
        .place(json!({"contacts": [{"to": "+15550107003"}], "calls_per_second": 10}))
        .await
        .1;
    let campaign_id = campaign["campaign_id"].as_str().unwrap().to_string();
    wait_campaign(&app, &campaign_id, 30, |c| c["status"] == "completed").await;

    let (status, page) = list(&app, "").await;
    assert_eq!(status, 200, "{page}");
    let calls = page["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 3, "{page}");
    assert!(page["next_cursor"].is_null());
    // Newest first: the campaign's call, then the second, then the first.
    assert_eq!(calls[1]["call_id"], second["call"]["call_id"]);
    assert_eq!(calls[2]["call_id"], first["call"]["call_id"]);
    let newest = &calls[0];
    assert_eq!(newest["campaign_id"], campaign_id.as_str());
    assert_eq!(newest["to_number"], "+15550107003");
    let oldest = &calls[2];
    assert_eq!(oldest["direction"], "outbound");
    assert_eq!(oldest["to_number"], "+15550107001");
    assert_eq!(oldest["from_number"], VOICE_NUMBER);
    assert_eq!(oldest["to"], first["call"]["to"]);
    assert!(!oldest["to"].as_str().unwrap().contains("5550107001"));
    assert!(!oldest["from"].as_str().unwrap().contains("5550001111"));
    assert_eq!(oldest["call_sid"], first["call"]["call_sid"]);
    assert_eq!(oldest["status"], "completed");
    assert_eq!(oldest["disposition"], "interested");
    assert!(oldest["duration_s"].is_u64(), "{oldest}");
    assert!(oldest["ended_at"].is_string(), "{oldest}");
    assert!(oldest["started_at"].is_string(), "{oldest}");
    assert!(oldest["campaign_id"].is_null());
    assert!(oldest["recording_url"]
        .as_str()
        .is_some_and(|u| u.contains("/Recordings/RE")));

    // Filters, each alone and together.
    let only = |page: &Value| ids(page);
    let (_, p) = list(&app, "?disposition=declined").await;
    assert_eq!(only(&p), [second["call"]["call_id"].as_str().unwrap()]);
    let (_, p) = list(&app, "?to=%2B15550107001").await;
    assert_eq!(only(&p), [first["call"]["call_id"].as_str().unwrap()]);
    // An unescaped + arrives as a space and is still read as +.
    let (_, p) = list(&app, "?to=+15550107001").await;
    assert_eq!(only(&p).len(), 1, "{p}");
    let (_, p) = list(&app, &format!("?from=%2B{}", &VOICE_NUMBER[1..])).await;
    assert_eq!(only(&p).len(), 3);
    let (_, p) = list(&app, &format!("?campaign_id={campaign_id}")).await;
    assert_eq!(only(&p), [newest["call_id"].as_str().unwrap()]);
    let (_, p) = list(&app, "?direction=inbound").await;
    assert_eq!(only(&p).len(), 0);
    let (_, p) = list(&app, "?direction=outbound&disposition=interested&limit=5").await;
    assert!(only(&p).contains(&first["call"]["call_id"].as_str().unwrap().to_string()));
    assert!(!only(&p).contains(&second["call"]["call_id"].as_str().unwrap().to_string()));
    // Time bounds on when calls started (inclusive).
    let started = |c: &Value| c["started_at"].as_str().unwrap().to_string();
    let q = format!(
        "?since={}&until={}",
        urlencode(&started(&calls[1])),
        urlencode(&started(&calls[1]))
    );
    let (_, p) = list(&app, &q).await;
    assert_eq!(only(&p), [calls[1]["call_id"].as_str().unwrap()]);
    let q = format!("?until={}", urlencode(&started(&calls[1])));
    let (_, p) = list(&app, &q).await;
    assert_eq!(only(&p).len(), 2);
    // Empty values count as absent.
    let (status, p) = list(&app, "?direction=&disposition=&cursor=").await;
    assert_eq!(status, 200);
    assert_eq!(only(&p).len(), 3);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_while_calls_are_added() {
    let app = spawn_app_with(fast_dials).await;
    let mut before = Vec::new();
    for i in 0..12 {
        before.push(place_quiet(&app, &format!("+1555010{:04}", 8000 + i)).await);
    }
    let mut seen = Vec::new();
    let mut added = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let (status, page) = list(&app, &format!("?limit=5&cursor={cursor}")).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        pages += 1;
        // Calls placed between pages (one of them concurrently with the next request).
        added.push(place_quiet(&app, &format!("+1555010{:04}", 8100 + pages)).await);
        let next = page["next_cursor"].as_str().map(str::to_owned);
        let concurrent = {
            let to = format!("+1555010{:04}", 8200 + pages);
            app.sim.set_persona(&to, Persona::Manual);
            let req = app
                .api(Method::POST, "/api/calls/outbound")
                .json(&json!({"to": to}))
                .send();
            tokio::spawn(req)
        };
        let Some(next) = next else {
            let placed: Value = concurrent.await.unwrap().unwrap().json().await.unwrap();
            added.push(placed["call_id"].as_str().unwrap().to_string());
            break;
        };
        cursor = next;
        let placed: Value = concurrent.await.unwrap().unwrap().json().await.unwrap();
        added.push(placed["call_id"].as_str().unwrap().to_string());
        assert!(pages < 10, "paging does not end");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an item was repeated: {seen:?}");
    // Exactly the calls there were when paging began, newest first.
    let mut expected = before.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    // The calls added meanwhile are all on a fresh first page.
    let (_, fresh) = list(&app, "?limit=200").await;
    let fresh = ids(&fresh);
    assert_eq!(fresh.len(), before.len() + added.len());
    assert!(added.iter().all(|id| fresh.contains(id)));
}

#[tokio::test]
async fn bad_queries_name_the_field_and_tokens_are_required() {
    let app = spawn_app_with(|_| {}).await;
    for (query, field) in [
        ("?direction=sideways", "direction"),
        ("?disposition=happy", "disposition"),
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=ten", "limit"),
        ("?cursor=not-a-cursor", "cursor"),
        ("?since=yesterday", "since"),
        ("?until=2026-13-01T00:00:00Z", "until"),
        (
            "?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
            "until",
        ),
        ("?from=555", "from"),
        ("?to=%2B1", "to"),
        ("?colour=red", "colour"),
    ] {
        let (status, body) = list(&app, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request");
    }
    let r = app
        .http
        .get(format!("{}/api/calls", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .http
        .get(format!("{}/api/calls", app.base_url))
        .bearer_auth(format!("{API_TOKEN}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn records_expire_after_retention_and_do_not_call_entries_stay() {
    // 0.00005 days: 4.32 seconds.
    let app = spawn_app_with(|env| {
        env.insert("CALL_LOG_RETENTION_DAYS", "0.00005".into());
    })
    .await;
    let call_id = place_quiet(&app, "+15550109001").await;
    let call = app.get_call(&call_id).await;
    let call_sid = call["call"]["call_sid"].as_str().unwrap().to_string();
    let r = app
        .api(Method::POST, "/api/dnc")
        .json(&json!({"number": "+15550109002"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (_, page) = list(&app, "").await;
    assert_eq!(ids(&page), [call_id.as_str()]);

    let mut redis = redis::Client::open(app.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for key in [
        format!("cf:default:call:{{{call_id}}}"),
        format!("cf:default:call:{{{call_id}}}:timeline"),
        format!("cf:default:sid:{{{call_sid}}}"),
    ] {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= 4_320, "{key} expires in {ttl} ms");
    }
    let dnc_ttl: i64 = redis::cmd("PTTL")
        .arg("cf:default:dnc")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(dnc_ttl, -1, "the do-not-call list never expires");

    // Past retention: the call is gone by id, by sid and from the log.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = app
            .api(Method::GET, &format!("/api/calls/{call_id}"))
            .send()
            .await
            .unwrap();
        if r.status() == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "the call never expired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let r = app
        .api(Method::GET, &format!("/api/calls/{call_sid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (_, page) = list(&app, "").await;
    assert_eq!(ids(&page).len(), 0, "{page}");
    let entries: i64 = redis::cmd("ZCARD")
        .arg("cf:default:calls")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(entries, 0, "listing drops entries past retention");
    let r = app
        .api(Method::GET, "/api/dnc/+15550109002")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "do-not-call entries never expire");
    // The log goes on with new calls.
    let newer = place_quiet(&app, "+15550109003").await;
    let (_, page) = list(&app, "").await;
    assert_eq!(ids(&page), [newer]);
}

#[tokio::test]
async fn a_page_looks_at_a_bounded_number_of_entries_and_says_where_to_go_on() {
    let app = spawn_app_with(|_| {}).await;
    let store = callflow::store::Store::connect(&app.redis.url(), "default")
        .await
        .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(crate::helpers::DAYTIME)
        .unwrap()
        .timestamp_millis();
    // 1,100 log entries whose records are gone: nothing to list, much to look at.
    let scan = callflow::app::call_log::MAX_SCANNED;
    for i in 0..(scan as i64 + 100) {
        let entry = callflow::store::CallLogEntry {
            at_ms: now - 1_000 - i,
            direction: "outbound".into(),
            call_id: format!("gone{i}"),
        };
        let keys = store.keys().call_record(&entry.call_id);
        store
            .log_new_call(&entry, &keys, Duration::from_secs(60), 0)
            .await
            .unwrap();
    }
    let real = place_quiet(&app, "+15550109101").await;
    let (status, page) = list(&app, "?disposition=interested&limit=10").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page).len(), 0);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a cursor to go on from");
    let (_, page) = list(&app, &format!("?disposition=interested&cursor={cursor}")).await;
    assert_eq!(ids(&page).len(), 0);
    assert!(
        page["next_cursor"].is_null(),
        "the rest fits in one look: {page}"
    );
    // Without the filter the real call is first.
    let (_, page) = list(&app, "?limit=1").await;
    assert_eq!(ids(&page), [real]);
}
