//! Two `callflow serve` processes share one campaign through Redis; one of them
//! is killed with SIGKILL mid-run. Every contact is settled, none dialed twice,
//! none outside its window or on the do-not-call list, pacing within limits.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use callflow::redis_server::RedisServer;
use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::helpers::{behind_one_address, get_json, serve_process, start_sim, API_TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_contacts_two_instances_one_killed() {
    let _turn = crate::helpers::TIMING.lock().await;
    let redis = RedisServer::start().unwrap();
    let sim = start_sim().await;
    // Both instances sit behind one public address; the simulator plays the load balancer.
    let (mut env, port_a, port_b) = behind_one_address(&sim, &redis.url());
    // Wednesday 10:30 in New York, 07:30 in Los Angeles, on one clock shared by both
    // instances and running 60 times faster: Los Angeles opens 30 real seconds in.
    env.insert("CALLFLOW_CLOCK_START", "2026-01-14T15:30:00Z".into());
    env.insert("CALLFLOW_CLOCK_SPEED", "60".into());
    env.insert("CALLFLOW_CLOCK_ORIGIN", chrono::Utc::now().to_rfc3339());
    env.insert("TWILIO_MAX_CPS", "2".into());
    // 5 real seconds: above twice the REST timeout, as the server insists.
    env.insert("DISPATCH_LEASE_SECS", "300".into());
    let workdir = std::env::temp_dir();
    let mut a = serve_process(&env, port_a, &workdir).await;
    let _b = serve_process(&env, port_b, &workdir).await;

    let n = 1000;
    let mut contacts = Vec::new();
    for i in 0..n {
        let to = format!("+1555{:07}", 2_000_000 + i);
        match i % 10 {
            0 => sim.set_persona(&to, Persona::Busy),
            1 => sim.set_persona(&to, Persona::NoAnswer),
            2 => sim.set_persona(&to, Persona::OptsOutMidPitch),
            3 => sim.set_persona(&to, Persona::Declines),
            4 => sim.set_persona(&to, Persona::Voicemail),
            _ => {}
        }
        contacts.push(json!({"to": to, "name": "Ada", "timezone": if i % 2 == 0 { "America/New_York" } else { "America/Los_Angeles" }}));
    }
    let http = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{port_b}/api");
    // One number is on the do-not-call list before the campaign; it must be refused at load.
    http.post(format!("{api}/dnc"))
        .bearer_auth(API_TOKEN)
        .json(&json!({"number": "+15552000007"}))
        .send()
        .await
        .unwrap();
    let t0 = Instant::now();
    let created: Value = http
        .post(format!("{api}/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .json(&json!({
            "contacts": contacts,
            "calls_per_second": 2,
            "max_concurrent": 60,
            "retry": {"on": ["busy"], "max_attempts": 2, "backoff": ["1s"]},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["campaign_id"]
        .as_str()
        .expect("campaign created")
        .to_string();
    assert_eq!(created["accepted"], n - 1, "{}", created["rejections"]);

    // Kill instance A without warning once a good part of the campaign has been dialed.
    while sim.calls().len() < 300 {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "dialing did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.sigkill();

    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        let c = get_json(&http, format!("{api}/campaigns/{id}")).await;
        if c["status"] == "completed" {
            break c;
        }
        assert!(Instant::now() < deadline, "campaign did not complete: {c}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let counts = &status["counts"];
    assert_eq!(counts["done"], n - 1, "{status}");

    let mut per_number: HashMap<String, usize> = HashMap::new();
    for call in sim.calls() {
        *per_number.entry(call.to.clone()).or_default() += 1;
    }
    assert!(
        !per_number.contains_key("+15552000007"),
        "do-not-call number dialed"
    );
    for (i, contact) in contacts.iter().enumerate() {
        let to = contact["to"].as_str().unwrap();
        if to == "+15552000007" {
            continue;
        }
        let expected = if i % 10 == 0 { 2 } else { 1 };
        assert_eq!(
            per_number.get(to).copied().unwrap_or(0),
            expected,
            "{to} (contact {i})"
        );
    }
    let d = &counts["dispositions"];
    eprintln!("dispositions: {d}");
    assert_eq!(d["busy"], 100);
    assert_eq!(d["no_answer"], 100);
    assert_eq!(d["opted_out"], 100);
    assert_eq!(d["declined"], 100, "{d}");
    assert_eq!(d["voicemail"], 100);
    assert_eq!(d["interested"], 499);

    // Pacing, in the service's (simulated) time: at most 2 dials a second, counted
    // over any simulated minute (one real second; shorter spans would measure the
    // machine's scheduling jitter, magnified 60 times), plus one early dial.
    let mut times: Vec<Instant> = sim.calls().iter().map(|c| c.created_at).collect();
    times.sort();
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_millis(60_000 / 60))
            .count();
        assert!(
            in_window <= 121,
            "{in_window} dials within one simulated minute"
        );
    }

    // Windows: every dial inside 08:00-21:00 in its contact's zone, as recorded by callflow.
    for call in sim.calls() {
        let record = get_json(&http, format!("{api}/calls/{}", call.sid)).await;
        let at: chrono::DateTime<chrono::Utc> = record["call"]["created_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let digits: u64 = call.to[5..].parse().unwrap();
        let zone: chrono_tz::Tz = if (digits - 2_000_000).is_multiple_of(2) {
            chrono_tz::America::New_York
        } else {
            chrono_tz::America::Los_Angeles
        };
        let hour = chrono::Timelike::hour(&at.with_timezone(&zone));
        assert!(
            (8..21).contains(&hour),
            "{} dialed at {hour}h local",
            call.to
        );
    }
}
