//! What the simulator is configured with and what it records: the account,
//! callee personas and their replies, and the calls, requests and messages seen.

use std::time::Instant;

/// The simulated account: what REST requests must authenticate with and what
/// callbacks are signed with.
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
    pub(crate) fn replies(&self) -> Vec<Reply> {
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
    /// 400, code 21215: the account may not call that country. Twilio's
    /// message quotes the full number, as the real one does.
    GeoPermission,
    /// 429 Too Many Requests with `Retry-After: <seconds>`; nothing placed.
    ThrottledFor(u64),
    /// Twilio places the call but answers only after this many ms: past the
    /// client's timeout, a dial whose outcome the client cannot know.
    PlacedButSlow(u64),
}

/// Callback faults Twilio is known for, injected into every simulated call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallbackChaos {
    /// Every n-th callback delivered is delivered once more right after (0:
    /// never), as Twilio does when it did not hear the first answer: the
    /// callee then follows the second answer.
    pub duplicate_every: u32,
    /// Every n-th non-final status callback is held back and delivered after
    /// the next status callback (0: never).
    pub reorder_every: u32,
}

/// What the simulator did to callbacks, for a test's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallbackStats {
    /// Callbacks delivered and answered (any status below 500), duplicates included.
    pub delivered: u64,
    /// Of those, deliveries that repeated the one before.
    pub duplicates: u64,
    /// Status callbacks delivered after a later one.
    pub reorderings: u64,
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
    /// When the call ended for Twilio (its final status was set).
    pub ended_at: Option<Instant>,
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
    /// When the request arrived (create requests: before the body is parsed),
    /// so a test can measure dial pacing where Twilio would.
    pub received_at: Instant,
}

#[derive(Clone, Debug)]
pub struct SimMessage {
    pub sid: String,
    pub to: String,
    pub from: String,
    pub body: String,
    /// Where its statuses are posted, when the create named a place.
    pub status_callback: Option<String>,
}

/// A phone number the simulated account holds (`IncomingPhoneNumbers`), with
/// the webhook URLs set on it.
#[derive(Clone, Debug)]
pub struct SimNumber {
    pub sid: String,
    pub phone_number: String,
    pub friendly_name: String,
    pub voice_url: Option<String>,
    pub voice_method: Option<String>,
    pub sms_url: Option<String>,
    pub sms_method: Option<String>,
    pub status_callback: Option<String>,
    pub status_callback_method: Option<String>,
    pub date_created: chrono::DateTime<chrono::Utc>,
}

impl SimNumber {
    /// A number with no webhooks set yet.
    pub fn new(phone_number: &str) -> Self {
        Self {
            sid: crate::sid("PN"),
            phone_number: phone_number.to_string(),
            friendly_name: phone_number.to_string(),
            voice_url: None,
            voice_method: None,
            sms_url: None,
            sms_method: None,
            status_callback: None,
            status_callback_method: None,
            date_created: chrono::Utc::now(),
        }
    }
}
