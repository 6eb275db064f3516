//! Campaigns end to end: load, pacing, concurrency, windows, retries, opt-out,
//! pause/resume/cancel, against real Redis and the simulator.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

/// Polls the campaign until `done` says so (or panics after `secs`).
pub async fn wait_campaign(
    app: &TestApp,
    id: &str,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let c = campaign(app, id).await;
        if done(&c) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "campaign did not get there in {secs}s: {c}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn campaign(app: &TestApp, id: &str) -> Value {
    let r = app
        .api(Method::GET, &format!("/api/campaigns/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn start(app: &TestApp, body: Value) -> Value {
    let (status, created) = app.place(body).await;
    assert_eq!(status, 202, "{created}");
    created
}

fn completed(c: &Value) -> bool {
    c["status"] == "completed"
}

/// How many calls the simulator received per number.
fn dials_per_number(app: &TestApp) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for c in app.sim.calls() {
        *m.entry(c.to.clone()).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn campaign_loads_rejects_and_finishes_every_contact_once() {
    loads_rejects_and_finishes(10_000).await;
}

#[tokio::test]
async fn sharded_campaign_loads_rejects_and_finishes_every_contact_once() {
    loads_rejects_and_finishes(4).await;
}

/// The whole life of a 15-contact campaign, its contacts in shards of `per_shard`.
async fn loads_rejects_and_finishes(per_shard: u32) {
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "50".into());
        env.insert("CAMPAIGN_SHARD_CONTACTS", per_shard.to_string());
    })
    .await;
    app.api(Method::POST, "/api/dnc")
        .json(&json!({"number": "+15556660009"}))
        .send()
        .await
        .unwrap();
    let mut contacts: Vec<Value> = (0..12)
        .map(|i| json!({"to": format!("+1555666{:04}", i), "name": "Ada"}))
        .collect();
    contacts.push(json!({"to": "555-0100"}));
    contacts.push(json!({"to": "+15556660001"}));
    contacts.push(json!({"to": "+15556660100", "timezone": "Mars/Base"}));
    app.sim.set_persona("+15556660003", Persona::Busy);
    app.sim.set_persona("+15556660004", Persona::Declines);
    let created = start(
        &app,
        json!({"contacts": contacts, "calls_per_second": 20, "max_concurrent": 5}),
    )
    .await;
    assert_eq!(created["accepted"], 11);
    assert_eq!(created["rejected"], 4);
    let reasons: Vec<(u64, &str)> = created["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (9, "do_not_call"),
            (12, "invalid_number"),
            (13, "duplicate"),
            (14, "invalid_timezone")
        ]
    );

    let id = created["campaign_id"].as_str().unwrap();
    // The contacts' states live under one hash tag per shard.
    let shards = 15_u32.div_ceil(per_shard) as usize;
    let mut redis = redis::Client::open(app.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let contact_keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("cf:default:campaign:{{{id}*}}:contacts"))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(contact_keys.len(), shards, "{contact_keys:?}");
    let done = wait_campaign(&app, id, 60, completed).await;
    assert_eq!(done["counts"]["done"], 11, "{done}");
    assert_eq!(done["counts"]["pending"], 0, "{done}");
    assert_eq!(done["counts"]["attempts"], 11, "{done}");
    assert_eq!(done["counts"]["dispositions"]["interested"], 9, "{done}");
    assert_eq!(done["counts"]["dispositions"]["busy"], 1);
    assert_eq!(done["counts"]["dispositions"]["declined"], 1);
    assert!(done["completed_at"].is_string());
    let dials = dials_per_number(&app);
    assert_eq!(dials.len(), 11);
    assert!(dials.values().all(|n| *n == 1), "{dials:?}");
    assert!(
        !dials.contains_key("+15556660009"),
        "do-not-call number dialed"
    );

    // Paging through the contacts, filtered.
    let page: Value = app
        .api(Method::GET, &format!("/api/campaigns/{id}/calls?limit=4"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["calls"].as_array().unwrap().len(), 4);
    let mut seen = page["calls"].as_array().unwrap().len();
    let mut cursor = page["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let p: Value = app
            .api(
                Method::GET,
                &format!("/api/campaigns/{id}/calls?limit=4&cursor={c}"),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen += p["calls"].as_array().unwrap().len();
        cursor = p["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, 11);
    let busy: Value = app
        .api(
            Method::GET,
            &format!("/api/campaigns/{id}/calls?disposition=busy&state=done"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(busy["calls"].as_array().unwrap().len(), 1, "{busy}");
    assert_eq!(busy["calls"][0]["to"], "+1***-***-0003");
    let bad = app
        .api(
            Method::GET,
            &format!("/api/campaigns/{id}/calls?state=sleeping"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn campaign_input_is_validated_field_by_field() {
    let app = spawn_app().await;
    let one = json!([{"to": "+15551112222"}]);
    let cases = [
        (json!({"contacts": []}), "contacts"),
        (json!({"contacts": "x"}), "contacts"),
        (
            json!({"contacts": one, "calls_per_second": 0}),
            "calls_per_second",
        ),
        (
            json!({"contacts": one, "max_concurrent": 0}),
            "max_concurrent",
        ),
        (
            json!({"contacts": one, "window": {"start": "9am"}}),
            "window.start",
        ),
        (
            json!({"contacts": one, "window": {"start": "22:00", "end": "23:00"}}),
            "window",
        ),
        (
            json!({"contacts": one, "window": {"days": ["someday"]}}),
            "window.days",
        ),
        (
            json!({"contacts": one, "retry": {"on": ["interested"]}}),
            "retry.on[0]",
        ),
        (
            json!({"contacts": one, "retry": {"on": ["busy"], "backoff": ["soon"]}}),
            "retry.backoff[0]",
        ),
        (
            json!({"contacts": one, "retry": {"max_attempts": 99}}),
            "retry.max_attempts",
        ),
        (
            json!({"contacts": one, "webhook_url": "https://hooks.example.com/x"}),
            "webhook_url",
        ),
        (json!({"contacts": one, "to": "+15551112222"}), "to"),
        (json!({"contacts": one, "speed": 3}), "speed"),
        (json!({"contacts": [{"to": "nope"}]}), "contacts"),
    ];
    for (body, field) in cases {
        let (status, err) = app.place(body.clone()).await;
        assert_eq!(status, 400, "{body} -> {err}");
        assert_eq!(err["error"]["field"], field, "{body} -> {err}");
    }
    assert!(app.sim.calls().is_empty());
    let r = app
        .api(Method::GET, "/api/campaigns/nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn pacing_and_concurrency_hold() {
    let _turn = crate::helpers::TIMING.lock().await;
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "100".into());
    })
    .await;
    let n = 16;
    let contacts: Vec<Value> = (0..n)
        .map(|i| json!({"to": format!("+1555777{:04}", i)}))
        .collect();
    let created = start(
        &app,
        json!({"contacts": contacts, "calls_per_second": 5, "max_concurrent": 3}),
    )
    .await;
    let id = created["campaign_id"].as_str().unwrap().to_string();
    // Sample the number of calls in progress while it runs.
    let mut max_seen = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let c = campaign(&app, &id).await;
        let busy =
            c["counts"]["in_progress"].as_u64().unwrap() + c["counts"]["dialing"].as_u64().unwrap();
        max_seen = max_seen.max(busy);
        let live = app.sim.calls().iter().filter(|c| !c.finished).count() as u64;
        assert!(live <= 3, "{live} calls live at once");
        if completed(&c) {
            break;
        }
        assert!(Instant::now() < deadline, "{c}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(max_seen <= 3, "max_concurrent exceeded: {max_seen}");
    let mut times: Vec<Instant> = app.sim.calls().iter().map(|c| c.created_at).collect();
    times.sort();
    assert_eq!(times.len(), n);
    let span = times[n - 1].duration_since(times[0]).as_secs_f64();
    let rate = (n - 1) as f64 / span;
    // Over a short run one late first dial shows as a few percent: allow 5 %.
    assert!(rate <= 5.0 * 1.05, "mean rate {rate:.2}/s above 5/s");
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]).as_millis();
        assert!(gap >= 95, "two dials {gap} ms apart at 5/s");
    }
    // In any one-second window: at most the rate, plus the one dial a token
    // bucket of burst one lets through after a late tick.
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
            .count();
        assert!(in_window <= 6, "{in_window} dials within one second");
    }
}

#[tokio::test]
async fn account_wide_limit_caps_the_campaign_rate() {
    let _turn = crate::helpers::TIMING.lock().await;
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "4".into());
    })
    .await;
    let contacts: Vec<Value> = (0..9)
        .map(|i| json!({"to": format!("+1555778{:04}", i)}))
        .collect();
    let created = start(
        &app,
        json!({"contacts": contacts, "calls_per_second": 50, "max_concurrent": 50}),
    )
    .await;
    wait_campaign(
        &app,
        created["campaign_id"].as_str().unwrap(),
        60,
        completed,
    )
    .await;
    let mut times: Vec<Instant> = app.sim.calls().iter().map(|c| c.created_at).collect();
    times.sort();
    let span = times[times.len() - 1]
        .duration_since(times[0])
        .as_secs_f64();
    let rate = (times.len() - 1) as f64 / span;
    assert!(
        rate <= 4.0 * 1.02,
        "account limit of 4/s exceeded: {rate:.2}/s"
    );
}

