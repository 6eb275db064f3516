//! `/console/calls/{id}`: one call, read with `app::calls::get_call` as
//! `GET /api/calls/{id}` reads it (an id of another tenant is not found).

use actix_web::{web, HttpResponse};

use super::campaigns::chrome;
use super::error::html;
use super::session::Viewer;
use super::templates::call::{self as view, CallPage};
use super::templates::Section;
use super::ConsoleError;
use crate::app::calls;
use crate::app::recording::{self, RecordingError};

/// `GET /console/calls/{id}` (`id` may be a Twilio CallSid).
pub async fn detail(viewer: Viewer, id: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let (record, _version, timeline) = calls::get_call(&viewer, &id).await?;
    let recording = record
        .recording_sid
        .as_ref()
        .map(|_| format!("/console/calls/{}/recording", record.call_id));
    let page = CallPage {
        record: &record,
        timeline: &timeline,
        recording,
    };
    Ok(html(view::call(&page, &chrome(&viewer, Section::Calls))))
}

/// `GET /console/calls/{id}/recording`: the call's recording, played in the
/// page, streamed from Twilio with the account's credentials by the same
/// proxy as `GET /api/calls/{id}/recording`.
pub async fn recording(
    viewer: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let media = match recording::fetch(&viewer, &id).await {
        Ok(media) => media,
        Err(RecordingError::NotFound) => return Err(ConsoleError::NotFound),
        Err(RecordingError::Service(e)) => return Err(e.into()),
        Err(RecordingError::Upstream(m)) => return Err(ConsoleError::Conflict(m)),
    };
    let mut resp = HttpResponse::Ok();
    resp.content_type(media.content_type().unwrap_or("audio/mpeg"))
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if let Some(len) = media.content_length() {
        resp.no_chunking(len);
    }
    Ok(resp.streaming(media.into_stream()))
}
