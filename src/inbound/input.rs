//! What reaches an inbound call from outside, as the edge translates Twilio's
//! callbacks: the machine's events plus the facts kept beside its state
//! (recording, transcription, call status, who answered).

/// One input for an inbound call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundInput {
    /// The number's Voice URL: the call arrived.
    Incoming,
    /// The menu's `<Gather action>` of menu turn `turn`.
    Menu {
        turn: u32,
        speech: Option<String>,
        digits: Option<String>,
    },
    /// The `<Dial action>` of forward leg `leg`: Twilio's `DialCallStatus`.
    Dial {
        leg: u8,
        status: String,
        dial_call_sid: Option<String>,
        duration_secs: Option<u32>,
    },
    /// The voicemail's `<Record action>`.
    Recorded {
        sid: Option<String>,
        url: Option<String>,
        seconds: u32,
    },
    /// The `transcribeCallback`: the message's words, later and separately.
    Transcription {
        text: Option<String>,
        status: String,
    },
    /// The number's `StatusCallback`.
    Status {
        status: String,
        sequence: Option<u32>,
        duration_secs: Option<u32>,
    },
    /// A `recordingStatusCallback`.
    Recording {
        sid: String,
        status: String,
        url: Option<String>,
    },
    /// Who took a forward that rang several people at once, once looked up.
    AnsweredBy { number: String },
}

impl InboundInput {
    /// The key a retry of the same callback is recognised by; `None`: not a Twilio callback.
    pub fn idempotency_key(&self) -> Option<String> {
        Some(match self {
            Self::Incoming => "incoming".into(),
            Self::Menu { turn, .. } => format!("menu:{turn}"),
            Self::Dial { leg, .. } => format!("dial:{leg}"),
            Self::Recorded { .. } => "voicemail".into(),
            Self::Transcription { .. } => "transcription".into(),
            Self::Status {
                status, sequence, ..
            } => match sequence {
                Some(seq) => format!("status:{status}:{seq}"),
                None => format!("status:{status}"),
            },
            Self::Recording { sid, status, .. } => format!("recording:{sid}:{status}"),
            Self::AnsweredBy { .. } => return None,
        })
    }

    /// Whether the reply is a voice document (TwiML the caller hears).
    pub fn expects_voice_reply(&self) -> bool {
        matches!(
            self,
            Self::Incoming | Self::Menu { .. } | Self::Dial { .. } | Self::Recorded { .. }
        )
    }

    /// A short name for logs and timelines.
    pub fn name(&self) -> String {
        match self {
            Self::Incoming => "incoming".into(),
            Self::Menu { turn, .. } => format!("menu:{turn}"),
            Self::Dial { leg, status, .. } => format!("dial:{leg}:{status}"),
            Self::Recorded { seconds, .. } => format!("recorded:{seconds}s"),
            Self::Transcription { status, .. } => format!("transcription:{status}"),
            Self::Status { status, .. } => format!("status:{status}"),
            Self::Recording { status, .. } => format!("recording:{status}"),
            Self::AnsweredBy { .. } => "answered_by".into(),
        }
    }
}
