//! `callflow serve` without `REDIS_URL` keeps its private Redis's data in
//! `CALLFLOW_DATA_DIR`: a do-not-call entry and a call record survive a
//! SIGKILL of callflow and a restart on the same directory, and the
//! redis-server the killed process left running is stopped, not doubled.

use std::path::Path;
use std::time::Duration;

use callflow::redis_server::free_port;
use reqwest::StatusCode;
use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::helpers::{env_for, get_json, serve_process, start_sim, API_TOKEN};

/// The port the data directory says its redis-server listens on.
fn recorded_port(dir: &Path) -> Option<u16> {
    std::fs::read_to_string(dir.join("redis-server.port"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Stops whatever redis-server the data directory records, should the test
/// fail with one left running (callflow killed without warning leaves it).
struct StopLeftover(std::path::PathBuf);

impl Drop for StopLeftover {
    fn drop(&mut self) {
        let Some(port) = recorded_port(&self.0) else {
            return;
        };
        if let Ok(mut c) = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
        {
            let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut c);
        }
    }
}

fn answers(port: u16) -> bool {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
        .is_ok()
}

#[tokio::test]
async fn dnc_entry_and_call_record_survive_sigkill_and_restart() {
    let sim = start_sim().await;
    let port = free_port().unwrap();
    let workdir = std::env::temp_dir().join(format!("callflow-durable-{port}"));
    let _ = std::fs::remove_dir_all(&workdir);
    std::fs::create_dir_all(&workdir).unwrap();
    let data_dir = workdir.join("data");
    let _cleanup = StopLeftover(data_dir.clone());
    let mut env = env_for("", &sim.base_url(), port);
    env.remove("REDIS_URL");
    env.insert("CALLFLOW_DATA_DIR", data_dir.display().to_string());
    let api = format!("http://127.0.0.1:{port}/api");
    let http = reqwest::Client::new();

    let mut first = serve_process(&env, port, &workdir).await;
    assert!(data_dir.is_dir(), "the data directory is created");
    let first_redis = recorded_port(&data_dir).expect("the port is recorded");
    let listed = "+15554440001";
    let r = http
        .post(format!("{api}/dnc"))
        .bearer_auth(API_TOKEN)
        .json(&json!({"number": listed}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let to = "+15554440002";
    sim.set_persona(to, Persona::Manual);
    let placed: Value = http
        .post(format!("{api}/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .json(&json!({"to": to, "name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let call_id = placed["call_id"].as_str().expect("call placed").to_string();

    // No chance to stop its redis-server: it is left running, orphaned.
    first.sigkill();
    drop(first);
    assert!(answers(first_redis), "the orphaned redis-server still runs");

    let mut second = serve_process(&env, port, &workdir).await;
    let second_redis = recorded_port(&data_dir).expect("the port is recorded");
    assert!(
        !answers(first_redis) || first_redis == second_redis,
        "the orphan was stopped, not run beside a second server on the same data"
    );

    let entry = get_json(&http, format!("{api}/dnc/{listed}")).await;
    assert_eq!(entry["on_list"], true, "{entry}");
    let r = http
        .post(format!("{api}/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .json(&json!({"to": listed}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "still on the list");
    let call = get_json(&http, format!("{api}/calls/{call_id}")).await;
    assert_eq!(call["call"]["call_id"], call_id.as_str(), "{call}");
    assert_eq!(call["call"]["call_sid"], placed["call_sid"], "{call}");

    // A clean stop takes its redis-server with it.
    second.signal(15);
    assert!(
        second
            .exited_within(Duration::from_secs(15))
            .await
            .is_some(),
        "serve stops on SIGTERM"
    );
    assert!(!answers(second_redis), "redis-server stopped with callflow");
    assert!(recorded_port(&data_dir).is_none());
    drop(second);
    let _ = std::fs::remove_dir_all(&workdir);
}