#[tokio::test]
async fn retries_follow_the_policy_and_final_dispositions_are_never_retried() {
    let _turn = crate::helpers::TIMING.lock().await;
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "50".into());
    })
    .await;
    let (busy, no_answer, declines) = ("+15558880001", "+15558880002", "+15558880003");
    app.sim.set_persona(busy, Persona::Busy);
    app.sim.set_persona(no_answer, Persona::NoAnswer);
    app.sim.set_persona(declines, Persona::Declines);
    let created = start(
        &app,
        json!({
            "contacts": [{"to": busy}, {"to": no_answer}, {"to": declines}],
            "calls_per_second": 10,
            "retry": {"on": ["busy"], "max_attempts": 3, "backoff": ["1s", "2s"]}
        }),
    )
    .await;
    let id = created["campaign_id"].as_str().unwrap();
    let done = wait_campaign(&app, id, 60, completed).await;
    let dials = dials_per_number(&app);
    assert_eq!(dials[busy], 3, "busy is retried up to max_attempts");
    assert_eq!(dials[no_answer], 1, "no_answer is not in retry.on");
    assert_eq!(dials[declines], 1, "declined is final");
    assert_eq!(done["counts"]["attempts"], 5);
    let mut busy_times: Vec<Instant> = app
        .sim
        .calls()
        .iter()
        .filter(|c| c.to == busy)
        .map(|c| c.created_at)
        .collect();
    busy_times.sort();
    assert!(busy_times[1].duration_since(busy_times[0]) >= Duration::from_millis(1000));
    assert!(busy_times[2].duration_since(busy_times[1]) >= Duration::from_millis(2000));
    let page: Value = app
        .api(
            Method::GET,
            &format!("/api/campaigns/{id}/calls?disposition=busy"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["calls"][0]["attempts"], 3);
}

