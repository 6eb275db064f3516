//! The callback load: complete calls through the default flow, every callback
//! signed and posted over HTTP the way Twilio would, latency timed at the client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{redis_info, Options, Server, API_TOKEN, AUTH_TOKEN};
use crate::api_client::ApiClient;
use crate::sim::CallbackClient;

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
}

#[derive(Default)]
struct Latencies {
    answer: Vec<f64>,
    gather: Vec<f64>,
    status: Vec<f64>,
}

fn percentiles(v: &mut [f64]) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    json!({"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": v[v.len() - 1], "count": v.len()})
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
    apis: Vec<ApiClient>,
    http: reqwest::Client,
    cb: CallbackClient,
    public: String,
    targets: Vec<String>,
}

impl Caller {
    fn new(servers: &[Server], public: &str) -> Self {
        Self {
            apis: servers
                .iter()
                .map(|s| ApiClient::new(s.url(""), API_TOKEN))
                .collect(),
            http: reqwest::Client::new(),
            cb: CallbackClient::new(AUTH_TOKEN),
            public: public.to_string(),
            targets: servers.iter().map(|s| s.url("")).collect(),
        }
    }

    /// (URL to sign, URL to send to) for callback `i` of call `n`.
    fn hook(&self, n: u64, i: usize, path: &str) -> (String, String) {
        let target = &self.targets[(n as usize + i) % self.targets.len()];
        (format!("{}{path}", self.public), format!("{target}{path}"))
    }
}

impl Caller {
    /// Places one call through the API, then plays Twilio through to the end.
    /// Returns the latencies (kind, ms) of its callbacks.
    async fn call(&self, n: u64) -> Result<Vec<(&'static str, f64)>, String> {
        let (to, call_id, sid) = self.place(n).await?;
        self.drive(n, &to, &call_id, &sid).await
    }

    /// `POST /api/calls/outbound`: (to, call id, CallSid).
    async fn place(&self, n: u64) -> Result<(String, String, String), String> {
        let to = format!("+1555{:07}", n % 10_000_000);
        let api = &self.apis[n as usize % self.apis.len()];
        let (_, placed) = api
            .post("/api/calls/outbound", &json!({"to": to, "name": "Ada"}))
            .await?;
        let call_id = placed["call_id"]
            .as_str()
            .ok_or_else(|| format!("not placed: {placed}"))?
            .to_string();
        let sid = placed["call_sid"].as_str().unwrap_or_default().to_string();
        Ok((to, call_id, sid))
    }

