//! `/metrics` read by a Prometheus text parser while calls happen, its token,
//! and the JSON logs of the real binary.

use std::collections::HashMap;
use std::time::Duration;

use prometheus_parse::{Scrape, Value as Metric};
use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::helpers::*;

const METRICS_TOKEN: &str = "metrics-token-0123456789";

/// `GET /metrics` with the token, parsed.
async fn scrape(app: &TestApp) -> Scrape {
    let resp = app
        .http
        .get(format!("{}/metrics", app.base_url))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = resp.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format")
}

/// The value of the series `name` whose labels include `labels` (summed over
/// the others); a histogram counts its observations. 0 when absent.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => *v,
            Metric::Histogram(buckets) => buckets
                .iter()
                .find(|b| b.less_than.is_infinite())
                .map_or(0.0, |b| b.count),
            Metric::Summary(_) => 0.0,
        })
        .sum()
}

fn kind_of(scrape: &Scrape, name: &str) -> Option<&'static str> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .map(|s| match s.value {
            Metric::Counter(_) => "counter",
            Metric::Gauge(_) => "gauge",
            Metric::Histogram(_) => "histogram",
            Metric::Summary(_) => "summary",
            Metric::Untyped(_) => "untyped",
        })
}

async fn app_with_token() -> TestApp {
    spawn_app_with(|env| {
        env.insert("METRICS_TOKEN", METRICS_TOKEN.to_string());
    })
    .await
}

#[tokio::test]
async fn metrics_need_the_token_when_it_is_set() {
    let app = app_with_token().await;
    let url = format!("{}/metrics", app.base_url);
    let none = app.http.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    for wrong in [
        API_TOKEN,
        "metrics-token-012345678",
        "metrics-token-0123456789x",
    ] {
        let resp = app.http.get(&url).bearer_auth(wrong).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{wrong}");
    }
    let ok = app.http.get(&url).bearer_auth(METRICS_TOKEN).send().await;
    assert_eq!(ok.unwrap().status(), 200);
}

#[tokio::test]
async fn metrics_are_open_without_a_token() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("callflow_campaigns_live"));
}