#[tokio::test]
async fn opt_out_mid_campaign_stops_every_later_dial() {
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "50".into());
    })
    .await;
    let (opts_out, added_later) = ("+15559990001", "+15559990002");
    app.sim.set_persona(opts_out, Persona::OptsOutMidPitch);
    let created = start(
        &app,
        json!({
            "contacts": [{"to": opts_out, "name": "Ada"}, {"to": added_later}],
            "calls_per_second": 1,
            "retry": {"on": ["busy", "no_answer"], "max_attempts": 3, "backoff": ["1s"]}
        }),
    )
    .await;
    let id = created["campaign_id"].as_str().unwrap();
    // The second contact opts out by another channel before its turn comes.
    app.api(Method::POST, "/api/dnc")
        .json(&json!({"number": added_later}))
        .send()
        .await
        .unwrap();
    let done = wait_campaign(&app, id, 60, completed).await;
    assert_eq!(done["counts"]["dispositions"]["opted_out"], 1, "{done}");
    assert_eq!(done["counts"]["dispositions"]["do_not_call"], 1, "{done}");
    let dials = dials_per_number(&app);
    assert_eq!(dials.get(opts_out), Some(&1));
    assert_eq!(
        dials.get(added_later),
        None,
        "a number on the list was dialed"
    );

    // A later campaign of this tenant refuses the number that opted out.
    let (status, again) = app
        .place(json!({"contacts": [{"to": opts_out}, {"to": "+15559990003"}]}))
        .await;
    assert_eq!(status, 202);
    assert_eq!(again["rejections"][0]["reason"], "do_not_call");
}

