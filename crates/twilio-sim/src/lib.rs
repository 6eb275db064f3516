//! A Twilio stand-in for tests: the Voice REST endpoints (Calls create, update,
//! fetch, list; Messages create, with status callbacks; AvailablePhoneNumbers Local list;
//! IncomingPhoneNumbers create, update, delete, list; the account itself)
//! served over real HTTP on a local port, every
//! request validated against Twilio's own OpenAPI description, and scripted
//! callees ([`Persona`]) that follow the TwiML your service returns and post
//! callbacks signed exactly as Twilio signs them (`X-Twilio-Signature`). Point
//! your Twilio client's API base URL at [`Simulator::base_url`] and your
//! service runs end to end without a Twilio account.
//!
//! # In a test
//!
//! ```no_run
//! use std::time::Duration;
//! use twilio_sim::{Line, Persona, SimConfig, Simulator};
//!
//! # async fn example() -> std::io::Result<()> {
//! let sim = Simulator::start(SimConfig::new("AC0123456789abcdef0123456789abcdef", "auth-token")).await?;
//! // Your service, configured with `sim.base_url()` as Twilio's API base URL,
//! // places a call to +15550100001; the callee answers "yes" to every question.
//! sim.set_persona("+15550100001", Persona::Interested);
//! // ... place the call through your service, read the CallSid it got back ...
//! # let call_sid = "CA00000000000000000000000000000000";
//! let call = sim.wait_finished(call_sid, Duration::from_secs(20)).await.expect("finished");
//! assert_eq!(call.status, "completed");
//! assert!(call.transcript.iter().any(|line| matches!(line, Line::Said(_))));
//! sim.stop();
//! # Ok(())
//! # }
//! ```
//!
//! The simulator needs a Tokio runtime (`#[tokio::test]`). Other things a test can do:
//! - [`Simulator::requests`]: every REST request seen, with why it was refused;
//! - [`Simulator::fail_next_create`]: lose, refuse, throttle or delay the next create;
//! - [`Simulator::set_callback_chaos`]: duplicate and reorder callbacks, as
//!   Twilio does, counted in [`Simulator::callback_stats`];
//! - [`Persona::Manual`] with [`CallbackClient`]: play Twilio's callbacks by hand;
//! - [`Simulator::set_callback_upstreams`]: spread callbacks over several
//!   instances of your service, as a load balancer would;
//! - [`Simulator::incoming_numbers`]: the numbers bought, with the webhook URLs
//!   set on each; [`Simulator::add_incoming_number`]: one bought elsewhere;
//! - [`Simulator::send_text`]: a person texts one of the account's numbers
//!   (optionally with `OptOutType`); [`Simulator::set_message_outcome`],
//!   [`Simulator::set_message_statuses_reordered`] and
//!   [`Simulator::fail_next_message`]: what becomes of texts sent;
//! - [`Simulator::place_inbound`]: a [`Caller`] dials one of the account's
//!   numbers (menu choices, forwarded phones that answer or not, a message
//!   left and its transcription later);
//! - [`sign`]: compute a signature to test your own verification.
//! - [`sign`]: compute a signature to test your own verification;
//! - fetch a recording's media at the `RecordingUrl` its callback gave
//!   (`.wav`, `.mp3` or none; basic auth required, as Twilio's
//!   "Enforce HTTP Auth on Media URLs" does).

mod account;
mod callback;
mod callee;
mod caller;
mod messages;
mod model;
mod numbers;
pub mod openapi;
mod recording;
mod rest;
mod twiml;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpServer};
use tokio::sync::Notify;

pub use callback::{sign, CallbackClient};
pub use caller::Caller;
pub use messages::{InboundText, MessageOutcome, TextError, TextReply};
pub use model::{
    CallbackChaos, CallbackLog, CallbackStats, CreateFailure, Line, Persona, RecordedRequest,
    Reply, SimCall, SimConfig, SimMessage, SimNumber,
};
pub use twiml::{parse_twiml, resolve_url, TwimlVerb};

