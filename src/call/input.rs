//! What the machine's owner learns about a call, already translated from any
//! wire format: a callback's content, or the result of asking Twilio to dial.

use serde::{Deserialize, Serialize};

use super::ApiFailure;

/// Twilio's `Confidence` in a speech result: a finite number from 0 to 1.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Confidence(f64);

impl Confidence {
    /// `None` unless `value` is a number from 0 to 1.
    pub fn new(value: f64) -> Option<Self> {
        // `+ 0.0` turns a negative zero into zero, so equal values compare equal.
        (value.is_finite() && (0.0..=1.0).contains(&value)).then_some(Self(value + 0.0))
    }

    /// As Twilio sends it (`"0.9381"`); `None` when it is not a number from 0 to 1.
    pub fn parse(text: &str) -> Option<Self> {
        text.trim().parse().ok().and_then(Self::new)
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

impl PartialEq for Confidence {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Confidence {}

impl TryFrom<f64> for Confidence {
    type Error = &'static str;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::new(value).ok_or("a confidence is a number from 0 to 1")
    }
}

impl From<Confidence> for f64 {
    fn from(c: Confidence) -> f64 {
        c.0
    }
}

/// One thing that happened to a call. Callbacks carry an idempotency key
/// (a retry of the very same callback finds the first reply); the dial
/// results are written once by the instance that dialed and carry none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The call was answered; `machine` when answering-machine detection says so.
    Answer {
        answered_by: Option<String>,
        machine: bool,
    },
    /// What the callee said or keyed in answer to `<Gather>` number `turn`.
    Gather {
        turn: u32,
        speech: Option<String>,
        digits: Option<String>,
        /// How sure Twilio's recognizer was of `speech`.
        confidence: Option<Confidence>,
    },
    /// A status callback (the status as Twilio spelled it).
    Status {
        status: String,
        sequence: Option<u32>,
        duration_secs: Option<u32>,
    },
    Recording {
        sid: String,
        status: String,
    },
    /// Twilio accepted the create-call request and named the call.
    Dialed {
        sid: String,
    },
    /// The CallSid of a call whose dial was uncertain, found later.
    Reconciled {
        sid: String,
    },
    /// Twilio refused to place the call.
    Rejected {
        failure: ApiFailure,
    },
    /// Twilio gave no clear answer: the call may exist.
    Uncertain {
        failure: ApiFailure,
    },
    /// A stored call that was never placed is given up.
    Abandoned {
        reason: String,
    },
    /// A call the rules hold now waits to be dialed at `at`.
    Scheduled {
        at: chrono::DateTime<chrono::Utc>,
    },
    /// A scheduled call's time came and it passed the rules: it is queued to be dialed.
    Due,
}

impl Input {
    /// The key under which a retry of this very callback finds our first reply.
    /// Derived from the callback itself, so it holds with or without Twilio's
    /// `I-Twilio-Idempotency-Token`. `None` for dial results.
    pub fn idempotency_key(&self) -> Option<String> {
        Some(match self {
            Input::Answer { .. } => "answer".into(),
            Input::Gather { turn, .. } => format!("gather:{turn}"),
            Input::Status {
                status, sequence, ..
            } => match sequence {
                Some(seq) => format!("status:{status}:{seq}"),
                None => format!("status:{status}"),
            },
            Input::Recording { sid, status } => format!("recording:{sid}:{status}"),
            _ => return None,
        })
    }

    /// Whether the reply is a voice document (TwiML the caller hears).
    pub fn expects_voice_reply(&self) -> bool {
        matches!(self, Input::Answer { .. } | Input::Gather { .. })
    }

    /// Whether this came from Twilio's side of the call (not from our dial).
    pub fn is_callback(&self) -> bool {
        self.idempotency_key().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_retries_share_a_key_but_distinct_callbacks_do_not() {
        let s = |status: &str, seq| Input::Status {
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
        assert_eq!(Input::Dialed { sid: "CA1".into() }.idempotency_key(), None);
    }
}
