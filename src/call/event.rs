use serde::{Deserialize, Serialize};

/// What the callee meant, classified from speech or keys by the flow's patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Yes,
    No,
    OptOut,
    Unclear,
    Silence,
}

/// Twilio's `CallStatus` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    /// Ours, not Twilio's: a single call waiting for its callee's calling window.
    Scheduled,
    Queued,
    Initiated,
    Ringing,
    InProgress,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl CallStatus {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "initiated" => Self::Initiated,
            "ringing" => Self::Ringing,
            "in-progress" | "answered" => Self::InProgress,
            "completed" => Self::Completed,
            "busy" => Self::Busy,
            "no-answer" => Self::NoAnswer,
            "failed" => Self::Failed,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Queued => "queued",
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::NoAnswer => "no-answer",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// A final status: nothing after it changes the call.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::NoAnswer | Self::Failed | Self::Canceled
        )
    }

    /// Progress order, so a late `ringing` never overwrites `in-progress`.
    pub fn rank(self) -> u8 {
        match self {
            Self::Scheduled | Self::Queued => 0,
            Self::Initiated => 1,
            Self::Ringing => 2,
            Self::InProgress => 3,
            _ => 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A status callback.
    Status(CallStatus),
    /// The answer webhook; `machine` when answering-machine detection says so.
    Answered { machine: bool },
    /// A Gather result.
    Input(Intent),
    /// Twilio refused to place the call.
    Rejected,
    /// Internal: move on from a state that only passes through (record, pitch, ...).
    Proceed,
}

impl Event {
    /// The name written to the call's timeline.
    pub fn name(&self) -> String {
        match self {
            Event::Status(s) => format!("status:{}", s.as_str()),
            Event::Answered { machine: false } => "answered:human".into(),
            Event::Answered { machine: true } => "answered:machine".into(),
            Event::Input(i) => format!(
                "input:{}",
                serde_json::to_value(i)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
            Event::Rejected => "rejected".into(),
            Event::Proceed => "proceed".into(),
        }
    }
}