#[tokio::test]
async fn pause_resume_and_cancel() {
    let _turn = crate::helpers::TIMING.lock().await;
    let app = spawn_app().await;
    let contacts: Vec<Value> = (0..30)
        .map(|i| json!({"to": format!("+1555121{:04}", i)}))
        .collect();
    let created = start(&app, json!({"contacts": contacts, "calls_per_second": 4})).await;
    let id = created["campaign_id"].as_str().unwrap();
    let steer = |action: &'static str| {
        app.api(Method::POST, &format!("/api/campaigns/{id}/{action}"))
            .send()
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = steer("pause").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "paused");
    let at_pause = app.sim.calls().len();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // A dial already claimed may still go out; nothing after it.
    assert!(
        app.sim.calls().len() <= at_pause + 1,
        "dials continued while paused"
    );
    let paused_count = app.sim.calls().len();
    assert_eq!(steer("resume").await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        app.sim.calls().len() > paused_count,
        "resume did not resume"
    );
    let r = steer("cancel").await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "canceled");
    let at_cancel = app.sim.calls().len();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        app.sim.calls().len() <= at_cancel + 1,
        "dials continued after cancel"
    );
    assert!(app.sim.calls().len() < 30);
    // Canceled is final.
    assert_eq!(steer("resume").await.unwrap().status(), 409);
    let c = campaign(&app, id).await;
    assert_eq!(c["status"], "canceled");
    assert!(c["canceled_at"].is_string());
}

#[tokio::test]
async fn uncertain_or_refused_dials_are_never_dialed_twice() {
    use twilio_sim::CreateFailure;
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_MAX_CPS", "50".into());
    })
    .await;
    let (lost, not_placed, throttled) = ("+15558890001", "+15558890002", "+15558890003");
    // Twilio places the call but its answer is lost: the call's own callbacks settle it.
    app.sim.fail_next_create(lost, CreateFailure::PlacedButLost);
    // Twilio answers 503 and places nothing: reconciled from Twilio's call list, then dialed.
    app.sim
        .fail_next_create(not_placed, CreateFailure::NotPlaced);
    // 429: dialed again after a pause, and it is not an attempt.
    app.sim
        .fail_next_create(throttled, CreateFailure::Throttled);
    let created = start(
        &app,
        json!({"contacts": [{"to": lost, "name": "Ada"}, {"to": not_placed, "name": "Ada"}, {"to": throttled, "name": "Ada"}],
               "calls_per_second": 10}),
    )
    .await;
    let id = created["campaign_id"].as_str().unwrap();
    let done = wait_campaign(&app, id, 60, completed).await;
    assert_eq!(done["counts"]["dispositions"]["interested"], 3, "{done}");
    let dials = dials_per_number(&app);
    assert_eq!(dials.get(lost), Some(&1), "an uncertain dial was repeated");
    assert_eq!(dials.get(not_placed), Some(&1));
    assert_eq!(dials.get(throttled), Some(&1));
    let page: Value = app
        .api(Method::GET, &format!("/api/campaigns/{id}/calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for c in page["calls"].as_array().unwrap() {
        assert_eq!(c["attempts"], 1, "{c}");
    }
}

