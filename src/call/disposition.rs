use serde::{Deserialize, Serialize};

/// How a call ended. The names are part of the API: add, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    Interested,
    Declined,
    NoResponse,
    OptedOut,
    WrongParty,
    Voicemail,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
    /// The callee hung up in the middle of the conversation.
    HungUp,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Interested => "interested",
            Self::Declined => "declined",
            Self::NoResponse => "no_response",
            Self::OptedOut => "opted_out",
            Self::WrongParty => "wrong_party",
            Self::Voicemail => "voicemail",
            Self::Busy => "busy",
            Self::NoAnswer => "no_answer",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::HungUp => "hung_up",
        }
    }
}
