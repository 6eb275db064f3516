//! The persisted call: machine state plus what we know about the call.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CallState, CallStatus, Disposition};
use crate::phone::E164;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFailure {
    pub code: Option<u64>,
    pub message: String,
}

/// The campaign contact a call was placed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignLink {
    pub campaign_id: String,
    pub contact: u32,
}

/// Which way a call went. Names are part of the API (`GET /api/calls?direction=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Placed by callflow. Records stored before calls had a direction are outbound.
    #[default]
    Outbound,
    /// A caller dialed one of the tenant's numbers.
    Inbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outbound => "outbound",
            Self::Inbound => "inbound",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "outbound" => Some(Self::Outbound),
            "inbound" => Some(Self::Inbound),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    pub call_id: String,
    #[serde(default)]
    pub direction: Direction,
    pub tenant: String,
    pub flow_id: String,
    pub flow_version: String,
    pub to: E164,
    pub from: E164,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub call_sid: Option<String>,
    /// Twilio's call status, never moved backwards by a late callback.
    pub status: CallStatus,
    pub state: CallState,
    #[serde(default)]
    pub consent: Option<bool>,
    #[serde(default)]
    pub recording_sid: Option<String>,
    #[serde(default)]
    pub recording_status: Option<String>,
    #[serde(default)]
    pub disposition: Option<Disposition>,
    #[serde(default)]
    pub answered_by: Option<String>,
    /// How many `<Gather>` documents we have issued; names the current one.
    #[serde(default)]
    pub turn: u32,
    #[serde(default)]
    pub last_sequence: Option<u32>,
    #[serde(default)]
    pub duration_secs: Option<u32>,
    #[serde(default)]
    pub error: Option<ApiFailure>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignLink>,
    /// The callee's zone and state as the request gave them (else told from
    /// the number), for the rules of a dial that happens later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee_state: Option<String>,
    /// When a scheduled call is due (its callee's calling window opens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
}

impl CallRecord {
    /// Over for good: the machine has ended and Twilio reported a final status.
    pub fn is_finished(&self) -> bool {
        self.state.disposition().is_some() && self.status.is_terminal()
    }
}

/// One line of a call's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub event: String,
    pub from: String,
    pub to: String,
    /// States passed through within this one event (e.g. record, pitch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twiml: Option<String>,
}
