//! A call's recording, fetched from Twilio with the account's credentials so
//! whoever may read the call can play it without credentials of their own
//! (`GET /api/calls/{id}/recording`, and the console's player).

use super::{calls, AppState, ServiceError};
use crate::twilio::rest::{Media, TwilioError};

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// No such call for this tenant, no recording on it, or Twilio has none.
    #[error("this call has no recording")]
    NotFound,
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Twilio did not hand the recording over (refused, 5xx, unreachable).
    #[error("Twilio did not provide the recording: {0}")]
    Upstream(String),
}

/// The recording of call `id` (our id or its CallSid), as Twilio streams it.
pub async fn fetch(app: &AppState, id: &str) -> Result<Media, RecordingError> {
    let record = match calls::find(app, id).await {
        Ok(record) => record,
        Err(ServiceError::NotFound) => return Err(RecordingError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let sid = record.recording_sid.ok_or(RecordingError::NotFound)?;
    match app.twilio.fetch_recording(&sid).await {
        Ok(media) => Ok(media),
        Err(TwilioError::Api { status: 404, .. }) => Err(RecordingError::NotFound),
        Err(e) => {
            tracing::warn!(call_id = %record.call_id, recording_sid = %sid, error = %e, "recording not fetched");
            Err(RecordingError::Upstream(e.to_string()))
        }
    }
}
