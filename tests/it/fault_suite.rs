//! The fault suite: one campaign and a few single calls driven through the
//! simulator by two `callflow serve` processes behind one address, while
//! Twilio refuses, throttles, loses and delays create-call requests, callbacks
//! arrive twice and out of order, Redis stalls (SIGSTOP) and restarts, and the
//! instances are killed (SIGKILL) and stopped (SIGTERM). At the end it reads
//! Redis and the simulator's logs, prints its figures and asserts that every
//! "must be 0" is 0. scripts/test.sh runs it on its own with `--nocapture`, so
//! CI shows the table.
//!
//! The figures (also in the README):
//! - callbacks delivered: callbacks the simulator delivered and had answered
//!   (any status below 500), duplicates included;
//! - duplicates: of those, second deliveries of the same callback;
//! - reorderings: status callbacks delivered after a later one;
//! - Redis restarts / stalls, instance kills: faults injected (a restart keeps
//!   Redis's data; a stall freezes it for 3.5 s, past the store's timeout);
//! - transitions lost: calls whose final status callflow acknowledged (200)
//!   but whose record does not show that status, finished;
//! - calls double-dialled: create-call requests beyond one per call record
//!   (the simulator's answer URL names the record), plus dials to a number
//!   while another simulated call to it had not ended;
//! - recordings without consent: simulated calls where recording started
//!   whose record does not say consent was given;
//! - do-not-call writes without an opt-out transition: entries on the
//!   do-not-call list made by a call (`call:<id>`) whose record is not opted
//!   out, plus effects still pending at the end;
//! - voice replies given up on: voice callbacks whose last reply was the
//!   apology (Redis did not answer in time);
//! - replies that contradict the stored state: voice callbacks (answer,
//!   gather) whose last reply the caller followed is neither the reply the
//!   record remembers for that callback (what any retry would get) nor the
//!   apology with nothing remembered.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use callflow::redis_server::RedisServer;
use callflow::store::{Keys, Store};
use redis::AsyncCommands;
use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::{CallbackChaos, CreateFailure, Persona, SimCall, Simulator};

use crate::helpers::{behind_one_address, serve_process, start_sim, ServeProcess, API_TOKEN};

const CONTACTS: usize = 30;
/// How long Redis is frozen: callbacks in its first 1.5 s are given up on
/// (the store's timeout is 2 s) and their writes then reach Redis late.
const STALL: Duration = Duration::from_millis(3500);
const PERSONAS: [Persona; 9] = [
    Persona::Interested,
    Persona::OptsOutMidPitch,
    Persona::RefusesRecording,
    Persona::Declines,
    Persona::Busy,
    Persona::NoAnswer,
    Persona::Voicemail,
    Persona::Silent,
    Persona::WrongPerson,
];

fn number(i: usize) -> String {
    format!("+1555444{:04}", 1000 + i)
}

/// The faults injected, counted as they happen.
#[derive(Default)]
struct Injected {
    redis_restarts: u32,
    redis_stalls: u32,
    instance_kills: u32,
}

/// The suite's world: Redis, the simulator, two instances behind one address.
struct World {
    redis: RedisServer,
    sim: Simulator,
    env: HashMap<&'static str, String>,
    ports: [u16; 2],
    instances: [Option<ServeProcess>; 2],
    workdir: std::path::PathBuf,
    http: reqwest::Client,
    injected: Injected,
}

impl World {
    async fn start() -> World {
        let workdir = std::env::temp_dir().join(format!("callflow-faults-{}", std::process::id()));
        let redis_dir = workdir.join("redis");
        std::fs::create_dir_all(&redis_dir).unwrap();
        // Its data goes to redis_dir on a restart (SHUTDOWN SAVE), and comes back from there.
        let redis = RedisServer::start_with(&["--dir", &redis_dir.display().to_string()]).unwrap();
        let sim = start_sim().await;
        let (mut env, a, b) = behind_one_address(&sim, &redis.url());
        env.insert("TWILIO_MAX_CPS", "20".into());
        env.insert("SHUTDOWN_GRACE_SECS", "3".into());
        let mut world = World {
            redis,
            sim,
            env,
            ports: [a, b],
            instances: [None, None],
            workdir,
            http: reqwest::Client::new(),
            injected: Injected::default(),
        };
        for i in 0..2 {
            world.start_instance(i).await;
        }
        world
    }

    async fn start_instance(&mut self, i: usize) {
        let process = serve_process(&self.env, self.ports[i], &self.workdir).await;
        self.instances[i] = Some(process);
    }

