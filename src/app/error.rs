//! The application's error: every failure a request or callback can meet,
//! mapped to an HTTP response once, in `http::error`.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// Well formed but not allowed for this tenant (e.g. a caller ID it does not hold).
    #[error("{field}: {reason}")]
    Unprocessable { field: String, reason: String },
    #[error("flow '{0}' does not exist")]
    UnknownFlow(String),
    #[error("to: {0} is on the do-not-call list")]
    DoNotCall(String),
    #[error("Twilio refused the call: {message}")]
    TwilioRejected {
        call_id: String,
        code: Option<u64>,
        message: String,
    },
    #[error("Twilio did not confirm the call: {message}")]
    TwilioUncertain { call_id: String, message: String },
    /// Twilio answered 429: nothing was placed (the record is failed); try again later.
    #[error("Twilio is rate limiting calls: {message}")]
    TwilioThrottled {
        call_id: String,
        message: String,
        retry_after_secs: u64,
    },
    /// No account pacing slot within the wait a single call is allowed: nothing
    /// was recorded or dialed.
    #[error("the account's dial rate (TWILIO_MAX_CPS) is taken for the next {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The dial was sent to Twilio, but its answer could not be recorded.
    #[error("the call was sent to Twilio but its answer could not be recorded: {source}")]
    Unrecorded {
        call_id: String,
        #[source]
        source: Box<ServiceError>,
    },
    /// The rules hold this dial until `next_allowed_at` (calling times, a
    /// state rule, or the number's cap): nothing was dialed.
    #[error("to: {} until {next_allowed_at}", .reason.describe())]
    Held {
        reason: super::dial_gate::Hold,
        next_allowed_at: chrono::DateTime<chrono::Utc>,
    },
    #[error("call not found")]
    NotFound,
    /// Redis ran the write after its deadline (it had stalled): nothing was
    /// written, and the sender was answered without it.
    #[error("storage answered after the deadline; nothing was written")]
    TooLate,
    #[error("the call changed too often to update; try again")]
    Contended,
}

impl ServiceError {
    /// Whether a create-call request may have reached Twilio: such a failure
    /// must never lead to a second dial of the same request.
    pub fn reached_twilio(&self) -> bool {
        matches!(
            self,
            Self::TwilioRejected { .. } | Self::TwilioUncertain { .. } | Self::Unrecorded { .. }
        )
    }
}
