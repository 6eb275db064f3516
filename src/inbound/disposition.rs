use serde::{Deserialize, Serialize};

/// How an inbound call ended. The names are part of the API: add, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundDisposition {
    /// Forwarded and answered by a person.
    Answered,
    /// A message was left (after a missed forward or out of hours).
    Voicemail,
    /// Not answered and no message left.
    Missed,
    /// The caller hung up before the forward or the voicemail.
    Abandoned,
    /// The caller heard a text option (hours, pricing, a link sent) and left.
    MenuInfo,
}

impl InboundDisposition {
    pub const ALL: [InboundDisposition; 5] = [
        Self::Answered,
        Self::Voicemail,
        Self::Missed,
        Self::Abandoned,
        Self::MenuInfo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Voicemail => "voicemail",
            Self::Missed => "missed",
            Self::Abandoned => "abandoned",
            Self::MenuInfo => "menu_info",
        }
    }
}
