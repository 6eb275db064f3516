//! Campaign figures: how fast a large contact list loads and what it costs in
//! Redis, and how closely the dispatcher keeps to its configured rate.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use callflow_bench::api_client::ApiClient;
use callflow_bench::API_TOKEN;
use twilio_sim::{Persona, Simulator};

use super::{redis_info, Options, Server};

/// The contact load and the three pacing runs, added to `report`.
pub async fn figures(
    redis_url: &str,
    sim: &Simulator,
    options: &Options,
    report: &mut Value,
    say: &impl Fn(&str),
) -> Result<(), String> {
    sim.clear_calls();
    say(&format!(
        "  campaign: loading {} contacts...",
        options.contacts
    ));
    let load = load(redis_url, sim, options.contacts).await?;
    report["contacts_loaded"] = json!(options.contacts);
    report["contacts_load_s"] = json!(load.seconds);
    report["redis_bytes_per_contact"] = json!(load.bytes_per_contact);
    let mut rates = Vec::new();
    for target in [1.0, 10.0, 30.0] {
        sim.clear_calls();
        say(&format!(
            "  pacing: {target} calls/s for a simulated minute..."
        ));
        rates.push(pacing(redis_url, sim, target, options.pacing_seconds).await?);
    }
    report["pacing"] = json!(rates);
    Ok(())
}

pub struct Load {
    pub seconds: f64,
    pub bytes_per_contact: f64,
}

fn contacts(n: usize, first: u64) -> Vec<Value> {
    (0..n as u64)
        .map(|i| json!({"to": format!("+1212{:07}", (first + i) % 10_000_000), "name": "Ada", "timezone": "America/New_York"}))
        .collect()
}

/// Loads `n` contacts in one request (the dispatcher is off, so nothing is dialed).
pub async fn load(redis_url: &str, sim: &Simulator, n: usize) -> Result<Load, String> {
    let server = Server::start(redis_url, sim, &[("TENANT_ID", "bench-load".into())]).await?;
    let body = serde_json::to_vec(&json!({"contacts": contacts(n, 0), "calls_per_second": 1}))
        .map_err(|e| e.to_string())?;
    let http = reqwest::Client::new();
    let before = redis_info(redis_url).await?;
    let started = Instant::now();
    let resp = http
        .post(server.url("/api/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let status = resp.status();
    let created: Value = resp.json().await.map_err(|e| e.to_string())?;
    if status != 202 || created["accepted"] != n {
        return Err(format!(
            "campaign load failed ({status}): {}",
            created["error"]
        ));
    }
    let after = redis_info(redis_url).await?;
    Ok(Load {
        seconds,
        bytes_per_contact: (after.used_memory as f64 - before.used_memory as f64) / n as f64,
    })
}

/// Runs a campaign at `target` calls per second for `seconds` of service time and
/// measures the dial times Twilio (the simulator) saw. The service clock runs
/// faster so the minute takes less (at most 60 real dials a second, so the
/// machine's own scheduling is not what gets measured); rates are in service time.
// Long on purpose: one measurement, set up, run and read in sequence.
pub async fn pacing(
    redis_url: &str,
    sim: &Simulator,
    target: f64,
    seconds: u64,
) -> Result<Value, String> {
    let speed: f64 = (60.0 / target).clamp(1.0, 10.0);
    let tenant = format!("bench-pace-{}", target as u64);
    // One Twilio account, one pace (kept under global keys): the runs before
    // this one took its slots on other service clocks.
    crate::store::Store::connect(redis_url, &tenant)
        .await
        .map_err(|e| e.to_string())?
        .forget_account_pace()
        .await
        .map_err(|e| e.to_string())?;
    let server = Server::start(
        redis_url,
        sim,
        &[
            ("TENANT_ID", tenant),
            ("DISPATCHER_ENABLED", "true".into()),
            ("TWILIO_MAX_CPS", "100".into()),
            ("CALLFLOW_CLOCK_START", "2026-01-14T16:00:00Z".into()),
            ("CALLFLOW_CLOCK_SPEED", speed.to_string()),
            ("TWILIO_TIMEOUT_SECS", "2".into()),
            ("DISPATCH_LEASE_SECS", "60".into()),
        ],
    )
    .await?;
    // Callees that are busy: each dial is short and needs no conversation.
    sim.set_default_persona(Persona::Busy);
    let n = (target * seconds as f64) as usize + 1;
    let body = json!({"contacts": contacts(n, 1_000_000), "calls_per_second": target, "max_concurrent": 1000});
    let api = ApiClient::new(server.url(""), API_TOKEN);
    let (_, resp) = api.post("/api/calls/outbound", &body).await?;
    let id = resp["campaign_id"]
        .as_str()
        .ok_or_else(|| format!("campaign not created: {resp}"))?
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    while sim.calls().len() < n {
        if Instant::now() > deadline {
            return Err(format!("pacing run at {target}/s did not finish"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = api
        .post(&format!("/api/campaigns/{id}/cancel"), &json!({}))
        .await;
    sim.set_default_persona(Persona::Manual);
    let mut times: Vec<Instant> = sim.calls().iter().map(|c| c.created_at).collect();
    times.sort();
    // Service time = real time x SPEED.
    let t = |i: usize| times[i].duration_since(times[0]).as_secs_f64() * speed;
    let span = t(times.len() - 1);
    let mean = (times.len() - 1) as f64 / span;
    // The rate over each full 10 s window of service time. Windows start half an
    // interval before the first dial, so a dial a few ms late or early never
    // moves across a window's edge (at 1 call/s that alone would read 10 %).
    let mut worst: f64 = 0.0;
    let mut start = -0.5 / target;
    while start + 10.0 <= span {
        let count = (0..times.len())
            .filter(|i| t(*i) >= start && t(*i) < start + 10.0)
            .count() as f64;
        worst = worst.max(((count / 10.0) - target).abs() / target * 100.0);
        start += 10.0;
    }
    // The ceiling: the most dials any sliding window of `whole / target`
    // service seconds held (one second for a whole rate), against `whole`.
    let whole = target.floor().max(1.0);
    let window = whole / target;
    let busiest = (0..times.len())
        .map(|i| {
            (i..times.len())
                .take_while(|j| t(*j) - t(i) < window)
                .count()
        })
        .max()
        .unwrap_or(0);
    Ok(json!({
        "target_cps": target,
        "mean_cps": mean,
        "max_deviation_pct": worst,
        "busiest_window": busiest,
        "window_limit": whole,
        "dials": times.len(),
        "clock_speed": speed,
    }))
}
