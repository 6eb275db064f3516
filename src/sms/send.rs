//! Sending a text without waiting for Twilio: the notification record and
//! an outbox item are written (after a do-not-call check: two Redis round
//! trips' wait), and the tenant's outbox task sends it (`outbox::sms`),
//! retrying on Twilio's 429.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::Serialize;

use crate::app::notifications::{self, NewText, NotificationType};
use crate::app::AppState;
use crate::messaging::templates::MAX_BODY_CHARS;
use crate::messaging::TemplateError;
use crate::outbox::{self, Job};
use crate::phone::E164;
use crate::store::{NotificationStatus, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// The recipient is on the tenant's do-not-call list.
    #[error("{} is on the do-not-call list", .0.masked())]
    DoNotCall(E164),
    /// `from` is not one of the tenant's numbers.
    #[error("{} is not one of this tenant's numbers", .0.masked())]
    NotOurNumber(E164),
    #[error("template: '{0}' does not exist")]
    UnknownTemplate(String),
    /// The body or a template variable (`field` names it).
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TemplateError> for SmsError {
    fn from(e: TemplateError) -> Self {
        SmsError::Invalid {
            field: e.field,
            reason: e.reason,
        }
    }
}

/// A text to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: E164,
    /// One of the tenant's numbers; else its first.
    pub from: Option<E164>,
    pub body: String,
    pub kind: NotificationType,
    /// The template the body was made from, if any.
    pub template: Option<String>,
}

/// A text accepted for sending.
#[derive(Debug, Clone, Serialize)]
pub struct Queued {
    pub notification_id: String,
    pub status: NotificationStatus,
}

/// Checks the body (not blank, at most Twilio's 1,600 characters).
pub fn check_body(body: &str) -> Result<(), SmsError> {
    let invalid = |reason: String| SmsError::Invalid {
        field: "body".into(),
        reason,
    };
    if body.trim().is_empty() {
        return Err(invalid("must not be empty".into()));
    }
    let chars = body.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(invalid(format!(
            "is {chars} characters; at most {MAX_BODY_CHARS}"
        )));
    }
    Ok(())
}

/// The body of template `id` for `to`: instants said in `zone`, else the
/// recipient's zone when the number tells one, else the tenant's.
pub fn render_template(
    app: &AppState,
    id: &str,
    variables: &BTreeMap<String, String>,
    to: &E164,
    zone: Option<Tz>,
) -> Result<String, SmsError> {
    let template = app
        .sms_templates
        .get(id)
        .ok_or_else(|| SmsError::UnknownTemplate(id.to_string()))?;
    let zone = zone.unwrap_or_else(|| recipient_zone(app, to));
    Ok(template.render(&app.settings.company_name, variables, zone)?)
}

/// The recipient's zone when the number names exactly one, else the tenant's.
fn recipient_zone(app: &AppState, to: &E164) -> Tz {
    match crate::compliance::prefix_zones(to.as_str()) {
        Some((_, [only])) => *only,
        _ => app.timezone,
    }
}

/// Queues a text: refused for a do-not-call number or a `from` that is not
/// the tenant's; else recorded (`queued`) with its outbox item.
pub async fn enqueue(app: &AppState, out: Outgoing) -> Result<Queued, SmsError> {
    check_body(&out.body)?;
    let from = match out.from {
        Some(from) if !app.numbers.own_numbers.contains(&from) => {
            return Err(SmsError::NotOurNumber(from))
        }
        Some(from) => from,
        None => app.settings.twilio.voice_number.clone(),
    };
    if app.store.dnc_get(out.to.as_str()).await?.is_some() {
        return Err(SmsError::DoNotCall(out.to));
    }
    let text = NewText {
        notification_id: outbox::new_id(),
        kind: out.kind,
        to: out.to,
        from,
        body: out.body,
        template: out.template,
        created_at: app.clock.now(),
    };
    let job = Job::Sms {
        notification_id: text.notification_id.clone(),
    };
    // Written together: an item claimed before its record is retried (see `outbox::sms`).
    tokio::try_join!(
        notifications::create(app, &text),
        outbox::push(app, &text.notification_id, job)
    )?;
    tracing::info!(
        notification = %text.notification_id,
        to = %text.to.masked(),
        kind = text.kind.as_str(),
        "text queued"
    );
    Ok(Queued {
        notification_id: text.notification_id,
        status: NotificationStatus::Queued,
    })
}

/// [`enqueue`] from the tenant's first number: what another part of callflow
/// (a missed call, a call's follow-up) uses to text someone.
pub async fn enqueue_sms(
    app: &AppState,
    to: &E164,
    body: &str,
    kind: NotificationType,
    template: Option<&str>,
) -> Result<Queued, SmsError> {
    let out = Outgoing {
        to: to.clone(),
        from: None,
        body: body.to_string(),
        kind,
        template: template.map(str::to_string),
    };
    enqueue(app, out).await
}
