//! The callback load: complete calls through the default flow, every callback
//! signed and posted over HTTP the way Twilio would, latency timed at the client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::caller::Caller;
pub use crate::instance::Instance;
use crate::stats::{cpu_seconds, percentiles, redis_info, Latencies};

/// How hard to drive the instances.
#[derive(Debug, Clone)]
pub struct Load {
    pub duration: Duration,
    /// Calls driven at once.
    pub concurrency: usize,
    /// Target call starts per second; `None`: as fast as `concurrency` allows.
    pub rate: Option<f64>,
}

pub struct Outcome {
    pub calls: u64,
    pub callbacks: u64,
    pub errors: u64,
    pub calls_per_s: f64,
    pub callbacks_per_s: f64,
    pub latency_ms: Value,
    pub roundtrips_per_callback: f64,
    pub commands_per_callback: f64,
    pub bytes_per_call: f64,
    pub server_cpu_us_per_callback: Option<f64>,
    pub redis_cpu_us_per_callback: f64,
    /// This process: the load generator and the simulated Twilio REST API.
    pub load_cpu_us_per_callback: Option<f64>,
}

/// Summed over all instances.
async fn stats(servers: &[Instance], http: &reqwest::Client) -> Result<(f64, f64), String> {
    let (mut rt, mut handled) = (0.0, 0.0);
    for s in servers {
        let v = s.stats(http).await?;
        rt += v["redis_round_trips"].as_f64().unwrap_or(0.0);
        handled += v["callbacks_handled"].as_f64().unwrap_or(0.0);
    }
    Ok((rt, handled))
}

/// Drives complete calls against `servers` (behind the address `public`) for
/// `options.duration`, after a warm-up and a calibration of what placing a
/// call costs alone; `redis_nodes` are the Redis servers they share.
// Long on purpose: the load loop and its bookkeeping stay together so the timing is easy to audit.
pub async fn run(
    servers: &[Instance],
    public: &str,
    redis_nodes: &[String],
    options: &Load,
) -> Result<Outcome, String> {
    let caller = Arc::new(Caller::new(servers, public));
    // Warm up with a few complete calls, then measure what placing a call costs
    // (API, REST, record) on its own, so callbacks can be counted apart from it.
    let mut lane = caller.lane();
    for n in 0..10 {
        caller.call(&mut lane, 9_000_000 + n).await?;
    }
    const CALIBRATION: u64 = 20;
    let stats0 = stats(servers, &caller.http).await?;
    let info0 = redis_info(redis_nodes).await?;
    for n in 0..CALIBRATION {
        caller.place(&mut lane, 9_100_000 + n).await?;
    }
    let stats1 = stats(servers, &caller.http).await?;
    let info1 = redis_info(redis_nodes).await?;
    let rt = |s: &(f64, f64)| s.0;
    let handled = |s: &(f64, f64)| s.1;
    let create_rt = (rt(&stats1) - rt(&stats0)) / CALIBRATION as f64;
    let create_cmds = (info1.commands - info0.commands) as f64 / CALIBRATION as f64;

    let latencies = Arc::new(Mutex::new(Latencies::default()));
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let server_cpu = |servers: &[Instance]| {
        servers
            .iter()
            .map(Instance::cpu_seconds)
            .sum::<Option<f64>>()
    };
    let cpu1 = server_cpu(servers);
    let own1 = cpu_seconds("self");
    let started = Instant::now();
    let deadline = started + options.duration;
    let interval = options
        .rate
        .map(|r| Duration::from_secs_f64(options.concurrency as f64 / r));
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (caller, latencies, calls, errors, next) = (
            caller.clone(),
            latencies.clone(),
            calls.clone(),
            errors.clone(),
            next.clone(),
        );
        // All workers in one task: the load generator stays on one thread and
        // costs no cross-thread wake-ups (it needs well under one core).
        workers.push(async move {
            let mut lane = caller.lane();
            while Instant::now() < deadline {
                let t = Instant::now();
                let n = next.fetch_add(1, Ordering::Relaxed);
                match caller.call(&mut lane, n).await {
                    Ok(times) => {
                        calls.fetch_add(1, Ordering::Relaxed);
                        let mut l = latencies.lock().unwrap_or_else(|p| p.into_inner());
                        for (kind, ms) in times {
                            match kind {
                                "answer" => l.answer.push(ms),
                                "gather" => l.gather.push(ms),
                                _ => l.status.push(ms),
                            }
                        }
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("bench: call failed: {e}");
                        }
                    }
                }
                if let Some(every) = interval {
                    tokio::time::sleep(every.saturating_sub(t.elapsed())).await;
                }
            }
        });
    }
    futures_util::future::join_all(workers).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu2 = server_cpu(servers);
    let own2 = cpu_seconds("self");
    let stats2 = stats(servers, &caller.http).await?;
    let info2 = redis_info(redis_nodes).await?;
    let calls = calls.load(Ordering::Relaxed);
    let callbacks = handled(&stats2) - handled(&stats1);
    let callback_rt = rt(&stats2) - rt(&stats1) - create_rt * calls as f64;
    let callback_cmds = (info2.commands - info1.commands) as f64 - create_cmds * calls as f64;
    let mut l = std::mem::take(&mut *latencies.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(Outcome {
        calls,
        callbacks: callbacks as u64,
        errors: errors.load(Ordering::Relaxed),
        calls_per_s: calls as f64 / elapsed,
        callbacks_per_s: callbacks / elapsed,
        latency_ms: json!({
            "answer": percentiles(&mut l.answer),
            "gather": percentiles(&mut l.gather),
            "status": percentiles(&mut l.status),
        }),
        roundtrips_per_callback: callback_rt / callbacks.max(1.0),
        commands_per_callback: callback_cmds / callbacks.max(1.0),
        bytes_per_call: (info2.used_memory as f64 - info1.used_memory as f64) / calls.max(1) as f64,
        server_cpu_us_per_callback: cpu1
            .zip(cpu2)
            .map(|(a, b)| (b - a) * 1e6 / callbacks.max(1.0)),
        redis_cpu_us_per_callback: (info2.cpu_s - info1.cpu_s) * 1e6 / callbacks.max(1.0),
        load_cpu_us_per_callback: own1
            .zip(own2)
            .map(|(a, b)| (b - a) * 1e6 / callbacks.max(1.0)),
    })
}

/// Places `n` calls and answers each, so they wait mid-conversation (as in a
/// large campaign), with `concurrency` at a time. Returns the calls placed.
pub async fn hold_in_flight(
    servers: &[Instance],
    public: &str,
    n: usize,
    concurrency: usize,
) -> Result<usize, String> {
    let caller = Arc::new(Caller::new(servers, public));
    let next = Arc::new(AtomicU64::new(0));
    let placed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (caller, next, placed) = (caller.clone(), next.clone(), placed.clone());
        workers.push(tokio::spawn(async move {
            let mut lane = caller.lane();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n as u64 {
                    return;
                }
                let n = 5_000_000 + i;
                if let Ok((to, call_id, sid)) = caller.place(&mut lane, n).await {
                    if caller.answer(&mut lane, &to, &call_id, &sid).await.is_ok() {
                        placed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    Ok(placed.load(Ordering::Relaxed) as usize)
}
