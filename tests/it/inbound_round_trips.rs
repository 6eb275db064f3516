//! How many Redis commands an inbound call's callbacks cost, counted by
//! watching the server (`MONITOR`) for the commands that name the call.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::helpers::AUTH_TOKEN;
use crate::inbound_helpers::{call_id, salon, CALLER, LINE};

/// Every command the server runs from now on, as `MONITOR` prints it.
struct Monitor {
    child: std::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Monitor {
    fn start(port: u16) -> Monitor {
        let mut child = Command::new("redis-cli")
            .args(["-p", &port.to_string(), "monitor"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("redis-cli runs");
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Monitor { child, lines }
    }

    /// The commands (names) seen so far that mention `needle`, and forgets them all.
    fn take(&self, needle: &str) -> Vec<String> {
        let mut lines = self.lines.lock().unwrap();
        let seen = lines
            .iter()
            .filter(|l| l.contains(needle))
            // Commands a script runs are printed too, marked with "lua".
            .filter(|l| !l.contains(" lua]"))
            .filter_map(|l| l.split('"').nth(1).map(str::to_uppercase))
            .collect();
        lines.clear();
        seen
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn each_callback_after_the_first_is_one_round_trip() {
    let s = salon(json!({})).await;
    let monitor = Monitor::start(s.app.redis.port());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sid = "CA00000000000000000000000000000001";
    let id = call_id(sid);
    let client = twilio_sim::CallbackClient::new(AUTH_TOKEN);
    let post = |path: String, extra: Vec<(&'static str, &'static str)>| {
        let client = client.clone();
        let base = s.app.base_url.clone();
        async move {
            let mut params: Vec<(String, String)> = [
                ("CallSid", sid),
                ("From", CALLER),
                ("To", LINE),
                ("Direction", "inbound"),
            ]
            .iter()
            .chain(extra.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            params.push(("AccountSid".into(), crate::helpers::ACCOUNT_SID.into()));
            let (status, body) = client
                .post(&format!("{base}{path}"), &params)
                .await
                .unwrap();
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let settle = || tokio::time::sleep(Duration::from_millis(300));

    post(
        "/twilio/voice/inbound".into(),
        vec![("CallStatus", "ringing")],
    )
    .await;
    settle().await;
    let created = monitor.take(&id);
    // The record and first transition in one script; then, sent together,
    // the record's expiry (a pipeline of two PEXPIRE), the call log entry (a
    // script) and the CallSid index (SET): two round trips' wait. (A fresh
    // server loads each script once more: NOSCRIPT, then EVALSHA again.)
    let count = |name: &str| created.iter().filter(|c| *c == name).count();
    assert_eq!(count("PEXPIRE"), 2, "{created:?}");
    assert_eq!(count("SET"), 1, "{created:?}");
    assert!((2..=4).contains(&count("EVALSHA")), "{created:?}");
    assert_eq!(created.len(), 3 + count("EVALSHA"), "{created:?}");

    let menu = format!("/twilio/voice/inbound/menu?call_id={id}&turn=1");
    post(
        menu.clone(),
        vec![("CallStatus", "in-progress"), ("Digits", "1")],
    )
    .await;
    settle().await;
    assert_eq!(monitor.take(&id), vec!["EVALSHA"], "menu answer");

    // Twilio retries it: the first answer, from the script, still one round trip.
    post(menu, vec![("CallStatus", "in-progress"), ("Digits", "1")]).await;
    settle().await;
    assert_eq!(monitor.take(&id), vec!["EVALSHA"], "a retried menu answer");

    let dial = format!("/twilio/voice/inbound/dial?call_id={id}&leg=0");
    post(
        dial,
        vec![("CallStatus", "completed"), ("DialCallStatus", "completed")],
    )
    .await;
    settle().await;
    assert_eq!(monitor.take(&id), vec!["EVALSHA"], "dial action");

    post(
        "/twilio/voice/status".into(),
        vec![("CallStatus", "completed"), ("CallDuration", "30")],
    )
    .await;
    settle().await;
    assert_eq!(monitor.take(&id), vec!["EVALSHA"], "status callback");

    // Over now, so no longer cached: a late callback reads, then writes.
    let late = format!("/twilio/voice/inbound/transcription?call_id={id}");
    post(
        late,
        vec![
            ("TranscriptionStatus", "completed"),
            ("TranscriptionText", "Hello"),
        ],
    )
    .await;
    settle().await;
    assert_eq!(monitor.take(&id), vec!["HMGET", "EVALSHA"], "late callback");
    assert_eq!(s.logged(sid).await["disposition"], "answered");
}
