//! Two `callflow serve` processes run one campaign; one gets SIGTERM mid-run.
//! It stops claiming, answers `/ready` with 503, releases the contacts it had
//! claimed but not dialed, and exits within `SHUTDOWN_GRACE_SECS`; the other
//! dials the released contacts long before their lease would have ended, and
//! nobody is dialed twice.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use callflow::redis_server::RedisServer;
use serde_json::{json, Value};

use crate::helpers::{behind_one_address, get_json, serve_process, start_sim, ServeProcess};

const GRACE_SECS: u64 = 4;
/// The service clock runs this much faster than real time.
const SPEED: u64 = 4;
/// 150 real seconds: a contact left leased would wait that long.
const LEASE_SECS: u64 = 600;

/// `callflow serve` with its log lines sent to `lines` (and kept in `log`).
async fn serve_logged(
    env: &HashMap<&'static str, String>,
    port: u16,
) -> (
    ServeProcess,
    mpsc::Receiver<String>,
    Arc<Mutex<Vec<String>>>,
) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
        .arg("serve")
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "RUST_LOG",
            "warn,callflow::campaign::attempt=debug,callflow::shutdown=info",
        )
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("callflow serve starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            kept.lock().unwrap().push(line.clone());
            let _ = tx.send(line);
        }
    });
    let process = ServeProcess(child);
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/ready"))
            .send()
            .await
        {
            if r.status() == 200 {
                return (process, rx, log);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("callflow serve did not become ready");
}

/// The value of `name=` in a log line.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {name}="))? + name.len() + 2;
    line[start..].split_whitespace().next()
}

/// Polls `/ready` until the listener closes: the statuses seen, in order.
async fn ready_until_closed(port: u16) -> Vec<u16> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(GRACE_SECS + 2);
    while Instant::now() < deadline {
        match http
            .get(format!("http://127.0.0.1:{port}/ready"))
            .send()
            .await
        {
            Ok(r) => seen.push(r.status().as_u16()),
            Err(_) => break,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_campaign_releases_claims_and_exits_within_the_grace() {
    let _turn = crate::helpers::TIMING.lock().await;
    let redis = RedisServer::start().unwrap();
    let sim = start_sim().await;
    let (mut env, port_a, port_b) = behind_one_address(&sim, &redis.url());
    env.insert("CALLFLOW_CLOCK_SPEED", SPEED.to_string());
    env.insert("CALLFLOW_CLOCK_ORIGIN", chrono::Utc::now().to_rfc3339());
    // One dial a second of service time, across both instances: contacts wait
    // for their account slot after being claimed, which is when A is stopped.
    env.insert("TWILIO_MAX_CPS", "1".into());
    env.insert("DISPATCH_LEASE_SECS", LEASE_SECS.to_string());
    env.insert("SHUTDOWN_GRACE_SECS", GRACE_SECS.to_string());
    let (mut a, a_lines, a_log) = serve_logged(&env, port_a).await;
    let _b = serve_process(&env, port_b, &std::env::temp_dir()).await;

    let n = 24;
    let contacts: Vec<Value> = (0..n)
        .map(|i| json!({"to": format!("+1555777{:04}", 1000 + i), "timezone": "America/New_York"}))
        .collect();
    let http = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{port_b}/api");
    let created: Value = http
        .post(format!("{api}/calls/outbound"))
        .bearer_auth(crate::helpers::API_TOKEN)
        .json(&json!({"contacts": contacts, "calls_per_second": 10, "max_concurrent": 30}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["campaign_id"]
        .as_str()
        .expect("created")
        .to_string();

    // Stop A while it holds a claimed contact that waits for its dial slot.
    let deadline = Instant::now() + Duration::from_secs(30);
    let waiting = loop {
        assert!(Instant::now() < deadline, "A never waited for a dial slot");
        let Ok(line) = a_lines.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        let long_wait = field(&line, "wait_ms")
            .and_then(|w| w.parse::<u64>().ok())
            .is_some_and(|w| w >= 200);
        if sim.calls().len() >= 3 && line.contains("waiting for an account dial slot") && long_wait
        {
            break field(&line, "contact").unwrap().to_string();
        }
    };
    a.signal(15);
    let signaled = Instant::now();
    let ready = ready_until_closed(port_a).await;
    a.exited_within(Duration::from_secs(GRACE_SECS + 3))
        .await
        .expect("A exits");
    let took = signaled.elapsed();

    // Readiness went to 503 at once and never came back.
    let first_503 = ready.iter().position(|s| *s == 503);
    assert!(first_503.is_some(), "no 503 from /ready: {ready:?}");
    assert!(
        ready[first_503.unwrap()..].iter().all(|s| *s == 503),
        "{ready:?}"
    );
    assert!(
        first_503.unwrap() <= 5,
        "503 within the first polls: {ready:?}"
    );
    // The grace, plus the moment the process takes to end once it gives up.
    assert!(
        took < Duration::from_millis(GRACE_SECS * 1000 + 1000),
        "exited after {took:?}"
    );

    // What A released, by masked number (the last four digits are unique here).
    let log = a_log.lock().unwrap().clone();
    let released: Vec<(String, String)> = log
        .iter()
        .filter(|l| l.contains("released a claimed contact"))
        .map(|l| {
            let contact = field(l, "contact").unwrap().to_string();
            let to = field(l, "to").unwrap();
            (contact, to[to.len() - 4..].to_string())
        })
        .collect();
    eprintln!("A exited {took:?} after SIGTERM; /ready answered {ready:?}; released {released:?}");
    assert!(
        released.iter().any(|(c, _)| *c == waiting),
        "contact {waiting} was waiting for its slot and is released: {log:#?}"
    );

    // B finishes the campaign, the released contacts included, long before a
    // lease would have let it take them.
    let lease_real = Duration::from_secs(LEASE_SECS / SPEED);
    let deadline = Instant::now() + lease_real / 3;
    let status = loop {
        let c = get_json(&http, format!("{api}/campaigns/{id}")).await;
        if c["status"] == "completed" {
            break c;
        }
        assert!(Instant::now() < deadline, "campaign did not complete: {c}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status["counts"]["done"], n, "{status}");
    assert_eq!(status["counts"]["errors"], 0, "{status}");

    let calls = sim.calls();
    let mut per_number: HashMap<String, usize> = HashMap::new();
    for call in &calls {
        *per_number.entry(call.to.clone()).or_default() += 1;
    }
    for contact in &contacts {
        let to = contact["to"].as_str().unwrap();
        assert_eq!(per_number.get(to), Some(&1), "{to} dialed once");
    }
    for (_, last4) in &released {
        let call = calls
            .iter()
            .find(|c| c.to.ends_with(last4.as_str()))
            .unwrap();
        assert!(
            call.created_at > signaled,
            "released {last4} was dialed after A stopped"
        );
        assert!(
            call.created_at - signaled < lease_real / 3,
            "released {last4} dialed promptly, not after the lease"
        );
    }
    // Every dial that reached Twilio, A's included, is recorded with its outcome.
    for call in &calls {
        let record = get_json(&http, format!("{api}/calls/{}", call.sid)).await;
        assert_eq!(record["call"]["call_sid"], call.sid.as_str(), "{record}");
        assert!(record["call"]["disposition"].is_string(), "{record}");
    }
}
