//! An incoming text to one of the tenant's numbers: an opt-out keyword puts
//! the sender on the tenant's do-not-call list (voice and texts alike), an
//! opt-in lifts only what a text opt-out added, HELP says who the tenant is
//! and how to opt out, and anything else is relayed to the tenant
//! (`sms.received`) and may get the tenant's auto-reply, at most once per
//! sender per `SMS_AUTO_REPLY_COOLDOWN`.
//!
//! Exactly one answer per text: Twilio retries a webhook with the same
//! `MessageSid`, and a retry changes nothing and answers nothing (the sid is
//! remembered a day). When the webhook carries `OptOutType`, Twilio's own
//! opt-out handling has answered the keyword already: callflow records the
//! opt-out or opt-in and stays silent (`messaging::Reply`).

use std::time::Duration;

use serde_json::json;

use crate::app::AppState;
use crate::messaging::{Keyword, Reply};
use crate::outbox::events::{emit_logged, EventType};
use crate::phone::E164;
use crate::store::{Lift, StoreError};

/// The `source` of do-not-call entries added by a text opt-out.
pub const SMS_SOURCE: &str = "sms";
/// How long a handled `MessageSid` is remembered (Twilio's retries come within minutes).
const SEEN_FOR: Duration = Duration::from_secs(24 * 3600);

/// A text as Twilio's webhook tells it (signature already checked).
#[derive(Debug, Clone)]
pub struct IncomingText {
    pub message_sid: String,
    pub from: E164,
    /// The tenant's number it was sent to.
    pub to: String,
    pub body: String,
    /// Present when Twilio's Advanced Opt-Out answered already.
    pub opt_out_type: Option<String>,
}

/// What callflow answers (as TwiML): a text back, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Text(String),
    Nothing,
}

/// Handles one incoming text for the tenant `app` acts for, whose
/// `sms_auto_reply` is `auto_reply`.
pub async fn handle(
    app: &AppState,
    text: &IncomingText,
    auto_reply: Option<&str>,
) -> Result<Answer, StoreError> {
    let keyword = Keyword::of_text(&text.body, text.opt_out_type.as_deref());
    crate::observe::sms_received(keyword_name(keyword));
    let from = text.from.masked();
    // The do-not-call write first (idempotent): a retry after a failure here
    // still makes it, and only then is the text marked handled.
    let lift = match keyword {
        Keyword::OptOut => {
            app.add_to_dnc(&text.from, SMS_SOURCE).await?;
            None
        }
        Keyword::OptIn => Some(app.store.dnc_lift(text.from.as_str(), SMS_SOURCE).await?),
        Keyword::Help | Keyword::Message => None,
    };
    if !app
        .store
        .sms_seen_claim(&text.message_sid, SEEN_FOR)
        .await?
    {
        tracing::info!(from = %from, "incoming text seen before (a retry); nothing more");
        return Ok(Answer::Nothing);
    }
    let company = &app.settings.company_name;
    let ours = Reply::for_keyword(text.opt_out_type.as_deref()) == Reply::Ours;
    let data = json!({
        "message_sid": text.message_sid,
        "from": text.from.as_str(),
        "to": text.to,
        "body": text.body,
    });
    let answer = match keyword {
        Keyword::OptOut => {
            tracing::info!(from = %from, twilio_answered = !ours, "opt-out by text");
            emit_logged(app, EventType::SmsOptOut, data).await;
            format!("{company}: you are unsubscribed and will not get more calls or texts from us. Reply START to resubscribe.")
        }
        Keyword::OptIn => {
            let lifted = lift == Some(Lift::Lifted);
            tracing::info!(from = %from, lifted, twilio_answered = !ours, "opt-in by text");
            let mut data = data;
            data["lifted"] = json!(lifted);
            emit_logged(app, EventType::SmsOptIn, data).await;
            if lift == Some(Lift::Kept) {
                format!("{company}: your number stays on our do-not-contact list as you asked us. Contact us to change this.")
            } else {
                format!("{company}: you are subscribed again. Reply HELP for help, STOP to unsubscribe.")
            }
        }
        Keyword::Help => {
            tracing::info!(from = %from, twilio_answered = !ours, "help asked by text");
            format!(
                "{company}: for help, call or text us at {}. Reply STOP to unsubscribe, START to resubscribe.",
                text.to
            )
        }
        Keyword::Message => {
            tracing::info!(from = %from, chars = text.body.chars().count(), "text received");
            emit_logged(app, EventType::SmsReceived, data).await;
            return auto_answer(app, &text.from, auto_reply).await;
        }
    };
    Ok(if ours {
        Answer::Text(answer)
    } else {
        Answer::Nothing
    })
}

/// The tenant's auto-reply, unless the sender opted out or got it within the cooldown.
async fn auto_answer(
    app: &AppState,
    from: &E164,
    auto_reply: Option<&str>,
) -> Result<Answer, StoreError> {
    let Some(reply) = auto_reply else {
        return Ok(Answer::Nothing);
    };
    if app.store.dnc_get(from.as_str()).await?.is_some() {
        return Ok(Answer::Nothing);
    }
    let cooldown_ms =
        i64::try_from(app.settings.sms_auto_reply_cooldown.as_millis()).unwrap_or(i64::MAX);
    let cooldown = app.clock.real_duration(cooldown_ms);
    if !app
        .store
        .sms_auto_reply_claim(from.as_str(), cooldown)
        .await?
    {
        tracing::info!(from = %from.masked(), "auto-reply sent within the cooldown; not again");
        return Ok(Answer::Nothing);
    }
    Ok(Answer::Text(reply.to_string()))
}

fn keyword_name(k: Keyword) -> &'static str {
    match k {
        Keyword::OptOut => "opt_out",
        Keyword::OptIn => "opt_in",
        Keyword::Help => "help",
        Keyword::Message => "message",
    }
}
