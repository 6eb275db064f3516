use serde::{Deserialize, Serialize};

use super::CallReason;

/// How a forwarded leg ended: Twilio's `DialCallStatus` on the `<Dial action>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialOutcome {
    /// `completed` or `answered`: a person took the call (and it has ended).
    Answered,
    Busy,
    NoAnswer,
    Failed,
    /// The caller hung up while the forward was ringing.
    Canceled,
}

impl DialOutcome {
    /// Twilio's `DialCallStatus` value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "completed" | "answered" => Self::Answered,
            "busy" => Self::Busy,
            "no-answer" => Self::NoAnswer,
            "failed" => Self::Failed,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    pub fn is_missed(self) -> bool {
        matches!(self, Self::Busy | Self::NoAnswer | Self::Failed)
    }
}

/// What the caller chose at the menu, read by the flow from keys or speech.
/// Options that act carry the reason their option is tagged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuPick {
    /// Ring the business (or take a message when nobody can answer now).
    Forward(CallReason),
    /// Take a message.
    Voicemail(CallReason),
    /// Say the text of menu option `option` (hours, pricing...), then the menu again.
    Info { option: u8, reason: CallReason },
    /// Text the caller option `option`'s message (a link), then the menu again.
    Sms { option: u8, reason: CallReason },
    /// Something was said or pressed that matches no option.
    Unclear,
    /// Nothing was said or pressed.
    Silence,
}

/// What happened to an inbound call, as the machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundEvent {
    /// The call reached the number's Voice URL.
    Incoming,
    /// The menu's `<Gather>` answered.
    Menu(MenuPick),
    /// The forward's `<Dial action>` reported how the leg ended.
    DialEnded(DialOutcome),
    /// The voicemail's `<Record action>`: how long the message is (0: none).
    Recorded { seconds: u32 },
    /// The status callback says the call is over (the caller hung up).
    HungUp,
    /// Internal: leave a state that only passes through.
    Proceed,
}
