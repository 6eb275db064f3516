//! The call log: one sorted-set entry per call of a tenant, all scored 0 so
//! Redis orders them by name, and each name starts with the call's creation
//! time (13-digit epoch ms, service clock): name order is time order, a page
//! boundary is a name, and a call added while someone pages sorts above every
//! boundary already handed out (no item skipped or repeated). Also the expiry
//! of call records (retention).

use std::sync::LazyLock;
use std::time::Duration;

use futures_util::future::try_join_all;
use redis::{AsyncCommands, Script};

use super::{RecordKeys, Store, StoreError};

static CALL_LOG: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/call_log.lua")));

/// Old entries each new call drops with it: more than one, so the log catches
/// up after a quiet spell.
const TRIM_ON_ADD: usize = 4;

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLogEntry {
    /// When the call was created (epoch ms, service clock).
    pub at_ms: i64,
    /// `outbound` or `inbound` (stored as written; the store knows no directions).
    pub direction: String,
    pub call_id: String,
}

impl CallLogEntry {
    /// The sorted-set member: `<13-digit ms>:<direction>:<call id>`.
    pub fn member(&self) -> String {
        format!(
            "{}:{}:{}",
            time_prefix(self.at_ms),
            self.direction,
            self.call_id
        )
    }

    /// An entry from its member; `None` if it is not one.
    pub fn parse(member: &str) -> Option<Self> {
        let mut parts = member.splitn(3, ':');
        let (at, direction, call_id) = (parts.next()?, parts.next()?, parts.next()?);
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if at.len() != 13 || !at.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !plain(direction) || !plain(call_id) {
            return None;
        }
        Some(Self {
            at_ms: at.parse().ok()?,
            direction: direction.to_string(),
            call_id: call_id.to_string(),
        })
    }
}

/// The 13-digit time every member starts with (until the year 2286).
fn time_prefix(ms: i64) -> String {
    format!("{:013}", ms.max(0))
}

/// Where a newest-first page starts.
#[derive(Debug, Clone)]
pub enum LogStart {
    /// From the newest entry.
    Newest,
    /// Entries created at or before this instant (ms).
    AtOrBefore(i64),
    /// Entries strictly after this one in newest-first order (a cursor).
    After(String),
}

impl LogStart {
    fn bound(&self) -> String {
        match self {
            LogStart::Newest => "+".to_string(),
            // Every member at `ms` is longer than the bare prefix of `ms + 1`.
            LogStart::AtOrBefore(ms) => format!("({}", time_prefix(ms.saturating_add(1))),
            LogStart::After(member) => format!("({member}"),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Store {
    /// A new call's bookkeeping, on the placement path (never a callback's):
    /// its record and timeline expire after `ttl` (real time; later writes
    /// keep the expiry), its log entry is added, and up to a few entries older
    /// than `cutoff_ms` are dropped. The two slots are written concurrently:
    /// one round trip's wait.
    pub async fn log_new_call(
        &self,
        entry: &CallLogEntry,
        record: &RecordKeys,
        ttl: Duration,
        cutoff_ms: i64,
    ) -> Result<(), StoreError> {
        let expire = self.keep_record(record, ttl);
        let member = entry.member();
        let log = self.run_log(self.keys.call_log(), &member, cutoff_ms, TRIM_ON_ADD);
        tokio::try_join!(expire, log)?;
        Ok(())
    }

    /// Sets a record's and its timeline's expiry to `ttl` from now.
    pub async fn keep_record(&self, record: &RecordKeys, ttl: Duration) -> Result<(), StoreError> {
        let ms = millis(ttl);
        let mut c = self.worker_conn().await;
        let _: (bool, bool) = redis::pipe()
            .pexpire(&record.record, ms as i64)
            .pexpire(&record.timeline, ms as i64)
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    /// Drops up to `max` log entries created before `cutoff_ms`; how many went.
    pub async fn trim_call_log(&self, cutoff_ms: i64, max: usize) -> Result<usize, StoreError> {
        self.run_log(self.keys.call_log(), "", cutoff_ms, max).await
    }

    /// Adds `member` (when not empty) to the time-ordered log at `key` (the
    /// call log or the notification log) and drops up to `max` entries older
    /// than `cutoff_ms`.
    pub(super) async fn run_log(
        &self,
        key: String,
        member: &str,
        cutoff_ms: i64,
        max: usize,
    ) -> Result<usize, StoreError> {
        let mut inv = CALL_LOG.prepare_invoke();
        inv.key(key)
            .arg(member)
            .arg(format!("({}", time_prefix(cutoff_ms)))
            .arg(max);
        let mut c = self.worker_conn().await;
        Ok(inv.invoke_async(&mut c).await?)
    }

    /// Up to `count` members ([`CallLogEntry::parse`] reads them), newest
    /// first, from `start` down to `oldest_ms` (inclusive).
    pub async fn call_log_page(
        &self,
        start: &LogStart,
        oldest_ms: i64,
        count: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.log_page(self.keys.call_log(), start, oldest_ms, count)
            .await
    }

    /// A newest-first page of the time-ordered log at `key`.
    pub(super) async fn log_page(
        &self,
        key: String,
        start: &LogStart,
        oldest_ms: i64,
        count: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut c = self.worker_conn().await;
        Ok(c.zrevrangebylex_limit(
            key,
            start.bound(),
            format!("[{}", time_prefix(oldest_ms)),
            0,
            count as isize,
        )
        .await?)
    }

    /// The stored JSON of each record (`None`: gone, e.g. expired), fetched concurrently.
    pub async fn record_jsons(
        &self,
        keys: &[RecordKeys],
    ) -> Result<Vec<Option<String>>, StoreError> {
        let c = self.worker_conn().await;
        try_join_all(keys.iter().map(|k| {
            let mut c = c.clone();
            async move { c.hget::<_, _, Option<String>>(&k.record, "d").await }
        }))
        .await
        .map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_sort_by_time_and_parse_back() {
        let entry = |ms, id: &str| CallLogEntry {
            at_ms: ms,
            direction: "outbound".into(),
            call_id: id.into(),
        };
        let a = entry(999, "b");
        let b = entry(1_000, "a");
        assert!(a.member() < b.member());
        assert_eq!(b.member(), "0000000001000:outbound:a");
        assert_eq!(CallLogEntry::parse(&b.member()), Some(b));
        assert_eq!(CallLogEntry::parse("12:outbound:a"), None);
        assert_eq!(CallLogEntry::parse("0000000001000:out bound:a"), None);
        assert_eq!(CallLogEntry::parse("0000000001000:outbound"), None);
        assert_eq!(CallLogEntry::parse("0000000001000:outbound:{x}"), None);
    }

    #[test]
    fn a_time_start_takes_every_entry_of_that_millisecond() {
        let bound = LogStart::AtOrBefore(1_000).bound();
        assert_eq!(bound, "(0000000001001");
        assert!("0000000001000:inbound:zzzz" < &bound[1..]);
        assert!("0000000001001:inbound:a" > &bound[1..]);
    }
}