    /// An instance that is up, for API requests.
    fn api_port(&self) -> u16 {
        let i = self.instances.iter().position(Option::is_some).unwrap();
        self.ports[i]
    }

    async fn api(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let url = format!("http://127.0.0.1:{}{path}", self.api_port());
        let mut req = self.http.request(method, url).bearer_auth(API_TOKEN);
        if let Some(body) = body {
            req = req.json(body);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                (status, resp.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    async fn stall_redis(&mut self) {
        self.redis.pause().unwrap();
        tokio::time::sleep(STALL).await;
        self.redis.resume().unwrap();
        self.injected.redis_stalls += 1;
    }

    fn restart_redis(&mut self) {
        let dir = self.workdir.join("redis");
        self.redis.restart_keeping_data(&dir).unwrap();
        self.injected.redis_restarts += 1;
    }

    async fn sigkill(&mut self, i: usize) {
        self.instances[i].take().unwrap().sigkill();
        self.injected.instance_kills += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.start_instance(i).await;
    }

    async fn sigterm(&mut self, i: usize) {
        let mut process = self.instances[i].take().unwrap();
        process.signal(15);
        assert!(
            process
                .exited_within(Duration::from_secs(10))
                .await
                .is_some(),
            "instance {i} did not stop on SIGTERM"
        );
        self.injected.instance_kills += 1;
        self.start_instance(i).await;
    }
}

/// The call id a simulated call's answer URL names.
fn call_id_of(call: &SimCall) -> Option<String> {
    let rest = call.url.split("call_id=").nth(1)?;
    rest.split(['&', '#']).next().map(str::to_owned)
}

/// The idempotency key of a voice callback, from its URL.
fn voice_key(url: &str) -> Option<String> {
    if url.contains("/twilio/voice/incoming") {
        return Some("answer".into());
    }
    if !url.contains("/twilio/voice/gather") {
        return None;
    }
    let turn = url.split("turn=").nth(1)?;
    let turn: String = turn.chars().take_while(char::is_ascii_digit).collect();
    Some(format!("gather:{turn}"))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The suite's figures: what was injected and what must be zero.
#[derive(Debug, Default)]
struct Figures {
    calls_dialed: usize,
    callbacks_delivered: u64,
    duplicates: u64,
    reorderings: u64,
    redis_restarts: u32,
    redis_stalls: u32,
    instance_kills: u32,
    create_failures: usize,
    opt_outs: usize,
    apologies: usize,
    transitions_lost: Vec<String>,
    double_dialled: Vec<String>,
    recordings_without_consent: Vec<String>,
    dnc_without_opt_out: Vec<String>,
    contradicting_replies: Vec<String>,
}

impl Figures {
    fn print(&self) {
        let rows = [
            ("calls dialed (simulator)", self.calls_dialed.to_string()),
            (
                "create-call failures injected",
                self.create_failures.to_string(),
            ),
            ("callbacks delivered", self.callbacks_delivered.to_string()),
            ("duplicates", self.duplicates.to_string()),
            ("reorderings", self.reorderings.to_string()),
            ("Redis restarts", self.redis_restarts.to_string()),
            ("Redis stalls", self.redis_stalls.to_string()),
            (
                "instance kills (SIGKILL + SIGTERM)",
                self.instance_kills.to_string(),
            ),
            ("opt-outs stored", self.opt_outs.to_string()),
            (
                "voice replies given up on (the apology)",
                self.apologies.to_string(),
            ),
            (
                "transitions lost (must be 0)",
                self.transitions_lost.len().to_string(),
            ),
            (
                "calls double-dialled (must be 0)",
                self.double_dialled.len().to_string(),
            ),
            (
                "recordings without consent (must be 0)",
                self.recordings_without_consent.len().to_string(),
            ),
            (
                "do-not-call writes without an opt-out transition (must be 0)",
                self.dnc_without_opt_out.len().to_string(),
            ),
            (
                "replies that contradict the stored state (must be 0)",
                self.contradicting_replies.len().to_string(),
            ),
        ];
        println!("\nfault suite figures");
        for (name, value) in rows {
            println!("  {name:<62} {value:>6}");
        }
    }
}

#[tokio::test]
async fn calls_survive_twilio_redis_and_instance_faults_with_every_invariant_held() {
    let _turn = crate::helpers::TIMING.lock().await;
    let started = Instant::now();
    let mut world = World::start().await;
    world.sim.set_callback_chaos(CallbackChaos {
        duplicate_every: 4,
        reorder_every: 5,
    });
    // A balancer with affinity (as the README advises): each instance holds
    // its calls' last version, so a callback's first command is its write.
    world.sim.set_callback_affinity(true);
    // Callers take a moment to answer, so calls are mid-conversation when Redis stalls.
    world.sim.set_think_time(Duration::from_secs(1));
    // Twilio's create-call faults, one-shot on some numbers.
    let mut create_failures = 0;
    for i in 0..CONTACTS {
        let to = number(i);
        world
            .sim
            .set_persona(&to, PERSONAS[i % PERSONAS.len()].clone());
        let failure = match i % 10 {
            1 => Some(CreateFailure::Throttled),
            3 => Some(CreateFailure::PlacedButLost),
            5 => Some(CreateFailure::PlacedButSlow(2500)),
            7 => Some(CreateFailure::NotPlaced),
            _ => None,
        };
        if let Some(failure) = failure {
            world.sim.fail_next_create(&to, failure);
            create_failures += 1;
        }
    }
    let contacts: Vec<Value> = (0..CONTACTS)
        .map(|i| json!({"to": number(i), "name": "Ada"}))
        .collect();
    let (status, created) = world
        .api(
            Method::POST,
            "/api/calls/outbound",
            Some(&json!({"contacts": contacts, "calls_per_second": 2})),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    let campaign_id = created["campaign_id"].as_str().unwrap().to_string();

    // The faults, while the campaign dials (about 15 s at 2 calls a second,
    // each call a few seconds of conversation), with single calls to numbers
    // the campaign also dials in between.
    tokio::time::sleep(Duration::from_secs(3)).await;
    world.stall_redis().await;
    single_calls(&world, &[0, 2]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    world.sigkill(0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    world.restart_redis();
    single_calls(&world, &[4, 6]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    world.stall_redis().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    world.sigterm(1).await;

    // Everything settles: the campaign completes, every simulated call ends.
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let (_, c) = world
            .api(Method::GET, &format!("/api/campaigns/{campaign_id}"), None)
            .await;
        let calls_over = world.sim.calls().iter().all(|c| c.finished);
        if c["status"] == "completed" && calls_over {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the campaign did not complete: {c}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let store = Store::connect(&world.redis.url(), "default").await.unwrap();
    // A do-not-call write an interrupted opt-out left is the reaper's.
    let reaped_by = Instant::now() + callflow::app::effects::EFFECT_GRACE * 2;
    while store.pending_effects().await.unwrap() > 0 && Instant::now() < reaped_by {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let mut figures = check(&world, &store).await;
    figures.create_failures = create_failures;
    figures.redis_restarts = world.injected.redis_restarts;
    figures.redis_stalls = world.injected.redis_stalls;
    figures.instance_kills = world.injected.instance_kills;
    figures.print();
    println!(
        "  {:<62} {:>5.1}s",
        "run time",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&world.workdir);

    assert!(
        figures.duplicates > 0 && figures.reorderings > 0,
        "{figures:?}"
    );
    assert!(figures.opt_outs > 0, "{figures:?}");
    assert!(figures.transitions_lost.is_empty(), "{figures:?}");
    assert!(figures.double_dialled.is_empty(), "{figures:?}");
    assert!(figures.recordings_without_consent.is_empty(), "{figures:?}");
    assert!(figures.dnc_without_opt_out.is_empty(), "{figures:?}");
    assert!(figures.contradicting_replies.is_empty(), "{figures:?}");
}

/// Single calls to numbers the campaign dials: placed, refused while the
/// number has a call in progress, or held by its cap; never a failure.
async fn single_calls(world: &World, contacts: &[usize]) {
    for &i in contacts {
        let (status, body) = world
            .api(
                Method::POST,
                "/api/calls/outbound",
                Some(&json!({"to": number(i), "name": "Ada"})),
            )
            .await;
        assert!(
            matches!(status, 201 | 409 | 422 | 429 | 502 | 503),
            "single call: {status} {body}"
        );
    }
}

/// Reads Redis and the simulator's logs into the figures.
async fn check(world: &World, store: &Store) -> Figures {
    let stats = world.sim.callback_stats();
    let calls = world.sim.calls();
    let mut figures = Figures {
        calls_dialed: calls.len(),
        callbacks_delivered: stats.delivered,
        duplicates: stats.duplicates,
        reorderings: stats.reorderings,
        ..Figures::default()
    };
    let apology = callflow::twiml::polite_goodbye("", "");
    let mut dials_per_record: HashMap<String, usize> = HashMap::new();
    let mut by_number: HashMap<&str, Vec<&SimCall>> = HashMap::new();
    for call in &calls {
        by_number.entry(call.to.as_str()).or_default().push(call);
        let Some(call_id) = call_id_of(call) else {
            figures
                .transitions_lost
                .push(format!("{}: no call id", call.sid));
            continue;
        };
        *dials_per_record.entry(call_id.clone()).or_default() += 1;
        let keys = store.keys().call_record(&call_id);
        let loaded = store.load(&keys, "").await.unwrap();
        let record: Value = loaded
            .record
            .as_deref()
            .map(|r| serde_json::from_str(r).unwrap())
            .unwrap_or(Value::Null);

        // The final status, as acknowledged.
        let last_final = call.callbacks.iter().rev().find(|cb| {
            cb.http_status == 200
                && param(&cb.params, "CallbackSource") == Some("call-progress-events")
                && matches!(
                    param(&cb.params, "CallStatus"),
                    Some("completed" | "busy" | "no-answer" | "failed" | "canceled")
                )
        });
        if let Some(cb) = last_final {
            let told = param(&cb.params, "CallStatus").unwrap();
            let has_disposition = !record["disposition"].is_null();
            if record["status"] != told || !has_disposition {
                figures.transitions_lost.push(format!(
                    "{call_id}: Twilio said {told}, the record says {} / {}",
                    record["status"], record["disposition"]
                ));
            }
        }
        if call.recording_started && record["consent"] != true {
            figures
                .recordings_without_consent
                .push(format!("{call_id}: consent {}", record["consent"]));
        }
        if record["disposition"] == "opted_out" {
            figures.opt_outs += 1;
        }

        // Each voice callback's last reply against what the record remembers.
        let mut last_reply: HashMap<String, &str> = HashMap::new();
        for cb in call.callbacks.iter().filter(|cb| cb.http_status == 200) {
            if let Some(key) = voice_key(&cb.url) {
                last_reply.insert(key, cb.body.as_str());
            }
        }
        for (key, reply) in last_reply {
            if reply == apology {
                figures.apologies += 1;
            }
            let remembered = store.load(&keys, &key).await.unwrap().seen;
            let consistent = match remembered.as_deref() {
                Some(r) => r == reply,
                None => reply == apology,
            };
            if !consistent {
                figures.contradicting_replies.push(format!(
                    "{call_id} {key}: replied {reply:?}, remembered {remembered:?}"
                ));
            }
        }
    }
    for (call_id, n) in dials_per_record {
        if n > 1 {
            figures
                .double_dialled
                .push(format!("{call_id}: dialed {n} times"));
        }
    }
    for (to, mut dials) in by_number {
        dials.sort_by_key(|c| c.created_at);
        for pair in dials.windows(2) {
            let ended = pair[0].ended_at.unwrap_or_else(Instant::now);
            if pair[1].created_at < ended {
                figures.double_dialled.push(format!(
                    "{to}: dialed while {} was in progress",
                    pair[0].sid
                ));
            }
        }
    }
    dnc_check(world, store, &mut figures).await;
    figures
}

/// Every do-not-call entry a call made belongs to an opted-out call; nothing pending.
async fn dnc_check(world: &World, store: &Store, figures: &mut Figures) {
    let mut c = redis::Client::open(world.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys = Keys::new("default");
    let entries: HashMap<String, String> = c.hgetall(keys.dnc()).await.unwrap();
    for (number, entry) in entries {
        let entry: Value = serde_json::from_str(&entry).unwrap();
        let Some(call_id) = entry["source"]
            .as_str()
            .and_then(|s| s.strip_prefix("call:"))
        else {
            continue;
        };
        let loaded = store
            .load(&store.keys().call_record(call_id), "")
            .await
            .unwrap();
        let record: Value = loaded
            .record
            .as_deref()
            .map(|r| serde_json::from_str(r).unwrap())
            .unwrap_or(Value::Null);
        if record["disposition"] != "opted_out" {
            figures.dnc_without_opt_out.push(format!(
                "{}: entry by {call_id}, whose disposition is {}",
                callflow::phone::mask(&number),
                record["disposition"]
            ));
        }
    }
    let pending = store.pending_effects().await.unwrap();
    if pending > 0 {
        figures
            .dnc_without_opt_out
            .push(format!("{pending} effects still pending"));
    }
}
