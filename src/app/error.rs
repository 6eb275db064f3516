//! The application's error: every failure a request or callback can meet,
//! mapped to an HTTP response once, in `http::error`.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
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
    #[error("call not found")]
    NotFound,
    #[error("the call changed too often to update; try again")]
    Contended,
}