#[tokio::test]
async fn metrics_move_when_calls_happen() {
    let app = app_with_token().await;
    let before = scrape(&app).await;

    // A whole call through the simulator.
    let (sim_call, call) = app
        .run_call("+15557650001", Some("Ada"), Persona::Interested)
        .await;
    assert_eq!(sim_call.status, "completed");
    assert_eq!(call["call"]["state"], "ended", "{call}");
    // A webhook without a signature.
    let unsigned = app
        .http
        .post(format!("{}/twilio/voice/status?call_id=x", app.base_url))
        .form(&[("CallSid", "CA1")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    // A call to a number on the do-not-call list.
    let dnc = app
        .api(Method::POST, "/api/dnc")
        .json(&json!({"number": "+15557650002"}))
        .send()
        .await
        .unwrap();
    assert!(dnc.status().is_success());
    let (status, refused) = app.place(json!({"to": "+15557650002"})).await;
    assert_eq!(status, 409, "{refused}");
    // A campaign: its contacts appear in the scrape-time gauges.
    app.sim.set_persona("+15557650003", Persona::Silent);
    let (status, campaign) = app
        .place(json!({"contacts": [{"to": "+15557650003"}], "calls_per_second": 1}))
        .await;
    assert_eq!(status, 202, "{campaign}");

    let after = scrape(&app).await;
    let grew = |name: &str, labels: &[(&str, &str)], by: f64| {
        let (b, a) = (value(&before, name, labels), value(&after, name, labels));
        assert!(a >= b + by, "{name}{labels:?}: {b} -> {a}, expected +{by}");
    };
    grew(
        "callflow_callbacks_total",
        &[("kind", "incoming"), ("outcome", "ok")],
        1.0,
    );
    grew(
        "callflow_callbacks_total",
        &[("kind", "status"), ("outcome", "ok")],
        1.0,
    );
    grew(
        "callflow_callbacks_total",
        &[("kind", "gather"), ("outcome", "ok")],
        1.0,
    );
    grew(
        "callflow_callback_duration_seconds",
        &[("kind", "gather")],
        1.0,
    );
    grew("callflow_redis_round_trip_seconds", &[], 5.0);
    grew(
        "callflow_transitions_total",
        &[("machine", "outbound_call"), ("state", "ended")],
        1.0,
    );
    grew("callflow_dials_total", &[("result", "placed")], 1.0);
    grew("callflow_signature_failures_total", &[], 1.0);
    grew("callflow_dnc_refusals_total", &[], 1.0);
    assert!(value(&after, "callflow_campaigns_live", &[]) >= 1.0);
    assert!(
        value(
            &after,
            "callflow_campaign_contacts",
            &[("state", "unfinished")]
        ) >= 1.0
    );

    for (name, kind) in [
        ("callflow_callbacks_total", "counter"),
        ("callflow_callback_duration_seconds", "histogram"),
        ("callflow_redis_round_trip_seconds", "histogram"),
        ("callflow_transitions_total", "counter"),
        ("callflow_dials_total", "counter"),
        ("callflow_signature_failures_total", "counter"),
        ("callflow_dnc_refusals_total", "counter"),
        ("callflow_campaign_contacts", "gauge"),
        ("callflow_campaigns_live", "gauge"),
        ("callflow_outbox_backlog", "gauge"),
    ] {
        assert_eq!(kind_of(&after, name), Some(kind), "{name}");
        assert!(after.docs.contains_key(name), "{name} has no HELP line");
    }
}

/// The real binary with `LOG_FORMAT=json`: every line is JSON, lines carry the
/// request id and the call id, and no phone number or secret is printed whole.
#[tokio::test]
async fn json_logs_carry_request_and_call_ids_and_mask_numbers() {
    let redis = callflow::redis_server::RedisServer::start().unwrap();
    let sim = start_sim().await;
    let port = callflow::redis_server::free_port().unwrap();
    let mut env = env_for(&redis.url(), &sim.base_url(), port);
    env.insert("LOG_FORMAT", "json".into());
    let dir = std::env::temp_dir().join(format!("callflow-jsonlogs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_path = dir.join("out.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
        .arg("serve")
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(log)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/ready")).send().await {
            ready = r.status() == 200;
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "callflow serve did not become ready");

    let to = "+15557650009";
    sim.set_persona(to, Persona::Interested);
    let placed = http
        .post(format!("{base}/api/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .header("X-Request-Id", "req-test-42")
        .json(&json!({"to": to}))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.headers()["x-request-id"], "req-test-42");
    let placed: Value = placed.json().await.unwrap();
    let call_id = placed["call_id"].as_str().expect("call_id").to_string();
    let sid = placed["call_sid"].as_str().unwrap();
    sim.wait_finished(sid, Duration::from_secs(20))
        .await
        .expect("call finishes");
    // An id that could forge a log line is replaced by a fresh one.
    let odd = http
        .get(format!("{base}/health"))
        .header("X-Request-Id", "two words")
        .send()
        .await
        .unwrap();
    let fresh = odd.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!fresh.is_empty() && fresh != "two words");
    // Lines are flushed as written; give the last callback's a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { kill(child.id() as i32, 15) };
    let _ = child.wait();

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    let span_field = |line: &Value, field: &str| -> Vec<String> {
        line["spans"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s[field].as_str().map(str::to_string))
            .collect()
    };
    let placing = lines
        .iter()
        .find(|l| l["fields"]["message"] == "placing call")
        .expect("a 'placing call' line");
    assert_eq!(span_field(placing, "request_id"), ["req-test-42"]);
    assert_eq!(placing["fields"]["call_id"], call_id.as_str());
    let moved: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "call moved")
        .collect();
    assert!(moved.len() >= 3, "{text}");
    for line in moved {
        assert_eq!(span_field(line, "call_id"), [call_id.as_str()], "{line}");
        let ids = span_field(line, "request_id");
        assert_eq!(ids.len(), 1, "{line}");
        assert_ne!(
            ids[0], "req-test-42",
            "each callback has its own request id"
        );
    }
    let digits = to.trim_start_matches('+');
    assert!(!text.contains(digits), "a full number in the logs:\n{text}");
    let secrets: HashMap<&str, &str> =
        HashMap::from([("API_TOKEN", API_TOKEN), ("TWILIO_AUTH_TOKEN", AUTH_TOKEN)]);
    for (name, secret) in secrets {
        assert!(!text.contains(secret), "{name} in the logs");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
