//! The persisted call: machine state plus what we know about the call.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::input::Confidence;
use super::{CallState, CallStatus, Disposition, Intent, Prompt};
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
    /// On a gather's entry: what the callee was asked and answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heard: Option<Heard>,
}

/// The longest speech text kept, in characters; the rest is cut off.
pub const MAX_SPEECH_CHARS: usize = 500;
/// The most keys kept of a gather's digits.
pub const MAX_DIGITS: usize = 32;

/// One answer to a `<Gather>`: kept with the transition it caused, so it
/// expires with the call's timeline. Speech is personal data: never logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heard {
    /// The `<Gather>` answered (the record's `turn` when it was asked).
    pub turn: u32,
    /// The question asked, by the flow's prompt key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
    /// The question's words as the callee heard them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_text: Option<String>,
    /// Twilio's `SpeechResult`, at most [`MAX_SPEECH_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speech: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// The keys pressed, at most [`MAX_DIGITS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<String>,
    /// What the flow read the answer as.
    pub intent: Intent,
}

impl Heard {
    /// The answer to the question `asked`, read as `intent`, with the text
    /// bounded; empty speech or digits count as none.
    pub fn new(
        turn: u32,
        asked: Option<Prompt>,
        speech: Option<&str>,
        confidence: Option<Confidence>,
        digits: Option<&str>,
        intent: Intent,
    ) -> Self {
        let bounded = |text: Option<&str>, max: usize| {
            text.map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| t.chars().take(max).collect::<String>())
        };
        let speech = bounded(speech, MAX_SPEECH_CHARS);
        Self {
            turn,
            prompt: asked,
            prompt_text: None,
            confidence: confidence.filter(|_| speech.is_some()),
            speech,
            digits: bounded(digits, MAX_DIGITS),
            intent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_bounded_and_empty_text_counts_as_none() {
        let long = "ü".repeat(MAX_SPEECH_CHARS + 20);
        let c = Confidence::parse("0.5");
        let heard = Heard::new(
            2,
            Some(Prompt::Pitch),
            Some(&long),
            c,
            Some(""),
            Intent::Unclear,
        );
        assert_eq!(
            heard.speech.as_ref().unwrap().chars().count(),
            MAX_SPEECH_CHARS
        );
        assert_eq!(heard.confidence, c);
        assert_eq!(heard.digits, None);
        let keys = Heard::new(
            1,
            None,
            Some("  "),
            c,
            Some(&"9".repeat(40)),
            Intent::OptOut,
        );
        assert_eq!(keys.speech, None);
        assert_eq!(keys.confidence, None, "no confidence without speech");
        assert_eq!(keys.digits.unwrap().len(), MAX_DIGITS);
    }

    #[test]
    fn confidence_is_a_number_from_zero_to_one() {
        assert_eq!(
            Confidence::parse("0.9381").map(Confidence::value),
            Some(0.9381)
        );
        assert_eq!(Confidence::parse("1").map(Confidence::value), Some(1.0));
        assert_eq!(Confidence::parse("-0").map(Confidence::value), Some(0.0));
        for bad in ["", "abc", "1.5", "-0.1", "NaN", "inf"] {
            assert_eq!(Confidence::parse(bad), None, "{bad}");
        }
    }
}
