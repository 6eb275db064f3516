//! The tenant's call log across directions: newest first, filtered, in pages
//! whose cursor stays right while calls are added (see `store::call_log`).
//! A page looks at a bounded number of log entries: when filters match few
//! calls, it may come back short (even empty) with a cursor to go on from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AppState, ServiceError};
use crate::call::Direction;
use crate::phone::E164;
use crate::store::{CallLogEntry, LogStart, Store};

/// Log entries one page looks at, at most.
pub const MAX_SCANNED: usize = 1_000;
/// Entries read from the log at once.
const BATCH: usize = 100;
/// Entries past retention dropped by one listing, at most.
const TRIM_ON_LIST: usize = 1_000;

/// Dispositions a filter may name: the outbound machine's and the inbound
/// one's (issue 12 fixes those names; until inbound calls exist they match nothing).
pub const DISPOSITIONS: &[&str] = &[
    "interested",
    "declined",
    "no_response",
    "opted_out",
    "wrong_party",
    "voicemail",
    "busy",
    "no_answer",
    "failed",
    "canceled",
    "hung_up",
    "answered",
    "missed",
    "abandoned",
    "menu_info",
];

/// What to list. Times bound the calls' creation (inclusive).
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub direction: Option<Direction>,
    pub disposition: Option<String>,
    pub from: Option<E164>,
    pub to: Option<E164>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub campaign_id: Option<String>,
    pub limit: usize,
    /// The log entry the previous page stopped at (a decoded `next_cursor`).
    pub after: Option<CallLogEntry>,
}

/// One call as the log shows it: numbers masked, and in full for the tenant's own use.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedCall {
    pub call_id: String,
    pub call_sid: Option<String>,
    pub direction: Direction,
    pub from: String,
    pub to: String,
    pub from_number: String,
    pub to_number: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_s: Option<u32>,
    pub status: String,
    pub disposition: Option<String>,
    pub recording_url: Option<String>,
    pub campaign_id: Option<String>,
    /// Inbound calls: why the caller called (the menu option's tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Inbound calls: the voicemail's transcription, once it arrives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcription: Option<String>,
    /// Who answered: an inbound call's person who took it (their name, else
    /// their number masked); an outbound call's `AnsweredBy` (`human`, `machine_start`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<String>,
}

/// A page, and where the next one starts (`None`: nothing older is left).
#[derive(Debug)]
pub struct LogPage {
    pub calls: Vec<LoggedCall>,
    pub next: Option<CallLogEntry>,
}

/// The fields every call record shares, read leniently so any machine's record
/// (outbound today, inbound next) is listed the same way.
#[derive(Debug, Deserialize)]
struct Summary {
    call_id: String,
    #[serde(default)]
    direction: Direction,
    #[serde(default)]
    call_sid: Option<String>,
    from: E164,
    to: E164,
    created_at: DateTime<Utc>,
    #[serde(default)]
    ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    duration_secs: Option<u32>,
    status: String,
    #[serde(default)]
    disposition: Option<String>,
    #[serde(default)]
    recording_sid: Option<String>,
    #[serde(default)]
    recording_url: Option<String>,
    #[serde(default)]
    campaign: Option<CampaignRef>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    transcription: Option<String>,
    #[serde(default)]
    answered_by: Option<AnsweredBy>,
}

/// `answered_by` as either machine stores it: outbound, Twilio's word;
/// inbound, the person who took the call.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AnsweredBy {
    Word(String),
    Person {
        number: String,
        #[serde(default)]
        name: Option<String>,
    },
}

impl AnsweredBy {
    fn shown(self) -> String {
        match self {
            AnsweredBy::Word(word) => word,
            AnsweredBy::Person {
                name: Some(name), ..
            } => name,
            AnsweredBy::Person { number, .. } => crate::phone::mask(&number),
        }
    }
}

#[derive(Debug, Deserialize)]
struct CampaignRef {
    campaign_id: String,
}

impl LogQuery {
    fn admits(&self, s: &Summary) -> bool {
        self.disposition
            .as_ref()
            .is_none_or(|d| s.disposition.as_ref() == Some(d))
            && self.from.as_ref().is_none_or(|n| *n == s.from)
            && self.to.as_ref().is_none_or(|n| *n == s.to)
            && self
                .campaign_id
                .as_ref()
                .is_none_or(|c| s.campaign.as_ref().map(|l| &l.campaign_id) == Some(c))
    }

