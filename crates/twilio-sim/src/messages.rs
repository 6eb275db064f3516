//! Messages: `CreateMessage` (validated like every request), the status
//! callbacks of each text sent (`sent`, then `delivered`, or `undelivered` /
//! `failed` with an `ErrorCode` for numbers set so), optionally out of order,
//! and texts people send to the account's numbers (posted to the number's
//! `SmsUrl`, signed like Twilio, with `OptOutType` when asked).

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::rest::{checked_form, error};
use crate::{sid, CreateFailure, SimMessage, State};

/// What becomes of texts to one number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MessageOutcome {
    /// `sent`, then `delivered`.
    #[default]
    Delivered,
    /// `sent`, then `undelivered` with this error code (e.g. 30003: unreachable).
    Undelivered(u32),
    /// `failed` with this error code (e.g. 30008: unknown error).
    Failed(u32),
}

/// A text a person sends to one of the account's numbers.
#[derive(Clone, Debug, Default)]
pub struct InboundText {
    pub from: String,
    /// The account's number (its `SmsUrl` receives the text).
    pub to: String,
    pub body: String,
    /// `STOP`, `START` or `HELP`: Twilio's Advanced Opt-Out answered already.
    pub opt_out_type: Option<String>,
    /// The text's `MessageSid` (a new one when `None`); give one again to
    /// play Twilio retrying the webhook.
    pub message_sid: Option<String>,
}

/// Why a text could not be posted.
#[derive(Debug)]
pub enum TextError {
    NoSmsUrl(String),
    Http(reqwest::Error),
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextError::NoSmsUrl(n) => write!(f, "the account holds no number {n} with an SmsUrl"),
            TextError::Http(e) => write!(f, "the webhook could not be reached: {e}"),
        }
    }
}

impl std::error::Error for TextError {}

impl From<reqwest::Error> for TextError {
    fn from(e: reqwest::Error) -> Self {
        TextError::Http(e)
    }
}

/// A webhook's answer to a text: its status, body and `MessageSid`.
#[derive(Clone, Debug)]
pub struct TextReply {
    pub status: u16,
    pub body: String,
    pub message_sid: String,
}

/// Time between a text's status callbacks.
const STATUS_GAP: Duration = Duration::from_millis(30);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/Messages.json", web::post().to(create_message));
}

fn get<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn create_message(
    state: web::Data<State>,
    req: HttpRequest,
    account: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = match checked_form(&state, &req, &account, &body, "CreateMessage") {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let to = get(&form, "To").unwrap_or_default().to_string();
    let failure = state
        .message_failures
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&to);
    match failure {
        Some(CreateFailure::NotPlaced | CreateFailure::PlacedButLost) => {
            return error(503, 20500, "Service Unavailable")
        }
        Some(CreateFailure::Throttled) => return error(429, 20429, "Too Many Requests"),
        Some(CreateFailure::ThrottledFor(secs)) => {
            let mut resp = error(429, 20429, "Too Many Requests");
            resp.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(secs),
            );
            return resp;
        }
        Some(CreateFailure::GeoPermission) => {
            let message = format!("Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}");
            return error(400, 21408, &message);
        }
        Some(CreateFailure::PlacedButSlow(_)) | None => {}
    }
    let message = SimMessage {
        sid: sid("SM"),
        to,
        from: get(&form, "From").unwrap_or_default().into(),
        body: get(&form, "Body").unwrap_or_default().into(),
        status_callback: get(&form, "StatusCallback").map(str::to_string),
    };
    let json = json!({
        "sid": message.sid, "status": "queued", "to": message.to,
        "from": message.from, "body": message.body,
        "account_sid": state.config.account_sid,
    });
    if let Some(url) = message.status_callback.clone() {
        tokio::spawn(report_statuses(
            state.clone().into_inner(),
            url,
            message.clone(),
        ));
    }
    state
        .messages
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(message);
    if let Some(CreateFailure::PlacedButSlow(ms)) = failure {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    HttpResponse::Created().json(json)
}

/// Posts the text's statuses to its `StatusCallback`, as Twilio does.
async fn report_statuses(state: std::sync::Arc<State>, url: String, message: SimMessage) {
    let outcome = state
        .message_outcomes
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&message.to)
        .copied()
        .unwrap_or_default();
    let mut statuses: Vec<(&str, Option<u32>)> = match outcome {
        MessageOutcome::Delivered => vec![("sent", None), ("delivered", None)],
        MessageOutcome::Undelivered(code) => vec![("sent", None), ("undelivered", Some(code))],
        MessageOutcome::Failed(code) => vec![("failed", Some(code))],
    };
    if state
        .messages_reordered
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        statuses.reverse();
    }
    for (status, code) in statuses {
        tokio::time::sleep(STATUS_GAP).await;
        let mut params: Vec<(String, String)> = [
            ("AccountSid", state.config.account_sid.as_str()),
            ("ApiVersion", "2010-04-01"),
            ("MessageSid", message.sid.as_str()),
            ("SmsSid", message.sid.as_str()),
            ("From", message.from.as_str()),
            ("To", message.to.as_str()),
            ("MessageStatus", status),
            ("SmsStatus", status),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if let Some(code) = code {
            params.push(("ErrorCode".into(), code.to_string()));
        }
        let _ = state.callbacks.post(&url, &params).await;
    }
}

/// Posts `text` to its number's `SmsUrl`, signed as Twilio signs it.
pub async fn send_text(state: &State, text: &InboundText) -> Result<TextReply, TextError> {
    let url = state
        .numbers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|n| n.phone_number == text.to)
        .and_then(|n| n.sms_url.clone())
        .ok_or_else(|| TextError::NoSmsUrl(text.to.clone()))?;
    let message_sid = text.message_sid.clone().unwrap_or_else(|| sid("SM"));
    let mut params: Vec<(String, String)> = [
        ("AccountSid", state.config.account_sid.as_str()),
        ("ApiVersion", "2010-04-01"),
        ("MessageSid", message_sid.as_str()),
        ("SmsSid", message_sid.as_str()),
        ("SmsMessageSid", message_sid.as_str()),
        ("From", text.from.as_str()),
        ("To", text.to.as_str()),
        ("Body", text.body.as_str()),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(kind) = &text.opt_out_type {
        params.push(("OptOutType".into(), kind.clone()));
    }
    let (status, body) = state.callbacks.post(&url, &params).await?;
    Ok(TextReply {
        status,
        body,
        message_sid,
    })
}