    /// Only the answer webhook: the call then waits at its first question.
    async fn answer(&self, to: &str, call_id: &str, sid: &str) -> Result<(), String> {
        let params: Vec<(String, String)> = vec![
            ("AccountSid".into(), super::ACCOUNT_SID.into()),
            ("CallSid".into(), sid.to_string()),
            ("From".into(), "+15550009999".into()),
            ("To".into(), to.to_string()),
            ("CallStatus".into(), "in-progress".into()),
            ("AnsweredBy".into(), "human".into()),
        ];
        let (signed, target) =
            self.hook(0, 0, &format!("/twilio/voice/incoming?call_id={call_id}"));
        let token = uuid::Uuid::new_v4().simple().to_string();
        let (status, _) = self
            .cb
            .post_via(&signed, &target, &params, &token)
            .await
            .map_err(|e| e.to_string())?;
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
        n: u64,
        to: &str,
        call_id: &str,
        sid: &str,
    ) -> Result<Vec<(&'static str, f64)>, String> {
        let base_params = |status: &str| -> Vec<(String, String)> {
            vec![
                ("AccountSid".into(), super::ACCOUNT_SID.into()),
                ("CallSid".into(), sid.to_string()),
                ("From".into(), "+15550009999".into()),
                ("To".into(), to.to_string()),
                ("CallStatus".into(), status.into()),
                ("Direction".into(), "outbound-api".into()),
                ("ApiVersion".into(), "2010-04-01".into()),
            ]
        };
        let step = std::sync::atomic::AtomicUsize::new(0);
        let url = |hook: &str, extra: &str| {
            let i = step.fetch_add(1, Ordering::Relaxed);
            self.hook(
                n,
                i,
                &format!("/twilio/voice/{hook}?call_id={call_id}{extra}"),
            )
        };
        let mut times = Vec::with_capacity(10);
        let post = |kind: &'static str,
                    (signed, target): (String, String),
                    params: Vec<(String, String)>| {
            let cb = self.cb.clone();
            async move {
                let t = Instant::now();
                let token = uuid::Uuid::new_v4().simple().to_string();
                let (status, body) = cb
                    .post_via(&signed, &target, &params, &token)
                    .await
                    .map_err(|e| e.to_string())?;
                if status != 200 {
                    return Err(format!("{kind} callback answered {status}"));
                }
                Ok::<_, String>((kind, t.elapsed().as_secs_f64() * 1000.0, body))
            }
        };
        let status = |s: &str, seq: u32| {
            let mut p = base_params(s);
            p.push(("SequenceNumber".into(), seq.to_string()));
            p.push(("CallbackSource".into(), "call-progress-events".into()));
            p
        };
        for (i, s) in ["initiated", "ringing", "in-progress"].iter().enumerate() {
            let (k, ms, _) = post("status", url("status", ""), status(s, i as u32)).await?;
            times.push((k, ms));
        }
        let mut answer = base_params("in-progress");
        answer.push(("AnsweredBy".into(), "human".into()));
        let (k, ms, mut doc) = post("answer", url("incoming", ""), answer).await?;
        times.push((k, ms));
        for (i, reply) in ["yes", "yes", "yes please"].iter().enumerate() {
            let t = turn(&doc).ok_or_else(|| format!("no Gather after step {i}: {doc}"))?;
            let mut p = base_params("in-progress");
            p.push(("SpeechResult".into(), reply.to_string()));
            p.push(("Confidence".into(), "0.9".into()));
            let (k, ms, next) = post("gather", url("gather", &format!("&turn={t}")), p).await?;
            times.push((k, ms));
            doc = next;
            if i == 1 {
                let mut r = base_params("in-progress");
                r.push(("RecordingSid".into(), format!("RE{:032x}", n)));
                r.push(("RecordingStatus".into(), "in-progress".into()));
                let (k, ms, _) = post("status", url("recording", ""), r).await?;
                times.push((k, ms));
            }
        }
        let mut done = status("completed", 3);
        done.push(("CallDuration".into(), "42".into()));
        let (k, ms, _) = post("status", url("status", ""), done).await?;
        times.push((k, ms));
        Ok(times)
    }
}

/// Summed over all instances.
async fn stats(servers: &[Server], http: &reqwest::Client) -> Result<(f64, f64), String> {
    let (mut rt, mut handled) = (0.0, 0.0);
    for s in servers {
        let v = s.stats(http).await?;
        rt += v["redis_round_trips"].as_f64().unwrap_or(0.0);
        handled += v["callbacks_handled"].as_f64().unwrap_or(0.0);
    }
    Ok((rt, handled))
}

pub async fn run(
    servers: &[Server],
    public: &str,
    redis_url: &str,
    options: &Options,
) -> Result<Outcome, String> {
    let caller = Arc::new(Caller::new(servers, public));
    // Warm up with a few complete calls, then measure what placing a call costs
    // (API, REST, record) on its own, so callbacks can be counted apart from it.
    for n in 0..10 {
        caller.call(9_000_000 + n).await?;
    }
    const CALIBRATION: u64 = 20;
    let stats0 = stats(servers, &caller.http).await?;
    let info0 = redis_info(redis_url).await?;
    for n in 0..CALIBRATION {
        caller.place(9_100_000 + n).await?;
    }
    let stats1 = stats(servers, &caller.http).await?;
    let info1 = redis_info(redis_url).await?;
    let rt = |s: &(f64, f64)| s.0;
    let handled = |s: &(f64, f64)| s.1;
    let create_rt = (rt(&stats1) - rt(&stats0)) / CALIBRATION as f64;
    let create_cmds = (info1.commands - info0.commands) as f64 / CALIBRATION as f64;

    let latencies = Arc::new(Mutex::new(Latencies::default()));
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
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
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let t = Instant::now();
                let n = next.fetch_add(1, Ordering::Relaxed);
                match caller.call(n).await {
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
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats2 = stats(servers, &caller.http).await?;
    let info2 = redis_info(redis_url).await?;
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
    })
}

/// Places `n` calls and answers each, so they wait mid-conversation (as in a
/// large campaign), with `concurrency` at a time. Returns the calls placed.
pub async fn hold_in_flight(
    servers: &[Server],
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
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n as u64 {
                    return;
                }
                let n = 5_000_000 + i;
                if let Ok((to, call_id, sid)) = caller.place(n).await {
                    if caller.answer(&to, &call_id, &sid).await.is_ok() {
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
