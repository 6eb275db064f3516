use serde::{Deserialize, Serialize};

/// A prompt of the flow, by key; the flow turns it into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    Intro,
    Identify,
    IdentifyReprompt,
    Consent,
    ConsentReprompt,
    ConsentDeclined,
    Pitch,
    PitchReprompt,
    Interested,
    Declined,
    NoResponse,
    WrongParty,
    OptOut,
    Voicemail,
}

impl Prompt {
    pub const ALL: [Prompt; 14] = [
        Prompt::Intro,
        Prompt::Identify,
        Prompt::IdentifyReprompt,
        Prompt::Consent,
        Prompt::ConsentReprompt,
        Prompt::ConsentDeclined,
        Prompt::Pitch,
        Prompt::PitchReprompt,
        Prompt::Interested,
        Prompt::Declined,
        Prompt::NoResponse,
        Prompt::WrongParty,
        Prompt::OptOut,
        Prompt::Voicemail,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Prompt::Intro => "intro",
            Prompt::Identify => "identify",
            Prompt::IdentifyReprompt => "identify_reprompt",
            Prompt::Consent => "consent",
            Prompt::ConsentReprompt => "consent_reprompt",
            Prompt::ConsentDeclined => "consent_declined",
            Prompt::Pitch => "pitch",
            Prompt::PitchReprompt => "pitch_reprompt",
            Prompt::Interested => "interested",
            Prompt::Declined => "declined",
            Prompt::NoResponse => "no_response",
            Prompt::WrongParty => "wrong_party",
            Prompt::OptOut => "opt_out",
            Prompt::Voicemail => "voicemail",
        }
    }
}

/// What a transition asks the outside world to do. Applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Speak a prompt.
    Say(Prompt),
    /// Speak a prompt inside a `<Gather>` and wait for the answer.
    Ask(Prompt),
    /// Start recording: only ever emitted after an explicit yes to consent.
    StartRecording,
    /// Remember the callee's recording decision.
    RecordConsent(bool),
    /// Put the callee's number on the do-not-call list.
    AddToDoNotCall,
    Hangup,
}