/// Shared state of the simulator.
pub(crate) struct State {
    pub config: SimConfig,
    /// Where the simulator listens (`http://127.0.0.1:<port>`): its RecordingUrls point here.
    pub base_url: String,
    /// The RecordingSids of recordings made, whose media can be fetched.
    pub recordings: Mutex<std::collections::HashSet<String>>,
    pub personas: Mutex<HashMap<String, Persona>>,
    pub calls: Mutex<Vec<SimCall>>,
    /// CallSid -> position in `calls`.
    pub index: Mutex<HashMap<String, usize>>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub messages: Mutex<Vec<SimMessage>>,
    /// How the next create-message to a number fails, when a test asked.
    pub message_failures: Mutex<HashMap<String, CreateFailure>>,
    /// What becomes of texts to each number (default: delivered).
    pub message_outcomes: Mutex<HashMap<String, MessageOutcome>>,
    /// Whether each text's status callbacks go out last first.
    pub messages_reordered: std::sync::atomic::AtomicBool,
    /// Calls ended by UpdateCall, for the callee to notice.
    pub ended: Mutex<Vec<String>>,
    /// Callback URLs under `.0` are delivered to one of `.1` (a load balancer).
    pub upstreams: Mutex<Option<(String, Vec<String>)>>,
    /// Whether the balancer keeps each call on one upstream (by its `call_id`).
    pub affinity: std::sync::atomic::AtomicBool,
    pub create_failures: Mutex<HashMap<String, CreateFailure>>,
    /// The account's phone numbers.
    pub numbers: Mutex<Vec<SimNumber>>,
    /// How the next phone-number request fails, when a test asked.
    pub numbers_failure: Mutex<Option<CreateFailure>>,
    pub default_persona: Mutex<Persona>,
    pub finished: Notify,
    pub callbacks: CallbackClient,
    pub chaos: Mutex<CallbackChaos>,
    /// How long a callee takes to answer each question.
    pub think_time: Mutex<Duration>,
    pub stats: Mutex<CallbackStats>,
    /// Non-final status callbacks seen, for `reorder_every`.
    pub statuses_seen: std::sync::atomic::AtomicU64,
}

