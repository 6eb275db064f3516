//! Starting real parts for a test: redis-server, the Twilio simulator and callflow.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use callflow::config::{self, Settings};
use callflow::redis_server::RedisServer;
use callflow::startup::Application;
use serde_json::Value;
use twilio_sim::{CallbackClient, Persona, SimCall, SimConfig, Simulator};

/// Tests that measure timing, and tests that load the machine (several server
/// processes, a thousand calls), take turns: two cores shared with a
/// thousand-call campaign would measure the machine, not the dispatcher.
pub static TIMING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "test-auth-token";
pub const API_TOKEN: &str = "test-api-token-0123456789";
pub const VOICE_NUMBER: &str = "+15550001111";
/// Wednesday 2026-01-14, 17:30 in New York, 14:30 in Los Angeles, 12:30 in
/// Honolulu and Thursday 08:30 in Guam: inside calling hours in every zone of
/// +1, so test numbers whose area code says nothing (+1555...) may be dialed.
pub const DAYTIME: &str = "2026-01-14T22:30:00Z";

pub struct TestApp {
    pub redis: RedisServer,
    pub sim: Simulator,
    pub base_url: String,
    pub http: reqwest::Client,
    /// Every tenant of the app and its view of the application.
    pub tenants: std::sync::Arc<callflow::tenant::Tenants>,
    _stop: tokio::sync::watch::Sender<bool>,
}

/// The environment callflow runs with in tests.
pub fn env_for(redis_url: &str, sim_url: &str, port: u16) -> HashMap<&'static str, String> {
    HashMap::from([
        ("PORT", port.to_string()),
        ("PUBLIC_BASE_URL", format!("http://127.0.0.1:{port}")),
        ("REDIS_URL", redis_url.to_string()),
        ("API_TOKEN", API_TOKEN.to_string()),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID.to_string()),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_string()),
        ("TWILIO_VOICE_NUMBER", VOICE_NUMBER.to_string()),
        ("TWILIO_API_BASE_URL", sim_url.to_string()),
        ("COMPANY_NAME", "Smith & <Sons>".to_string()),
        ("CALL_PURPOSE", "about your booking request".to_string()),
        ("FLOWS_DIR", flows_dir().display().to_string()),
        // A fixed weekday afternoon in every US zone, so calling windows never
        // depend on when the tests run.
        ("CALLFLOW_CLOCK_START", DAYTIME.to_string()),
        ("TWILIO_TIMEOUT_SECS", "2".to_string()),
        ("DISPATCH_LEASE_SECS", "5".to_string()),
        // Small shards, so every campaign test spreads its contacts over several
        // hash tags (production default: 10,000 contacts a shard).
        ("CAMPAIGN_SHARD_CONTACTS", "3".to_string()),
        // Webhook receivers in tests listen on 127.0.0.1.
        ("ALLOW_PRIVATE_WEBHOOKS", "true".to_string()),
    ])
}

pub fn flows_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/flows"))
}

pub fn settings(env: &HashMap<&'static str, String>) -> Settings {
    config::from_lookup(|k| env.get(k).cloned()).expect("test settings are valid")
}

pub async fn start_sim() -> Simulator {
    callflow::install_crypto();
    Simulator::start(SimConfig::new(ACCOUNT_SID, AUTH_TOKEN))
        .await
        .expect("simulator starts")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut HashMap<&'static str, String>)) -> TestApp {
    let redis = RedisServer::start().expect("redis-server starts (is it installed?)");
    let sim = start_sim().await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut env = env_for(&redis.url(), &sim.base_url(), port);
    adjust(&mut env);
    let app = Application::build(settings(&env), &redis.url(), listener)
        .await
        .expect("app builds");
    tokio::spawn(app.server);
    TestApp {
        redis,
        sim,
        base_url: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
        tenants: app.tenants,
        _stop: app.stop,
    }
}

