//! Notifications: the texts callflow sends for a tenant, each a record with
//! its status (`queued` until Twilio reports, then `sent`, `delivered`,
//! `undelivered` or `failed`, never moving back) and Twilio's error, in a log
//! read newest first with a cursor that stays right while texts are added
//! (the call log's shape, see `app::call_log`), kept as long as calls
//! (`CALL_LOG_RETENTION_DAYS`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AppState, ServiceError};
use crate::phone::E164;
use crate::store::{CallLogEntry, LogStart, NotificationStatus, StoreError};

/// Log entries one page looks at, at most.
const MAX_SCANNED: usize = 1_000;
/// Entries read from the log at once.
const BATCH: usize = 100;
/// Entries past retention dropped by one listing, at most.
const TRIM_ON_LIST: usize = 1_000;

/// Why a text was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationType {
    /// `POST /api/sms`.
    Api,
    /// A missed inbound call's text to the caller.
    MissedCall,
    /// An outbound call's follow-up (its flow's template).
    FollowUp,
    /// A text an inbound caller chose in the menu (e.g. a booking link).
    MenuText,
}

impl NotificationType {
    pub const ALL: [NotificationType; 4] =
        [Self::Api, Self::MissedCall, Self::FollowUp, Self::MenuText];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::MissedCall => "missed_call",
            Self::FollowUp => "follow_up",
            Self::MenuText => "menu_text",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A text as created (stored as the record's `d`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewText {
    pub notification_id: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub to: E164,
    pub from: E164,
    pub body: String,
    pub template: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A notification with its status, as the API shows it: `to` masked, and
/// in full (`to_number`) for the tenant's own use.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub notification_id: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub to: String,
    pub to_number: String,
    pub from: String,
    pub body: String,
    pub template: Option<String>,
    pub status: NotificationStatus,
    pub message_sid: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// From the stored hash; `None` if it cannot be read.
    pub fn from_fields(fields: &HashMap<String, String>) -> Option<(NewText, Notification)> {
        let text: NewText = serde_json::from_str(fields.get("d")?).ok()?;
        let at = |name: &str| {
            fields
                .get(name)
                .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let given = |name: &str| fields.get(name).filter(|v| !v.is_empty()).cloned();
        let status = fields
            .get("status")
            .and_then(|s| NotificationStatus::parse(s))?;
        let view = Notification {
            notification_id: text.notification_id.clone(),
            kind: text.kind,
            to: text.to.masked(),
            to_number: text.to.as_str().to_string(),
            from: text.from.masked(),
            body: text.body.clone(),
            template: text.template.clone(),
            status,
            message_sid: given("message_sid"),
            error_code: given("error_code"),
            error_message: given("error_message"),
            created_at: text.created_at,
            updated_at: at("updated_at"),
            sent_at: at("sent_at"),
            delivered_at: at("delivered_at"),
            failed_at: at("failed_at").or_else(|| at("undelivered_at")),
        };
        Some((text, view))
    }
}

/// Records a new text (`queued`) and its log entry; the outbox item that
/// sends it is the caller's (see `sms::send`).
pub async fn create(app: &AppState, text: &NewText) -> Result<(), StoreError> {
    let entry = CallLogEntry {
        at_ms: text.created_at.timestamp_millis(),
        direction: text.kind.as_str().to_string(),
        call_id: text.notification_id.clone(),
    };
    let json = serde_json::to_string(text).expect("texts serialize");
    app.store
        .notification_create(
            &entry,
            &json,
            &text.created_at.to_rfc3339(),
            app.record_ttl(),
            app.call_log_cutoff_ms(),
        )
        .await
}

/// One notification of the tenant.
pub async fn get(app: &AppState, id: &str) -> Result<Notification, ServiceError> {
    if !plain_id(id) {
        return Err(ServiceError::NotFound);
    }
    let fields = app
        .store
        .notification_load(id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Notification::from_fields(&fields)
        .map(|(_, view)| view)
        .ok_or_else(|| StoreError::Corrupt(format!("notification {id} unreadable")).into())
}

fn plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// What to list. Times bound the texts' creation (inclusive).
#[derive(Debug, Clone, Default)]
pub struct NotificationQuery {
    pub status: Option<NotificationStatus>,
    pub kind: Option<NotificationType>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: usize,
    /// The log entry the previous page stopped at (a decoded cursor).
    pub after: Option<CallLogEntry>,
}

/// A page, and where the next one starts (`None`: nothing older is left).
#[derive(Debug)]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    pub next: Option<CallLogEntry>,
}

impl NotificationQuery {
    fn start(&self) -> LogStart {
        let until = self.until.map(|t| t.timestamp_millis());
        match (&self.after, until) {
            (Some(after), Some(until)) if after.at_ms > until => LogStart::AtOrBefore(until),
            (Some(after), _) => LogStart::After(after.member()),
            (None, Some(until)) => LogStart::AtOrBefore(until),
            (None, None) => LogStart::Newest,
        }
    }
}

/// One page of the tenant's notifications, newest first. A page looks at a
/// bounded number of log entries: with filters that match few texts it may
/// come back short (even empty) with a cursor to go on from.
pub async fn list(app: &AppState, q: &NotificationQuery) -> Result<NotificationPage, ServiceError> {
    let store = &app.store;
    let limit = q.limit.max(1);
    let cutoff = app.call_log_cutoff_ms();
    store.trim_notification_log(cutoff, TRIM_ON_LIST).await?;
    let oldest = q.since.map_or(cutoff, |s| s.timestamp_millis().max(cutoff));
    let mut start = q.start();
    let of_kind = |e: &CallLogEntry| q.kind.is_none_or(|k| k.as_str() == e.direction);
    let mut out = Vec::new();
    let mut scanned = 0;
    while scanned < MAX_SCANNED {
        let want = (limit - out.len())
            .clamp(10, BATCH)
            .min(MAX_SCANNED - scanned);
        let members = store.notification_log_page(&start, oldest, want).await?;
        let entries: Vec<Option<CallLogEntry>> =
            members.iter().map(|m| CallLogEntry::parse(m)).collect();
        let ids: Vec<&str> = entries
            .iter()
            .flatten()
            .filter(|e| of_kind(e))
            .map(|e| e.call_id.as_str())
            .collect();
        let mut found = store.notifications_load(&ids).await?.into_iter();
        for (member, entry) in members.iter().zip(&entries) {
            scanned += 1;
            start = LogStart::After(member.clone());
            let Some(entry) = entry else { continue };
            if !of_kind(entry) {
                continue;
            }
            // Gone (past retention) or unreadable: not listed.
            let Some((_, view)) = found
                .next()
                .flatten()
                .and_then(|f| Notification::from_fields(&f))
            else {
                continue;
            };
            if q.status.is_none_or(|s| s == view.status) {
                out.push(view);
                if out.len() == limit {
                    return Ok(NotificationPage {
                        notifications: out,
                        next: Some(entry.clone()),
                    });
                }
            }
        }
        if members.len() < want {
            return Ok(NotificationPage {
                notifications: out,
                next: None,
            });
        }
    }
    let next = match start {
        LogStart::After(member) => CallLogEntry::parse(&member),
        _ => None,
    };
    Ok(NotificationPage {
        notifications: out,
        next,
    })
}
