use serde::{Deserialize, Serialize};

/// Why a caller called, as tagged on the menu option they chose. The names
/// are part of the API (the call log's `reason`): add, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallReason {
    SetupAppointment,
    CancelAppointment,
    ModifyAppointment,
    GetHours,
    GetPricing,
    Other,
}

impl CallReason {
    pub const ALL: [CallReason; 6] = [
        Self::SetupAppointment,
        Self::CancelAppointment,
        Self::ModifyAppointment,
        Self::GetHours,
        Self::GetPricing,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SetupAppointment => "setup_appointment",
            Self::CancelAppointment => "cancel_appointment",
            Self::ModifyAppointment => "modify_appointment",
            Self::GetHours => "get_hours",
            Self::GetPricing => "get_pricing",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A prompt of an inbound flow; the flow turns it into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboundPrompt {
    Greeting,
    Menu,
    MenuReprompt,
    /// Outside business hours.
    Closed,
    /// Before the forward rings.
    Connecting,
    /// Before the beep (the tenant's own greeting replaces it when set).
    Voicemail,
    VoicemailThanks,
    /// Nobody answered and no message can be taken.
    Missed,
    Goodbye,
    /// Menu option `n`'s text (a `say` option's words, an `sms` option's confirmation).
    Option(u8),
}

impl InboundPrompt {
    /// The fixed prompts every inbound flow defines, by key.
    pub const FIXED: [InboundPrompt; 9] = [
        Self::Greeting,
        Self::Menu,
        Self::MenuReprompt,
        Self::Closed,
        Self::Connecting,
        Self::Voicemail,
        Self::VoicemailThanks,
        Self::Missed,
        Self::Goodbye,
    ];

    /// The key under `[prompts]`; `None` for an option's text (kept with the option).
    pub fn key(self) -> Option<&'static str> {
        Some(match self {
            Self::Greeting => "greeting",
            Self::Menu => "menu",
            Self::MenuReprompt => "menu_reprompt",
            Self::Closed => "closed",
            Self::Connecting => "connecting",
            Self::Voicemail => "voicemail",
            Self::VoicemailThanks => "voicemail_thanks",
            Self::Missed => "missed",
            Self::Goodbye => "goodbye",
            Self::Option(_) => return None,
        })
    }
}

/// What a transition asks the outside world to do. Applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundEffect {
    Say(InboundPrompt),
    /// Say the menu inside a `<Gather>` and wait for the choice.
    Ask(InboundPrompt),
    /// Ring forward leg `leg` (`<Dial>` with its number or numbers).
    Forward {
        leg: u8,
    },
    /// Record a message (`<Record>` with transcription).
    Record,
    /// Remember why the caller called.
    Reason(CallReason),
    /// Text the caller menu option `option`'s message. Never blocks the reply.
    SendOptionSms {
        option: u8,
    },
    /// Text the caller the tenant's missed-call message (once per caller per
    /// cooldown, never to a do-not-call number: the sender decides). Never blocks the reply.
    TextMissedCall,
    Hangup,
}
