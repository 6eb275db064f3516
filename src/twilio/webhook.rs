//! Typed Twilio callbacks. The HTTP layer verifies the signature over the raw
//! body first; only then is the form read into these types.

/// The fields callflow reads from any voice callback. Twilio sends many more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoiceForm {
    pub call_sid: Option<String>,
    pub call_status: Option<String>,
    pub answered_by: Option<String>,
    pub speech_result: Option<String>,
    pub digits: Option<String>,
    pub sequence_number: Option<u32>,
    pub call_duration: Option<u32>,
    pub recording_sid: Option<String>,
    pub recording_status: Option<String>,
}

impl VoiceForm {
    /// Reads the known fields from verified form pairs; the first value of a repeated name wins.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Self {
            call_sid: get("CallSid"),
            call_status: get("CallStatus"),
            answered_by: get("AnsweredBy"),
            speech_result: get("SpeechResult"),
            digits: get("Digits"),
            sequence_number: get("SequenceNumber").and_then(|v| v.parse().ok()),
            call_duration: get("CallDuration").and_then(|v| v.parse().ok()),
            recording_sid: get("RecordingSid"),
            recording_status: get("RecordingStatus"),
        }
    }
}

/// Which of our webhooks was called, with what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    Answer {
        /// Twilio's `AnsweredBy` (answering-machine detection), when requested.
        answered_by: Option<String>,
    },
    Gather {
        turn: u32,
        speech: Option<String>,
        digits: Option<String>,
    },
    Status {
        status: String,
        sequence: Option<u32>,
        duration_secs: Option<u32>,
    },
    Recording {
        sid: String,
        status: String,
    },
}

impl Callback {
    /// The key under which a retry of this very callback finds our first reply.
    /// Derived from the callback itself, so it holds with or without Twilio's
    /// `I-Twilio-Idempotency-Token`.
    pub fn idempotency_key(&self) -> String {
        match self {
            Callback::Answer { .. } => "answer".into(),
            Callback::Gather { turn, .. } => format!("gather:{turn}"),
            Callback::Status {
                status, sequence, ..
            } => match sequence {
                Some(seq) => format!("status:{status}:{seq}"),
                None => format!("status:{status}"),
            },
            Callback::Recording { sid, status } => format!("recording:{sid}:{status}"),
        }
    }
}

/// `AnsweredBy` values that mean nobody human is listening.
pub fn is_machine(answered_by: Option<&str>) -> bool {
    answered_by.is_some_and(|a| a.starts_with("machine") || a == "fax")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_detection_values() {
        assert!(is_machine(Some("machine_end_beep")));
        assert!(is_machine(Some("machine_start")));
        assert!(is_machine(Some("fax")));
        assert!(!is_machine(Some("human")));
        assert!(!is_machine(Some("unknown")));
        assert!(!is_machine(None));
    }

    #[test]
    fn status_retries_share_a_key_but_distinct_callbacks_do_not() {
        let s = |status: &str, seq| Callback::Status {
            status: status.into(),
            sequence: seq,
            duration_secs: None,
        };
        assert_eq!(
            s("ringing", Some(1)).idempotency_key(),
            s("ringing", Some(1)).idempotency_key()
        );
        assert_ne!(
            s("ringing", Some(1)).idempotency_key(),
            s("completed", Some(3)).idempotency_key()
        );
    }
}
