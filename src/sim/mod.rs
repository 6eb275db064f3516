//! A built-in Twilio simulator: the REST endpoints callflow uses, validated
//! against Twilio's OpenAPI description, and scripted callees that follow the
//! returned TwiML and post correctly signed callbacks. Tests and `callflow demo`
//! run the whole service with it instead of a Twilio account.

mod callee;
pub mod openapi;
mod rest;
mod twiml;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpServer};
use tokio::sync::Notify;

pub use twiml::{parse_twiml, resolve_url, TwimlVerb};

pub struct SimConfig {
    pub account_sid: String,
    pub auth_token: String,
    pub api_key_sid: Option<String>,
    pub api_key_secret: Option<String>,
}

impl SimConfig {
    /// An account that authenticates with its auth token only.
    pub fn new(account_sid: &str, auth_token: &str) -> Self {
        Self {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            api_key_sid: None,
            api_key_secret: None,
        }
    }
}

/// How a simulated callee behaves.
#[derive(Clone, Debug, PartialEq)]
pub enum Persona {
    /// Yes to everything.
    Interested,
    /// Confirms identity, refuses recording, then is interested.
    RefusesRecording,
    /// Confirms, agrees to recording, then asks to be removed when pitched.
    OptsOutMidPitch,
    /// Answers and never says a word.
    Silent,
    Busy,
    NoAnswer,
    /// An answering machine (`AnsweredBy=machine_end_beep`).
    Voicemail,
    /// "No, you have the wrong number."
    WrongPerson,
    /// Confirms, agrees to recording, not interested.
    Declines,
    /// Answers each Gather with the next reply; silence when they run out.
    Scripted(Vec<Reply>),
    /// Twilio accepts the call but posts no callbacks: the test plays Twilio.
    Manual,
    /// The create request is refused with this Twilio error.
    Rejected {
        code: u32,
        message: String,
        status: u16,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Speech(String),
    Digits(String),
    Silence,
    /// Hangs up instead of answering.
    HangUp,
}

impl Persona {
    /// The callee's answers, one per Gather, in order.
    fn replies(&self) -> Vec<Reply> {
        let speech = |s: &[&str]| s.iter().map(|t| Reply::Speech(t.to_string())).collect();
        match self {
            Persona::Interested => speech(&["yes", "yes", "yes please"]),
            Persona::RefusesRecording => speech(&["yes", "no", "yes"]),
            Persona::OptsOutMidPitch => speech(&["yes", "yes", "please remove me from your list"]),
            Persona::WrongPerson => speech(&["no, wrong number"]),
            Persona::Declines => speech(&["yes", "yes", "no thanks, not interested"]),
            Persona::Scripted(replies) => replies.clone(),
            _ => Vec::new(),
        }
    }
}

/// A way the next create request for a number goes wrong (one-shot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateFailure {
    /// Twilio places the call, but its answer is lost: HTTP 500.
    PlacedButLost,
    /// Twilio answers 503 and places nothing.
    NotPlaced,
    /// 429 Too Many Requests; nothing placed.
    Throttled,
}

/// One line of what was said on a simulated call.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// Spoken by callflow.
    Said(String),
    /// Said or keyed by the callee; `<silence>` for nothing.
    Heard(String),
    /// `<Start><Recording>` seen.
    Recording,
    Hangup,
}

#[derive(Clone, Debug)]
pub struct CallbackLog {
    pub url: String,
    pub params: Vec<(String, String)>,
    pub http_status: u16,
    pub body: String,
}

#[derive(Clone, Debug)]
pub struct SimCall {
    pub sid: String,
    pub to: String,
    pub from: String,
    pub url: String,
    pub status_callback: Option<String>,
    pub status_callback_events: Vec<String>,
    pub machine_detection: Option<String>,
    pub persona: Persona,
    pub status: String,
    pub transcript: Vec<Line>,
    pub callbacks: Vec<CallbackLog>,
    pub finished: bool,
    pub recording_started: bool,
    /// When the create request arrived (for pacing measurements).
    pub created_at: Instant,
    pub date_created: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub form: Vec<(String, String)>,
    pub error: Option<String>,
}

#[derive(Clone, Debug)]
pub struct SimMessage {
    pub sid: String,
    pub to: String,
    pub from: String,
    pub body: String,
}

/// Shared state of the simulator.
pub(crate) struct State {
    pub config: SimConfig,
    pub personas: Mutex<HashMap<String, Persona>>,
    pub calls: Mutex<Vec<SimCall>>,
    /// CallSid -> position in `calls`.
    pub index: Mutex<HashMap<String, usize>>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub messages: Mutex<Vec<SimMessage>>,
    /// Calls ended by UpdateCall, for the callee to notice.
    pub ended: Mutex<Vec<String>>,
    /// Callback URLs under `.0` are delivered to one of `.1` (a load balancer).
    pub upstreams: Mutex<Option<(String, Vec<String>)>>,
    pub create_failures: Mutex<HashMap<String, CreateFailure>>,
    pub default_persona: Mutex<Persona>,
    pub finished: Notify,
    pub callbacks: CallbackClient,
}