    /// Where the page starts: after the cursor, unless `until` is older.
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

/// One page of the call log of the tenant `store` acts for.
pub async fn list(app: &AppState, store: &Store, q: &LogQuery) -> Result<LogPage, ServiceError> {
    let limit = q.limit.max(1);
    let cutoff = app.call_log_cutoff_ms();
    store.trim_call_log(cutoff, TRIM_ON_LIST).await?;
    let oldest = q.since.map_or(cutoff, |s| s.timestamp_millis().max(cutoff));
    let mut start = q.start();
    let of_direction = |e: &CallLogEntry| q.direction.is_none_or(|d| d.as_str() == e.direction);
    let mut calls = Vec::new();
    let mut scanned = 0;
    while scanned < MAX_SCANNED {
        let want = (limit - calls.len())
            .clamp(10, BATCH)
            .min(MAX_SCANNED - scanned);
        let members = store.call_log_page(&start, oldest, want).await?;
        let entries: Vec<Option<CallLogEntry>> =
            members.iter().map(|m| CallLogEntry::parse(m)).collect();
        let wanted: Vec<&CallLogEntry> = entries
            .iter()
            .flatten()
            .filter(|e| of_direction(e))
            .collect();
        let keys: Vec<_> = wanted
            .iter()
            .map(|e| store.keys().call_record(&e.call_id))
            .collect();
        let jsons = store.record_jsons(&keys).await?;
        let mut found = wanted.iter().zip(jsons);
        for (member, entry) in members.iter().zip(&entries) {
            scanned += 1;
            start = LogStart::After(member.clone());
            let Some(entry) = entry else { continue };
            if !of_direction(entry) {
                continue;
            }
            let json = found.next().and_then(|(_, json)| json);
            // Gone (past retention) or unreadable: not listed.
            let Some(summary) = json.and_then(|j| serde_json::from_str::<Summary>(&j).ok()) else {
                continue;
            };
            if q.admits(&summary) {
                calls.push(logged(app, summary));
                if calls.len() == limit {
                    return Ok(LogPage {
                        calls,
                        next: Some(entry.clone()),
                    });
                }
            }
        }
        if members.len() < want {
            return Ok(LogPage { calls, next: None });
        }
    }
    // Looked at as many entries as a page may: go on from the last one.
    let next = match start {
        LogStart::After(member) => CallLogEntry::parse(&member),
        _ => None,
    };
    Ok(LogPage { calls, next })
}

fn logged(app: &AppState, s: Summary) -> LoggedCall {
    let twilio = &app.settings.twilio;
    let recording_url = s.recording_url.or_else(|| {
        s.recording_sid.map(|sid| {
            format!(
                "{}/2010-04-01/Accounts/{}/Recordings/{sid}",
                twilio.api_base_url, twilio.account_sid
            )
        })
    });
    LoggedCall {
        call_id: s.call_id,
        call_sid: s.call_sid,
        direction: s.direction,
        from: s.from.masked(),
        to: s.to.masked(),
        from_number: s.from.as_str().to_string(),
        to_number: s.to.as_str().to_string(),
        started_at: s.created_at,
        ended_at: s.ended_at,
        duration_s: s.duration_secs,
        status: s.status,
        disposition: s.disposition,
        recording_url,
        campaign_id: s.campaign.map(|c| c.campaign_id),
        reason: s.reason,
        transcription: s.transcription,
        answered_by: s.answered_by.map(AnsweredBy::shown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Disposition;

    #[test]
    fn every_outbound_disposition_may_be_filtered_on() {
        for name in &DISPOSITIONS[..11] {
            let parsed: Disposition = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(parsed.as_str(), *name);
        }
    }

    #[test]
    fn every_inbound_disposition_may_be_filtered_on() {
        for d in crate::inbound::InboundDisposition::ALL {
            assert!(DISPOSITIONS.contains(&d.as_str()), "{}", d.as_str());
        }
    }

    #[test]
    fn a_cursor_newer_than_until_starts_at_until() {
        let after = CallLogEntry {
            at_ms: 5_000,
            direction: "outbound".into(),
            call_id: "a".into(),
        };
        let until = DateTime::from_timestamp_millis(4_000);
        let q = LogQuery {
            after: Some(after.clone()),
            until,
            ..Default::default()
        };
        assert!(matches!(q.start(), LogStart::AtOrBefore(4_000)));
        let q = LogQuery {
            after: Some(after.clone()),
            until: DateTime::from_timestamp_millis(6_000),
            ..Default::default()
        };
        assert!(matches!(q.start(), LogStart::After(m) if m == after.member()));
    }
}