impl TestApp {
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(API_TOKEN)
    }

    /// `POST /api/calls/outbound`; returns status and JSON body.
    pub async fn place(&self, body: Value) -> (u16, Value) {
        let resp = self
            .api(reqwest::Method::POST, "/api/calls/outbound")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `GET /api/calls/{id}`.
    pub async fn get_call(&self, id: &str) -> Value {
        let resp = self
            .api(reqwest::Method::GET, &format!("/api/calls/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "GET call {id}");
        resp.json().await.unwrap()
    }

    /// Places a call to `to` with `persona`, waits for the simulated callee to finish,
    /// and returns the simulator's view and callflow's view of it.
    pub async fn run_call(
        &self,
        to: &str,
        name: Option<&str>,
        persona: Persona,
    ) -> (SimCall, Value) {
        self.sim.set_persona(to, persona);
        let mut body = serde_json::json!({"to": to});
        if let Some(name) = name {
            body["name"] = name.into();
        }
        let (status, placed) = self.place(body).await;
        assert_eq!(status, 201, "{placed}");
        let sid = placed["call_sid"].as_str().expect("call_sid").to_string();
        let sim_call = self
            .sim
            .wait_finished(&sid, Duration::from_secs(20))
            .await
            .expect("call finishes");
        let call = self.get_call(placed["call_id"].as_str().unwrap()).await;
        (sim_call, call)
    }
}

/// The states a call passed through, in order, from its timeline.
pub fn state_path(call: &Value) -> Vec<String> {
    let mut path = vec!["queued".to_string()];
    for entry in call["timeline"].as_array().unwrap() {
        for s in entry["via"].as_array().into_iter().flatten() {
            path.push(s.as_str().unwrap().to_string());
        }
        let to = entry["to"].as_str().unwrap().to_string();
        if path.last() != Some(&to) {
            path.push(to);
        }
    }
    path.dedup();
    path
}

/// Plays Twilio by hand: signed callbacks to this app for one call.
pub struct Twilio {
    pub client: CallbackClient,
    pub base_url: String,
    pub call_id: String,
    pub call_sid: String,
}

impl Twilio {
    pub fn new(base_url: &str, call_id: &str, call_sid: &str) -> Self {
        Self {
            client: CallbackClient::new(AUTH_TOKEN),
            base_url: base_url.to_string(),
            call_id: call_id.to_string(),
            call_sid: call_sid.to_string(),
        }
    }

    pub fn params(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut p = vec![
            ("AccountSid".to_string(), ACCOUNT_SID.to_string()),
            ("CallSid".to_string(), self.call_sid.clone()),
            ("From".to_string(), VOICE_NUMBER.to_string()),
            ("To".to_string(), "+15557654321".to_string()),
            ("Direction".to_string(), "outbound-api".to_string()),
            ("ApiVersion".to_string(), "2010-04-01".to_string()),
        ];
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        p
    }

    pub fn url(&self, hook: &str, extra_query: &str) -> String {
        format!(
            "{}/twilio/voice/{hook}?call_id={}{extra_query}",
            self.base_url, self.call_id
        )
    }

    pub async fn post(
        &self,
        hook: &str,
        extra_query: &str,
        extra: &[(&str, &str)],
    ) -> (u16, String) {
        self.client
            .post(&self.url(hook, extra_query), &self.params(extra))
            .await
            .expect("callback delivered")
    }

    pub async fn answer(&self) -> (u16, String) {
        self.post(
            "incoming",
            "",
            &[("CallStatus", "in-progress"), ("AnsweredBy", "human")],
        )
        .await
    }

    pub async fn say(&self, turn: u32, speech: &str) -> (u16, String) {
        let turn = format!("&turn={turn}");
        self.post(
            "gather",
            &turn,
            &[
                ("CallStatus", "in-progress"),
                ("SpeechResult", speech),
                ("Confidence", "0.9"),
            ],
        )
        .await
    }

    pub async fn status(&self, status: &str, seq: u32) -> (u16, String) {
        let seq = seq.to_string();
        self.post(
            "status",
            "",
            &[
                ("CallStatus", status),
                ("SequenceNumber", &seq),
                ("CallbackSource", "call-progress-events"),
            ],
        )
        .await
    }
}

/// The `turn` of the Gather action in a TwiML document.
pub fn turn_of(twiml: &str) -> u32 {
    let start = twiml.find("turn=").expect("a Gather action") + 5;
    twiml[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// A `callflow serve` child process, killed when dropped.
pub struct ServeProcess(pub std::process::Child);

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl ServeProcess {
    /// Kills it with SIGKILL: no chance to clean up.
    pub fn sigkill(&mut self) {
        self.signal(9);
        let _ = self.0.wait();
    }

    /// Sends it a signal (15: SIGTERM, 2: SIGINT) without waiting.
    pub fn signal(&self, sig: i32) {
        extern "C" {
            fn kill(pid: i32, sig: i32) -> i32;
        }
        // SAFETY: kill(2) on our own child's pid.
        unsafe { kill(self.0.id() as i32, sig) };
    }

    /// Waits up to `limit` for it to exit; how long it took, or `None`.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<Duration> {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.0.try_wait() {
                return Some(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

/// Starts the real binary with exactly `env` and waits until it is ready.
pub async fn serve_process(
    env: &HashMap<&'static str, String>,
    port: u16,
    workdir: &std::path::Path,
) -> ServeProcess {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
        .arg("serve")
        .current_dir(workdir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("callflow serve starts");
    let process = ServeProcess(child);
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/ready"))
            .send()
            .await
        {
            if r.status() == 200 {
                return process;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("callflow serve did not become ready");
}

/// The environment for two instances behind one public address, the simulator
/// playing the load balancer: (env, port of A, port of B).
pub fn behind_one_address(
    sim: &Simulator,
    redis_url: &str,
) -> (HashMap<&'static str, String>, u16, u16) {
    let free = || callflow::redis_server::free_port().unwrap();
    let (port_a, port_b, public) = (free(), free(), free());
    let public_base = format!("http://127.0.0.1:{public}");
    sim.set_callback_upstreams(
        &public_base,
        vec![
            format!("http://127.0.0.1:{port_a}"),
            format!("http://127.0.0.1:{port_b}"),
        ],
    );
    let mut env = env_for(redis_url, &sim.base_url(), public);
    env.insert("PUBLIC_BASE_URL", public_base);
    (env, port_a, port_b)
}

/// `GET url` with the API token: the JSON answer.
pub async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
