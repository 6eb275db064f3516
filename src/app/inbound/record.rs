//! An inbound call as stored: the fields every call record shares (so the
//! call log lists it beside outbound calls) and what the inbound machine keeps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::call::Direction;
use crate::inbound::{CallReason, InboundDisposition, InboundState, Ringee, Route};
use crate::phone::E164;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundRecord {
    pub call_id: String,
    pub direction: Direction,
    pub tenant: String,
    pub call_sid: String,
    /// The caller.
    pub from: E164,
    /// The tenant's number that was called.
    pub to: E164,
    pub flow_id: String,
    pub flow_version: String,
    /// Decided when the call arrived (business hours, the tenant's settings).
    pub route: Route,
    /// Who each forward leg rings, decided when the call arrived.
    pub legs: Vec<Vec<Ringee>>,
    pub state: InboundState,
    /// Twilio's call status, never moved backwards by a late callback.
    pub status: CallProgress,
    pub disposition: Option<InboundDisposition>,
    /// Why the caller called (the menu option's tag).
    pub reason: Option<CallReason>,
    /// How many menu `<Gather>`s were issued; names the current one.
    pub turn: u32,
    /// The person who took the call.
    pub answered_by: Option<Ringee>,
    pub recording_sid: Option<String>,
    pub recording_url: Option<String>,
    pub recording_secs: Option<u32>,
    pub transcription: Option<String>,
    pub duration_secs: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// Twilio's status of the caller's call, in the order it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallProgress {
    Ringing,
    InProgress,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl CallProgress {
    /// Twilio's `CallStatus` (`queued` and `initiated` count as ringing).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" | "initiated" | "ringing" => Self::Ringing,
            "in-progress" => Self::InProgress,
            "completed" => Self::Completed,
            "busy" => Self::Busy,
            "no-answer" => Self::NoAnswer,
            "failed" => Self::Failed,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        self >= Self::Completed
    }
}

impl InboundRecord {
    /// Over for good: the machine has ended and Twilio reported a final status.
    pub fn is_finished(&self) -> bool {
        self.state.disposition().is_some() && self.status.is_terminal()
    }
}