#[tokio::test]
async fn single_call_with_a_lost_answer_is_a_502_and_still_settles() {
    use twilio_sim::CreateFailure;
    let app = spawn_app().await;
    let to = "+15558890010";
    app.sim.fail_next_create(to, CreateFailure::PlacedButLost);
    let (status, body) = app.place(json!({"to": to, "name": "Ada"})).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "twilio_uncertain");
    let call_id = body["error"]["call_id"].as_str().unwrap().to_string();
    let sid = app.sim.calls()[0].sid.clone();
    app.sim
        .wait_finished(&sid, Duration::from_secs(20))
        .await
        .unwrap();
    let call = app.get_call(&call_id).await;
    assert_eq!(call["call"]["call_sid"], sid.as_str());
    assert_eq!(call["call"]["disposition"], "interested");
    assert_eq!(app.sim.calls().len(), 1);
}

#[tokio::test]
async fn campaign_events_are_signed_and_redelivered_until_accepted() {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    use std::sync::{Arc, Mutex};
    type Received = Arc<Mutex<Vec<(String, String)>>>;
    let received: Received = Arc::default();
    let failures_left = Arc::new(Mutex::new(1));
    let refused_ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let (r, f, refused) = (received.clone(), failures_left.clone(), refused_ids.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    let server = HttpServer::new(move || {
        let (r, f, refused) = (r.clone(), f.clone(), refused.clone());
        App::new().route(
            "/hook",
            web::post().to(move |req: HttpRequest, body: String| {
                let (r, f, refused) = (r.clone(), f.clone(), refused.clone());
                async move {
                    let mut left = f.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        let id = req.headers().get("webhook-id").unwrap().to_str().unwrap();
                        refused.lock().unwrap().push(id.to_string());
                        return HttpResponse::InternalServerError().finish();
                    }
                    let sig = req
                        .headers()
                        .get("X-Callflow-Signature")
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_string();
                    // The Standard Webhooks headers, checked by the scheme's own library
                    // as a receiver configured with whsec_ + base64(the secret) would.
                    let mut headers = http::HeaderMap::new();
                    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
                        let value = req.headers().get(name).expect(name).as_bytes();
                        headers.insert(name, http::HeaderValue::from_bytes(value).unwrap());
                    }
                    standardwebhooks::Webhook::new("whsec_aG9vay1zZWNyZXQ=")
                        .unwrap()
                        .verify(body.as_bytes(), &headers)
                        .expect("Standard Webhooks signature verifies");
                    let event: Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(headers["webhook-id"], event["id"].as_str().unwrap());
                    r.lock().unwrap().push((sig, body));
                    HttpResponse::Ok().finish()
                }
            }),
        )
    })
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);

    let app = spawn_app_with(|env| {
        env.insert("CAMPAIGN_WEBHOOK_SECRET", "hook-secret".into());
        env.insert("TWILIO_MAX_CPS", "50".into());
    })
    .await;
    app.sim.set_persona("+15558891002", Persona::Busy);
    let created = start(
        &app,
        json!({"contacts": [{"to": "+15558891001", "name": "Ada"}, {"to": "+15558891002"}], "calls_per_second": 10, "webhook_url": hook}),
    )
    .await;
    let id = created["campaign_id"].as_str().unwrap();
    wait_campaign(&app, id, 60, completed).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().len() < 3 {
        assert!(
            Instant::now() < deadline,
            "events not delivered: {:?}",
            received.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = received.lock().unwrap().clone();
    // The refused delivery came again under the same webhook-id, so receivers can deduplicate.
    let refused = refused_ids.lock().unwrap().clone();
    assert_eq!(refused.len(), 1);
    assert!(
        events
            .iter()
            .any(|(_, body)| body.contains(&format!("\"id\":\"{}\"", refused[0]))),
        "the refused event was redelivered with its id"
    );
    let mut types = Vec::new();
    for (sig, body) in &events {
        let t: i64 = sig
            .split(',')
            .next()
            .unwrap()
            .trim_start_matches("t=")
            .parse()
            .unwrap();
        assert_eq!(
            sig,
            &callflow::campaign::events::signature("hook-secret", t, body),
            "bad signature"
        );
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["campaign_id"], id);
        types.push((
            event["type"].as_str().unwrap().to_string(),
            event["disposition"].as_str().map(str::to_owned),
        ));
    }
    types.sort();
    assert_eq!(
        types,
        [
            ("call.finished".to_string(), Some("busy".to_string())),
            ("call.finished".to_string(), Some("interested".to_string())),
            ("campaign.completed".to_string(), None),
        ]
    );
    let completed_event: Value = serde_json::from_str(
        &events
            .iter()
            .find(|(_, b)| b.contains("campaign.completed"))
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(completed_event["counts"]["done"], 2);
}

/// Settling a contact and completing the campaign are two steps in two slots
/// when the campaign is sharded. If an instance dies between them, whichever
/// dispatcher next finds nothing left completes the campaign, once.
#[tokio::test]
async fn a_campaign_settled_but_not_completed_is_completed_by_the_dispatcher() {
    use callflow::campaign::model::{CampaignConfig, RetryPolicy};
    use callflow::store::{Finish, Store};

    let app = spawn_app().await;
    let store = Store::connect(&app.redis.url(), "default").await.unwrap();
    let id = "interrupted";
    let config = CampaignConfig {
        campaign_id: id.into(),
        flow_id: "outbound_booking".into(),
        flow_version: "unused".into(),
        window: None,
        max_concurrent: 1,
        calls_per_second: 1.0,
        retry: RetryPolicy::default(),
        webhook_url: None,
        total: 5,
        created_at: chrono::Utc::now(),
        shards: 3,
        from: None,
    };
    let fields = [
        ("config", serde_json::to_string(&config).unwrap()),
        ("status", "paused".to_string()),
        ("total", "5".to_string()),
        ("index_end", "5".to_string()),
        ("shards", "3".to_string()),
    ];
    let contacts: Vec<(u32, String)> = (0..5)
        .map(|i| (i, json!({"to": format!("+1555444{i:04}")}).to_string()))
        .collect();
    store
        .create_campaign(id, 3, &fields, &contacts, 0)
        .await
        .unwrap();
    // Every contact settled (say, skipped), in its own shard; then the process "dies".
    let done_state = json!({"phase": "done", "attempts": 0, "disposition": "do_not_call"});
    let mut drained = 0;
    for i in 0..5 {
        let finish = store
            .finish_contact(id, 3, i, "", "do_not_call", None, &done_state.to_string())
            .await
            .unwrap();
        match finish {
            Finish::Drained => drained += 1,
            other => assert_eq!(other, Finish::Final),
        }
    }
    // Contacts 0..5 in 3 shards: each shard's last one leaves it empty.
    assert_eq!(drained, 3);
    let paused = campaign(&app, id).await;
    assert_eq!(paused["status"], "paused");
    assert_eq!(paused["counts"]["done"], 5, "{paused}");
    assert_eq!(paused["counts"]["pending"], 0, "{paused}");

    store
        .set_campaign_status(id, "running", &["paused"], None)
        .await
        .unwrap()
        .unwrap();
    let done = wait_campaign(&app, id, 20, completed).await;
    assert_eq!(done["counts"]["dispositions"]["do_not_call"], 5, "{done}");
    assert!(done["completed_at"].is_string(), "{done}");
    assert!(app.sim.calls().is_empty(), "nothing may be dialed");
    // Completing is done once: a second try changes nothing.
    assert!(!store
        .complete_if_done(id, 3, "2026-01-01T00:00:00Z")
        .await
        .unwrap());
}
