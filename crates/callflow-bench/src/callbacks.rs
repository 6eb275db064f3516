//! The callback load: complete calls through the default flow, every callback
//! signed and posted over HTTP the way Twilio would, latency timed at the client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http1::Http1;
use crate::stats::{cpu_seconds, percentiles, redis_info, Latencies};
use crate::{ACCOUNT_SID, API_TOKEN, AUTH_TOKEN};

/// One instance of the server under load.
pub struct Instance {
    /// Its own root URL, e.g. `http://127.0.0.1:3001`.
    pub url: String,
    /// Its process, for CPU time (none: not measured).
    pub pid: Option<u32>,
}

impl Instance {
    /// Its `/api/stats` answer.
    async fn stats(&self, http: &reqwest::Client) -> Result<Value, String> {
        http.get(format!("{}/api/stats", self.url))
            .bearer_auth(API_TOKEN)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }

    fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(&self.pid?.to_string())
    }
}

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

/// The TwiML's Gather turn, from `turn=N` in its action URL.
fn turn(twiml: &str) -> Option<u32> {
    let start = twiml.find("turn=")? + 5;
    twiml[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// Plays Twilio against one or more instances behind one public address: calls
/// are placed round-robin, and each callback goes to the next instance (as a
/// round-robin load balancer would), signed for the public URL.
struct Caller {
    http: reqwest::Client,
    public: String,
    targets: Vec<String>,
}

/// One worker's keep-alive connections, one per instance.
struct Lane {
    conns: Vec<Http1>,
}

impl Caller {
    fn new(servers: &[Instance], public: &str) -> Self {
        twilio_sim::install_crypto();
        Self {
            http: reqwest::Client::new(),
            public: public.to_string(),
            targets: servers.iter().map(|s| s.url.clone()).collect(),
        }
    }

    fn lane(&self) -> Lane {
        Lane {
            conns: self.targets.iter().map(|t| Http1::new(t)).collect(),
        }
    }

    /// Places one call through the API, then plays Twilio through to the end.
    /// Returns the latencies (kind, ms) of its callbacks.
    async fn call(&self, lane: &mut Lane, n: u64) -> Result<Vec<(&'static str, f64)>, String> {
        let (to, call_id, sid) = self.place(lane, n).await?;
        self.drive(lane, n, &to, &call_id, &sid).await
    }

    /// `POST /api/calls/outbound`: (to, call id, CallSid).
    async fn place(&self, lane: &mut Lane, n: u64) -> Result<(String, String, String), String> {
        let to = format!("+1555{:07}", n % 10_000_000);
        let conn = &mut lane.conns[n as usize % self.targets.len()];
        let body = json!({"to": to, "name": "Ada"}).to_string();
        let auth = format!("Bearer {API_TOKEN}");
        let (status, answer) = conn
            .post(
                "/api/calls/outbound",
                &[("Authorization", &auth)],
                "application/json",
                body.as_bytes(),
            )
            .await?;
        let placed: Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
        let call_id = placed["call_id"]
            .as_str()
            .ok_or_else(|| format!("not placed ({status}): {placed}"))?
            .to_string();
        let sid = placed["call_sid"].as_str().unwrap_or_default().to_string();
        Ok((to, call_id, sid))
    }

    /// Posts callback `i` of call `n` to `path`, signed for the public URL the
    /// way Twilio signs: (status, body, latency in ms).
    async fn callback(
        &self,
        lane: &mut Lane,
        n: u64,
        i: usize,
        path: &str,
        params: &[(String, String)],
    ) -> Result<(u16, String, f64), String> {
        let t = Instant::now();
        let signed = format!("{}{path}", self.public);
        let signature = twilio_sim::sign(AUTH_TOKEN, &signed, params);
        // Unique per callback, like Twilio's; a counter, not a random UUID (a
        // getrandom system call per request showed in the load generator's profile).
        let token = format!("{n:016x}{i:08x}");
        let body = serde_urlencoded::to_string(params).map_err(|e| e.to_string())?;
        let conn = &mut lane.conns[(n as usize + i) % self.targets.len()];
        let (status, answer) = conn
            .post(
                path,
                &[
                    ("X-Twilio-Signature", &signature),
                    ("I-Twilio-Idempotency-Token", &token),
                ],
                "application/x-www-form-urlencoded",
                body.as_bytes(),
            )
            .await?;
        Ok((status, answer, t.elapsed().as_secs_f64() * 1000.0))
    }

    /// Only the answer webhook: the call then waits at its first question.
    async fn answer(
        &self,
        lane: &mut Lane,
        to: &str,
        call_id: &str,
        sid: &str,
    ) -> Result<(), String> {
        let params: Vec<(String, String)> = vec![
            ("AccountSid".into(), ACCOUNT_SID.into()),
            ("CallSid".into(), sid.to_string()),
            ("From".into(), "+15550009999".into()),
            ("To".into(), to.to_string()),
            ("CallStatus".into(), "in-progress".into()),
            ("AnsweredBy".into(), "human".into()),
        ];
        let path = format!("/twilio/voice/incoming?call_id={call_id}");
        let (status, _, _) = self.callback(lane, 0, 0, &path, &params).await?;
        if status == 200 {
            Ok(())
        } else {
            Err(format!("answer callback answered {status}"))
        }
    }

    /// The ten callbacks of a complete call: three statuses, the answer, three
    /// gathers, the recording start, and the final status.
    async fn drive(
        &self,
        lane: &mut Lane,
        n: u64,
        to: &str,
        call_id: &str,
        sid: &str,
    ) -> Result<Vec<(&'static str, f64)>, String> {
        let base_params = |status: &str| -> Vec<(String, String)> {
            vec![
                ("AccountSid".into(), ACCOUNT_SID.into()),
                ("CallSid".into(), sid.to_string()),
                ("From".into(), "+15550009999".into()),
                ("To".into(), to.to_string()),
                ("CallStatus".into(), status.into()),
                ("Direction".into(), "outbound-api".into()),
                ("ApiVersion".into(), "2010-04-01".into()),
            ]
        };
        let status = |s: &str, seq: u32| {
            let mut p = base_params(s);
            p.push(("SequenceNumber".into(), seq.to_string()));
            p.push(("CallbackSource".into(), "call-progress-events".into()));
            p
        };
        let mut times = Vec::with_capacity(10);
        let mut step = 0;
        let mut post = async |kind: &'static str,
                              hook: &str,
                              extra: &str,
                              params: Vec<(String, String)>|
               -> Result<String, String> {
            let path = format!("/twilio/voice/{hook}?call_id={call_id}{extra}");
            let (code, body, ms) = self.callback(lane, n, step, &path, &params).await?;
            step += 1;
            if code != 200 {
                return Err(format!("{kind} callback answered {code}"));
            }
            times.push((kind, ms));
            Ok(body)
        };
        for (i, s) in ["initiated", "ringing", "in-progress"].iter().enumerate() {
            post("status", "status", "", status(s, i as u32)).await?;
        }
        let mut answer = base_params("in-progress");
        answer.push(("AnsweredBy".into(), "human".into()));
        let mut doc = post("answer", "incoming", "", answer).await?;
        for (i, reply) in ["yes", "yes", "yes please"].iter().enumerate() {
            let t = turn(&doc).ok_or_else(|| format!("no Gather after step {i}: {doc}"))?;
            let mut p = base_params("in-progress");
            p.push(("SpeechResult".into(), reply.to_string()));
            p.push(("Confidence".into(), "0.9".into()));
            doc = post("gather", "gather", &format!("&turn={t}"), p).await?;
            if i == 1 {
                let mut r = base_params("in-progress");
                r.push(("RecordingSid".into(), format!("RE{:032x}", n)));
                r.push(("RecordingStatus".into(), "in-progress".into()));
                post("status", "recording", "", r).await?;
            }
        }
        let mut done = status("completed", 3);
        done.push(("CallDuration".into(), "42".into()));
        post("status", "status", "", done).await?;
        Ok(times)
    }
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
