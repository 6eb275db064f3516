//! Notifications (texts callflow sends): one hash each, their time-ordered
//! log (the call log's shape, see `call_log.rs`), and the small markers of
//! incoming texts (a `MessageSid` handled, a sender auto-replied to).

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use futures_util::future::try_join_all;
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};

use super::{CallLogEntry, LogStart, Store, StoreError};

static STATUS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/notification_status.lua")));

/// Old log entries each new notification drops with it.
const TRIM_ON_ADD: usize = 4;

/// A notification's status as stored: ours (`queued` until Twilio reports)
/// and Twilio's message statuses from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    Queued,
    Sent,
    Delivered,
    Undelivered,
    Failed,
}

impl NotificationStatus {
    pub const ALL: [NotificationStatus; 5] = [
        Self::Queued,
        Self::Sent,
        Self::Delivered,
        Self::Undelivered,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
        }
    }

    /// How far a text has come; a status never moves to a lower rank.
    pub fn rank(self) -> u8 {
        match self {
            Self::Queued => 0,
            Self::Sent => 1,
            Self::Delivered | Self::Undelivered | Self::Failed => 2,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Twilio's `MessageStatus`: its waiting states (`accepted`, `queued`,
    /// `sending`, `scheduled`) are still `queued` here.
    pub fn from_twilio(s: &str) -> Option<Self> {
        match s {
            "accepted" | "queued" | "sending" | "scheduled" => Some(Self::Queued),
            other => Self::parse(other),
        }
    }
}

/// What a status update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// No such notification (expired, or another tenant's).
    Missing,
    /// Not past the stored status: nothing moved.
    Unchanged,
    Moved,
}

/// A status update: the status, when (RFC 3339), Twilio's error and sid.
#[derive(Debug, Clone, Default)]
pub struct StatusUpdate<'a> {
    pub at: &'a str,
    pub error_code: Option<&'a str>,
    pub error_message: Option<&'a str>,
    pub message_sid: Option<&'a str>,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

impl Store {
    /// Writes a new notification (`json`, status `queued`) expiring after
    /// `ttl`, and its log entry (dropping a few past `cutoff_ms`): the two
    /// slots concurrently, one round trip's wait.
    pub async fn notification_create(
        &self,
        entry: &CallLogEntry,
        json: &str,
        created_at: &str,
        ttl: Duration,
        cutoff_ms: i64,
    ) -> Result<(), StoreError> {
        let key = self.keys.notification(&entry.call_id);
        let mut c = self.conn();
        let record = async move {
            let _: () = redis::pipe()
                .atomic()
                .hset_multiple(
                    &key,
                    &[
                        ("d", json),
                        ("status", NotificationStatus::Queued.as_str()),
                        ("rank", "0"),
                        ("updated_at", created_at),
                        ("queued_at", created_at),
                    ],
                )
                .ignore()
                .pexpire(&key, millis(ttl))
                .ignore()
                .query_async(&mut c)
                .await?;
            Ok::<(), StoreError>(())
        };
        let member = entry.member();
        let log = self.run_log(self.keys.notifications(), &member, cutoff_ms, TRIM_ON_ADD);
        tokio::try_join!(record, log)?;
        Ok(())
    }

    /// A notification's hash (`None`: no such notification).
    pub async fn notification_load(
        &self,
        id: &str,
    ) -> Result<Option<HashMap<String, String>>, StoreError> {
        let mut c = self.worker_conn().await;
        let fields: HashMap<String, String> = c.hgetall(self.keys.notification(id)).await?;
        Ok((!fields.is_empty()).then_some(fields))
    }

    /// The hashes of `ids`, fetched concurrently.
    pub async fn notifications_load(
        &self,
        ids: &[&str],
    ) -> Result<Vec<Option<HashMap<String, String>>>, StoreError> {
        try_join_all(ids.iter().map(|id| self.notification_load(id))).await
    }

    /// Moves a notification's status forward (never back), in one script.
    pub async fn notification_status(
        &self,
        id: &str,
        status: NotificationStatus,
        update: &StatusUpdate<'_>,
    ) -> Result<StatusChange, StoreError> {
        let mut c = self.worker_conn().await;
        let moved: i64 = STATUS
            .key(self.keys.notification(id))
            .arg(status.as_str())
            .arg(status.rank())
            .arg(update.at)
            .arg(update.error_code.unwrap_or(""))
            .arg(update.error_message.unwrap_or(""))
            .arg(update.message_sid.unwrap_or(""))
            .invoke_async(&mut c)
            .await?;
        Ok(match moved {
            -1 => StatusChange::Missing,
            0 => StatusChange::Unchanged,
            _ => StatusChange::Moved,
        })
    }

    /// A newest-first page of the notification log (see `call_log_page`).
    pub async fn notification_log_page(
        &self,
        start: &LogStart,
        oldest_ms: i64,
        count: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.log_page(self.keys.notifications(), start, oldest_ms, count)
            .await
    }

    /// Drops up to `max` notification log entries created before `cutoff_ms`.
    pub async fn trim_notification_log(
        &self,
        cutoff_ms: i64,
        max: usize,
    ) -> Result<usize, StoreError> {
        self.run_log(self.keys.notifications(), "", cutoff_ms, max)
            .await
    }

    /// Marks an incoming text handled; `false` if it was already (a retry).
    pub async fn sms_seen_claim(
        &self,
        message_sid: &str,
        keep: Duration,
    ) -> Result<bool, StoreError> {
        self.set_nx_px(self.keys.sms_seen(message_sid), keep).await
    }

    /// Takes the auto-reply slot of `number` for `cooldown`; `false` while
    /// an earlier one holds it.
    pub async fn sms_auto_reply_claim(
        &self,
        number: &str,
        cooldown: Duration,
    ) -> Result<bool, StoreError> {
        self.set_nx_px(self.keys.sms_auto_replied(number), cooldown)
            .await
    }

    async fn set_nx_px(&self, key: String, ttl: Duration) -> Result<bool, StoreError> {
        let mut c = self.worker_conn().await;
        let set: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut c)
            .await?;
        Ok(set.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::NotificationStatus as S;

    #[test]
    fn statuses_only_move_forward() {
        assert!(S::Queued.rank() < S::Sent.rank());
        assert!(S::Sent.rank() < S::Delivered.rank());
        assert_eq!(S::Delivered.rank(), S::Failed.rank());
        assert_eq!(S::from_twilio("sending"), Some(S::Queued));
        assert_eq!(S::from_twilio("undelivered"), Some(S::Undelivered));
        assert_eq!(S::from_twilio("read"), None);
    }
}