impl State {
    pub fn with_call<R>(&self, sid: &str, f: impl FnOnce(&mut SimCall) -> R) -> Option<R> {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let at = *self
            .index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sid)?;
        calls.get_mut(at).map(f)
    }

    pub fn add_call(&self, call: SimCall) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        self.index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(call.sid.clone(), calls.len());
        calls.push(call);
    }
}

pub struct Simulator {
    state: Arc<State>,
    base_url: String,
    handle: actix_web::dev::ServerHandle,
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port and serves the REST API in the background.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        crate::install_crypto();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(State {
            callbacks: CallbackClient::new(&config.auth_token),
            config,
            personas: Mutex::default(),
            calls: Mutex::default(),
            index: Mutex::default(),
            requests: Mutex::default(),
            messages: Mutex::default(),
            ended: Mutex::default(),
            upstreams: Mutex::default(),
            create_failures: Mutex::default(),
            default_persona: Mutex::new(Persona::Interested),
            finished: Notify::new(),
        });
        let data = web::Data::from(state.clone());
        let server =
            HttpServer::new(move || App::new().app_data(data.clone()).configure(rest::routes))
                .workers(2)
                .listen(listener)?
                .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Simulator {
            state,
            base_url: format!("http://127.0.0.1:{port}"),
            handle,
        })
    }

    /// What callflow uses as `TWILIO_API_BASE_URL`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The persona for calls to `to` (default: interested).
    pub fn set_persona(&self, to: &str, persona: Persona) {
        self.state
            .personas
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(to.to_string(), persona);
    }

    /// The persona for numbers given none (initially interested).
    pub fn set_default_persona(&self, persona: Persona) {
        *self
            .state
            .default_persona
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = persona;
    }

    /// Forgets the calls made so far (long benchmark runs).
    pub fn clear_calls(&self) {
        let mut calls = self.state.calls.lock().unwrap_or_else(|p| p.into_inner());
        calls.clear();
        self.state
            .index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.state
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Delivers callbacks for URLs under `public_base` to one of `upstreams`,
    /// moving on to the next when one refuses the connection: a load balancer.
    pub fn set_callback_upstreams(&self, public_base: &str, upstreams: Vec<String>) {
        *self
            .state
            .upstreams
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((public_base.to_string(), upstreams));
    }

    /// Makes the next create request for `to` fail as `failure` says.
    pub fn fail_next_create(&self, to: &str, failure: CreateFailure) {
        self.state
            .create_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(to.to_string(), failure);
    }

    pub fn calls(&self) -> Vec<SimCall> {
        self.state
            .calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn call(&self, sid: &str) -> Option<SimCall> {
        self.state.with_call(sid, |c| c.clone())
    }

    /// Waits until the callee's run is over and its final status was delivered.
    pub async fn wait_finished(&self, sid: &str, timeout: Duration) -> Option<SimCall> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.state.finished.notified();
            match self.call(sid) {
                Some(c) if c.finished => return Some(c),
                None => return None,
                _ => {}
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), notified).await;
        }
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn messages(&self) -> Vec<SimMessage> {
        self.state
            .messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn stop(&self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

/// Posts signed callbacks the way Twilio does. Public so tests can play Twilio by hand.
#[derive(Clone)]
pub struct CallbackClient {
    http: reqwest::Client,
    auth_token: String,
}

impl CallbackClient {
    pub fn new(auth_token: &str) -> Self {
        crate::install_crypto();
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("static client configuration is valid"),
            auth_token: auth_token.to_string(),
        }
    }

    /// POSTs `params` to `url` with a correct `X-Twilio-Signature`.
    pub async fn post(
        &self,
        url: &str,
        params: &[(String, String)],
    ) -> reqwest::Result<(u16, String)> {
        self.post_via(url, url, params, &uuid::Uuid::new_v4().simple().to_string())
            .await
    }

    /// Signs for `signed_url` but connects to `target_url` (behind a load balancer they differ).
    pub(crate) async fn post_via(
        &self,
        signed_url: &str,
        target_url: &str,
        params: &[(String, String)],
        idempotency_token: &str,
    ) -> reqwest::Result<(u16, String)> {
        let signature = crate::twilio::signature::sign(&self.auth_token, signed_url, params);
        let resp = self
            .http
            .post(target_url)
            .header("X-Twilio-Signature", signature)
            .header("I-Twilio-Idempotency-Token", idempotency_token)
            .form(params)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await?))
    }
}

/// A Twilio-style SID: prefix and 32 hex digits.
pub(crate) fn sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}
