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
/// page. Its body comes from the recording proxy of `/api/calls/{id}/recording`
/// (fetched from Twilio with the account's credentials); until that is part of
/// the build, a call's recording is not found here.
pub async fn recording(
    viewer: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let record = calls::record(&viewer, &id).await?;
    if record.recording_sid.is_none() {
        return Err(ConsoleError::NotFound);
    }
    Err(ConsoleError::NotFound)
}
