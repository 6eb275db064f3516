//! A campaign's settings and its contacts, as stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::window::Window;
use crate::call::Disposition;

/// Dispositions that end a contact for good: never retried.
pub const FINAL_DISPOSITIONS: [Disposition; 4] = [
    Disposition::Interested,
    Disposition::Declined,
    Disposition::OptedOut,
    Disposition::WrongParty,
];

pub use crate::store::CampaignStatus;

/// How a contact's attempt ended: its call's disposition, or skipped undialed.
/// Serializes to the bare name (`"busy"`, `"do_not_call"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContactOutcome {
    Call(Disposition),
    Skipped(Skip),
}

/// Why a contact was settled without a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    DoNotCall,
}

impl ContactOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Call(d) => d.as_str(),
            Self::Skipped(Skip::DoNotCall) => "do_not_call",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Dispositions that earn another attempt.
    pub on: Vec<Disposition>,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait before attempt 2, 3, ...; the last value repeats.
    pub backoff_secs: Vec<u64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            on: Vec::new(),
            max_attempts: 1,
            backoff_secs: Vec::new(),
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt, if `disposition` after `attempts` tries earns one.
    pub fn next_wait_secs(&self, disposition: Disposition, attempts: u32) -> Option<u64> {
        if FINAL_DISPOSITIONS.contains(&disposition)
            || !self.on.contains(&disposition)
            || attempts >= self.max_attempts
        {
            return None;
        }
        let i = (attempts as usize).saturating_sub(1);
        Some(
            self.backoff_secs
                .get(i)
                .or(self.backoff_secs.last())
                .copied()
                .unwrap_or(60),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSpec {
    pub start: String,
    pub end: String,
    pub days: Option<Vec<String>>,
}

impl WindowSpec {
    pub fn window(&self) -> Window {
        // Validated when the campaign was created.
        Window::parse(&self.start, &self.end, self.days.as_deref())
            .unwrap_or_else(|_| Window::legal())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignConfig {
    pub campaign_id: String,
    pub flow_id: String,
    pub flow_version: String,
    pub window: Option<WindowSpec>,
    pub max_concurrent: u32,
    pub calls_per_second: f64,
    pub retry: RetryPolicy,
    #[serde(default)]
    pub webhook_url: Option<String>,
    pub total: u32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// How many shards its contacts are spread over (by index).
    #[serde(default = "one_shard")]
    pub shards: u32,
    /// The caller ID its dials use (one of the tenant's numbers); `None`: the
    /// tenant's first number at the time of each dial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

fn one_shard() -> u32 {
    1
}

impl CampaignConfig {
    pub fn window(&self) -> Window {
        self.window
            .as_ref()
            .map(WindowSpec::window)
            .unwrap_or_else(Window::legal)
    }

    /// Milliseconds between two dials of this campaign.
    /// Fractional: rounding 33.3 ms up to 34 would pace 30 calls/s at 29.4.
    pub fn interval_ms(&self) -> f64 {
        1000.0 / self.calls_per_second
    }
}

/// A contact as loaded. Static: what changes lives in [`ContactState`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Explicit IANA zone, if the contact came with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// The US state (two-letter code) the contact is known to be in, if given:
    /// it overrides the state of the number's area code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for its turn, its window or its retry time.
    #[default]
    Pending,
    /// Claimed by a dispatcher; a call record may exist, Twilio may not know yet.
    Dialing,
    /// Twilio accepted the call; it has not finished.
    InProgress,
    /// Done: a final disposition, retries exhausted, or skipped.
    Done,
    /// Never dialed (again) because its campaign was canceled.
    Canceled,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Dialing => "dialing",
            Phase::InProgress => "in_progress",
            Phase::Done => "done",
            Phase::Canceled => "canceled",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            Phase::Pending,
            Phase::Dialing,
            Phase::InProgress,
            Phase::Done,
            Phase::Canceled,
        ]
        .into_iter()
        .find(|p| p.as_str() == name)
    }
}

/// What changes about a contact. Absent in Redis means a fresh pending contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ContactState {
    #[serde(default)]
    pub phase: Phase,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<ContactOutcome>,
    /// Epoch ms of the next planned attempt, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<i64>,
    /// Why the dial gate last held the contact (until `next_at`); cleared on dialing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_reason: Option<WaitingReason>,
    /// The state whose rule held it, when `waiting_reason` is `state_rule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_state: Option<String>,
}

/// Why a pending contact is not being dialed yet, as the listing shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingReason {
    /// Federal hours or the campaign's window, in the callee's zone(s).
    OutsideWindow,
    /// Only the callee's state rule (hours, days, holidays).
    StateRule,
    /// The number had its allowed dials in the last 24 hours.
    FrequencyCap,
    /// Another call to the number (this campaign's, another's or a single
    /// call) is in progress.
    CallInProgress,
    /// Waiting out the backoff before a retry.
    RetryBackoff,
    /// The campaign is paused.
    Paused,
}

/// A contact's stored state; none stored yet is a fresh contact. Lenient, for
/// reading out: whatever decides to dial uses [`read_state`].
pub fn parse_state(json: Option<&str>) -> ContactState {
    read_state(json).unwrap_or_default()
}

/// A contact's stored state; none stored yet is a fresh contact. A state that
/// cannot be read is an error, never a fresh contact (that could redial it).
pub fn read_state(json: Option<&str>) -> Result<ContactState, serde_json::Error> {
    json.map_or(Ok(ContactState::default()), serde_json::from_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_outcomes_keep_their_stored_names() {
        for s in ["running", "paused", "canceled", "completed"] {
            let status = CampaignStatus::parse(s).unwrap();
            assert_eq!(serde_json::to_value(status).unwrap(), s);
        }
        for name in ["busy", "do_not_call", "opted_out"] {
            let outcome = ContactOutcome::parse(name).unwrap();
            assert_eq!(outcome.as_str(), name);
            assert_eq!(serde_json::to_value(outcome).unwrap(), name);
        }
        assert_eq!(ContactOutcome::parse("sleeping"), None);
    }

    #[test]
    fn an_unreadable_state_is_an_error_not_a_fresh_contact() {
        assert_eq!(read_state(None).unwrap(), ContactState::default());
        let dialing = r#"{"phase":"dialing","attempts":1,"call_id":"c1"}"#;
        assert_eq!(read_state(Some(dialing)).unwrap().phase, Phase::Dialing);
        assert!(read_state(Some("{not json")).is_err());
        assert!(read_state(Some(r#"{"phase":"lost"}"#)).is_err());
    }

    #[test]
    fn retry_policy_follows_dispositions_and_backoff() {
        let p = RetryPolicy {
            on: vec![Disposition::Busy, Disposition::NoAnswer],
            max_attempts: 3,
            backoff_secs: vec![30, 7200],
        };
        assert_eq!(p.next_wait_secs(Disposition::Busy, 1), Some(30));
        assert_eq!(p.next_wait_secs(Disposition::NoAnswer, 2), Some(7200));
        assert_eq!(p.next_wait_secs(Disposition::NoAnswer, 3), None);
        assert_eq!(p.next_wait_secs(Disposition::Voicemail, 1), None);
        let all = RetryPolicy {
            on: vec![Disposition::Interested, Disposition::Busy],
            max_attempts: 5,
            backoff_secs: vec![10],
        };
        assert_eq!(
            all.next_wait_secs(Disposition::Interested, 1),
            None,
            "final is never retried"
        );
        assert_eq!(
            all.next_wait_secs(Disposition::Busy, 4),
            Some(10),
            "the last backoff repeats"
        );
    }
}