impl State {
    pub fn has_recording(&self, sid: &str) -> bool {
        self.recordings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(sid)
    }

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
            base_url: format!("http://127.0.0.1:{port}"),
            recordings: Mutex::default(),
            personas: Mutex::default(),
            calls: Mutex::default(),
            index: Mutex::default(),
            requests: Mutex::default(),
            messages: Mutex::default(),
            message_failures: Mutex::default(),
            message_outcomes: Mutex::default(),
            messages_reordered: Default::default(),
            ended: Mutex::default(),
            upstreams: Mutex::default(),
            affinity: Default::default(),
            create_failures: Mutex::default(),
            numbers: Mutex::default(),
            numbers_failure: Mutex::default(),
            default_persona: Mutex::new(Persona::Interested),
            finished: Notify::new(),
            chaos: Mutex::default(),
            think_time: Mutex::default(),
            stats: Mutex::default(),
            statuses_seen: Default::default(),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .configure(account::routes)
                .service(
                    web::scope("/2010-04-01/Accounts/{account}")
                        .configure(rest::routes)
                        .configure(messages::routes)
                        .configure(recording::routes)
                        .configure(numbers::routes),
                )
        })
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

    /// Makes the balancer of [`set_callback_upstreams`](Self::set_callback_upstreams)
    /// send every callback of one call (the `call_id` query parameter) to the
    /// same upstream while it takes connections, as a balancer with affinity does.
    pub fn set_callback_affinity(&self, on: bool) {
        self.state
            .affinity
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Makes the next create request for `to` fail as `failure` says.
    pub fn fail_next_create(&self, to: &str, failure: CreateFailure) {
        self.state
            .create_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(to.to_string(), failure);
    }

    /// Duplicates and reorders callbacks from now on, as `chaos` says.
    pub fn set_callback_chaos(&self, chaos: CallbackChaos) {
        *self.state.chaos.lock().unwrap_or_else(|p| p.into_inner()) = chaos;
    }

    /// Callees take this long to answer each question from now on (none by
    /// default), so conversations last as long as a test needs them to.
    pub fn set_think_time(&self, think: Duration) {
        *self
            .state
            .think_time
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = think;
    }

    /// What was delivered, duplicated and reordered so far.
    pub fn callback_stats(&self) -> CallbackStats {
        *self.state.stats.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Makes the next create-message to `to` fail as `failure` says
    /// (`Throttled`/`ThrottledFor`: 429; `NotPlaced`: 503; `GeoPermission`: 400).
    pub fn fail_next_message(&self, to: &str, failure: CreateFailure) {
        self.state
            .message_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(to.to_string(), failure);
    }

    /// What becomes of texts to `to` from now on.
    pub fn set_message_outcome(&self, to: &str, outcome: MessageOutcome) {
        self.state
            .message_outcomes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(to.to_string(), outcome);
    }

    /// Posts each text's status callbacks last first from now on (a final
    /// status before `sent`), as Twilio may.
    pub fn set_message_statuses_reordered(&self, on: bool) {
        self.state
            .messages_reordered
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// A person texts one of the account's numbers: posted to its `SmsUrl`,
    /// signed like Twilio. The webhook's answer comes back.
    pub async fn send_text(&self, text: &InboundText) -> Result<TextReply, TextError> {
        messages::send_text(&self.state, text).await
    }

    /// The phone numbers the account holds, with the webhook URLs set on each.
    pub fn incoming_numbers(&self) -> Vec<SimNumber> {
        self.state
            .numbers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The account's number `phone_number`, if it holds it.
    pub fn incoming_number(&self, phone_number: &str) -> Option<SimNumber> {
        self.incoming_numbers()
            .into_iter()
            .find(|n| n.phone_number == phone_number)
    }

    /// Puts `phone_number` in the account (bought outside your service, no
    /// webhooks set) and returns its `PN...` sid.
    pub fn add_incoming_number(&self, phone_number: &str) -> String {
        self.add_number(SimNumber::new(phone_number))
    }

    /// Puts `number` in the account as given (webhooks set or not) and
    /// returns its `PN...` sid. A number the account already holds is
    /// replaced: an account holds each phone number once.
    pub fn add_number(&self, number: SimNumber) -> String {
        let sid = number.sid.clone();
        let mut numbers = self.state.numbers.lock().unwrap_or_else(|p| p.into_inner());
        numbers.retain(|n| n.phone_number != number.phone_number);
        numbers.push(number);
        sid
    }

    /// The numbers area code `npa` offers (held ones included), in the order a
    /// search lists them.
    pub fn inventory(npa: u16) -> Vec<String> {
        numbers::inventory(npa)
    }

    /// Makes the next phone-number request (search, buy, update, release,
    /// list) fail as `failure` says.
    pub fn fail_next_numbers_request(&self, failure: CreateFailure) {
        *self
            .state
            .numbers_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(failure);
    }

    /// A caller dials the account's number `to` from `from` and does as
    /// `caller` says: the number's Voice URL is posted and its TwiML followed,
    /// the phones a `<Dial>` rings answer or not as their personas say (see
    /// [`set_persona`](Self::set_persona)). The CallSid, or `None` when the
    /// account holds no such number. [`wait_finished`](Self::wait_finished)
    /// waits for the end (every callback delivered).
    pub fn place_inbound(&self, from: &str, to: &str, caller: Caller) -> Option<String> {
        caller::place(&self.state, from, to, caller)
    }

    pub fn stop(&self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

/// A Twilio-style SID: prefix and 32 hex digits.
pub(crate) fn sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// Installs rustls' ring provider as the process default, once: reqwest is
/// built without one. Harmless when the process has already installed one.
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Whether `number` is E.164 as Twilio accepts it: `+`, a country code not
/// starting with 0, 8 to 15 digits in all.
pub(crate) fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn e164_needs_plus_digits_and_no_leading_zero() {
        assert!(super::is_e164("+15551234567"));
        for bad in [
            "15551234567",
            "+1555",
            "+0555123456",
            "+1555abc4567",
            "+1234567890123456",
        ] {
            assert!(!super::is_e164(bad), "{bad}");
        }
    }
}
