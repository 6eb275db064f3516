//! Typed Twilio callbacks. The HTTP layer verifies the signature over the raw
//! body first; only then is the form read into these types and translated
//! into the call machine's [`Input`].

use crate::call::input::Confidence;
use crate::call::Input;
use crate::inbound::InboundInput;

/// The pairs of a form body (`application/x-www-form-urlencoded`), in order;
/// `None` when the body is not one.
pub fn form_pairs(body: &[u8]) -> Option<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(body).ok()
}

/// The fields callflow reads from any voice callback. Twilio sends many more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoiceForm {
    pub call_sid: Option<String>,
    pub call_status: Option<String>,
    pub answered_by: Option<String>,
    pub speech_result: Option<String>,
    pub confidence: Option<String>,
    pub digits: Option<String>,
    pub sequence_number: Option<u32>,
    pub call_duration: Option<u32>,
    pub recording_sid: Option<String>,
    pub recording_status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub direction: Option<String>,
    pub dial_call_status: Option<String>,
    pub dial_call_sid: Option<String>,
    pub dial_call_duration: Option<u32>,
    pub recording_url: Option<String>,
    pub recording_duration: Option<u32>,
    pub transcription_text: Option<String>,
    pub transcription_status: Option<String>,
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
            confidence: get("Confidence"),
            digits: get("Digits"),
            sequence_number: get("SequenceNumber").and_then(|v| v.parse().ok()),
            call_duration: get("CallDuration").and_then(|v| v.parse().ok()),
            recording_sid: get("RecordingSid"),
            recording_status: get("RecordingStatus"),
            from: get("From"),
            to: get("To"),
            direction: get("Direction"),
            dial_call_status: get("DialCallStatus"),
            dial_call_sid: get("DialCallSid"),
            dial_call_duration: get("DialCallDuration").and_then(|v| v.parse().ok()),
            recording_url: get("RecordingUrl"),
            recording_duration: get("RecordingDuration").and_then(|v| v.parse().ok()),
            transcription_text: get("TranscriptionText"),
            transcription_status: get("TranscriptionStatus"),
        }
    }

    /// Our number on the call: the caller ID of a call we placed (`From`),
    /// the number dialed for a call that came in (`To`).
    pub fn our_number(&self) -> Option<&str> {
        let outbound = self
            .direction
            .as_deref()
            .is_some_and(|d| d.starts_with("outbound"));
        if outbound {
            self.from.as_deref()
        } else {
            self.to.as_deref()
        }
    }
}

/// The fields callflow reads from a messaging webhook: an incoming text
/// (`SmsUrl`) or a sent text's status (`StatusCallback`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsForm {
    pub message_sid: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub body: Option<String>,
    /// `STOP`, `START` or `HELP` when Twilio's Advanced Opt-Out answered.
    pub opt_out_type: Option<String>,
    pub message_status: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl SmsForm {
    /// Reads the known fields from verified form pairs (Twilio's older `Sms*`
    /// names too); the first value of a repeated name wins, empty values are absent.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |names: &[&str]| {
            names.iter().find_map(|name| {
                pairs
                    .iter()
                    .find(|(k, v)| k == name && !v.is_empty())
                    .map(|(_, v)| v.clone())
            })
        };
        Self {
            message_sid: get(&["MessageSid", "SmsSid"]),
            from: get(&["From"]),
            to: get(&["To"]),
            body: get(&["Body"]),
            opt_out_type: get(&["OptOutType"]),
            message_status: get(&["MessageStatus", "SmsStatus"]),
            error_code: get(&["ErrorCode"]),
            error_message: get(&["ErrorMessage"]),
        }
    }
}

/// Translations of each webhook's form into the machine's [`Input`]; `None`
/// when the form lacks what that webhook must carry.
impl VoiceForm {
    /// The answer webhook (the call's `Url`).
    pub fn answer(&self) -> Input {
        Input::Answer {
            answered_by: self.answered_by.clone(),
            machine: is_machine(self.answered_by.as_deref()),
        }
    }

    /// A `<Gather action>`; `turn` comes from the action URL's query.
    pub fn gather(&self, turn: Option<&str>) -> Option<Input> {
        Some(Input::Gather {
            turn: turn?.parse().ok()?,
            speech: self.speech_result.clone(),
            digits: self.digits.clone(),
            confidence: self.confidence.as_deref().and_then(Confidence::parse),
        })
    }

    /// A `StatusCallback`.
    pub fn status(&self) -> Option<Input> {
        Some(Input::Status {
            status: self.call_status.clone()?,
            sequence: self.sequence_number,
            duration_secs: self.call_duration,
        })
    }

    /// A `recordingStatusCallback`.
    pub fn recording(&self) -> Option<Input> {
        Some(Input::Recording {
            sid: self.recording_sid.clone()?,
            status: self.recording_status.clone()?,
        })
    }
}

/// Translations of the inbound webhooks' forms into the inbound call's
/// [`InboundInput`]; `None` when the form lacks what that webhook must carry.
impl VoiceForm {
    /// Whether Twilio says the call came in (a status callback for a call
    /// placed by us says `outbound-api` or `outbound-dial`).
    pub fn is_inbound(&self) -> bool {
        self.direction.as_deref().is_some_and(|d| d == "inbound")
    }

    /// The menu's `<Gather action>`; `turn` comes from the action URL's query.
    pub fn inbound_menu(&self, turn: Option<&str>) -> Option<InboundInput> {
        Some(InboundInput::Menu {
            turn: turn?.parse().ok()?,
            speech: self.speech_result.clone(),
            digits: self.digits.clone(),
        })
    }

    /// The `<Dial action>`; `leg` comes from the action URL's query.
    pub fn inbound_dial(&self, leg: Option<&str>) -> Option<InboundInput> {
        Some(InboundInput::Dial {
            leg: leg?.parse().ok()?,
            status: self.dial_call_status.clone()?,
            dial_call_sid: self.dial_call_sid.clone(),
            duration_secs: self.dial_call_duration,
        })
    }

    /// The voicemail's `<Record action>` (no `RecordingDuration`: nothing recorded).
    pub fn inbound_recorded(&self) -> InboundInput {
        InboundInput::Recorded {
            sid: self.recording_sid.clone(),
            url: self.recording_url.clone(),
            seconds: self.recording_duration.unwrap_or(0),
        }
    }

    /// The `transcribeCallback`.
    pub fn inbound_transcription(&self) -> Option<InboundInput> {
        Some(InboundInput::Transcription {
            text: self.transcription_text.clone(),
            status: self.transcription_status.clone()?,
        })
    }

    /// The number's `StatusCallback`.
    pub fn inbound_status(&self) -> Option<InboundInput> {
        Some(InboundInput::Status {
            status: self.call_status.clone()?,
            sequence: self.sequence_number,
            duration_secs: self.call_duration,
        })
    }

    /// A `recordingStatusCallback` for an inbound call.
    pub fn inbound_recording(&self) -> Option<InboundInput> {
        Some(InboundInput::Recording {
            sid: self.recording_sid.clone()?,
            status: self.recording_status.clone()?,
            url: self.recording_url.clone(),
        })
    }
}

/// `AnsweredBy` values that mean nobody human is listening.
pub fn is_machine(answered_by: Option<&str>) -> bool {
    answered_by.is_some_and(|a| a.starts_with("machine") || a == "fax")
}

#[cfg(test)]
#[path = "webhook_props.rs"]
mod props;

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
}
