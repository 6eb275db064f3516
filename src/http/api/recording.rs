//! `GET /api/calls/{id}/recording`: the call's recording, streamed from Twilio.

use actix_web::{web, HttpResponse};

use crate::app::recording;
use crate::http::auth::Tenant;
use crate::http::error::ErrorBody;
use crate::http::ApiError;

/// Streams the recording as it arrives, with Twilio's content type.
#[utoipa::path(
    get,
    path = "/api/calls/{id}/recording",
    tag = "calls",
    params(("id" = String, Path, description = "The call id, or Twilio's CallSid")),
    responses(
        (status = 200, description = "The recording, streamed from Twilio with its content type (MP3)", content_type = "audio/mpeg", body = String),
        (status = 502, description = "Twilio did not provide the recording", body = ErrorBody),
    ),
)]
pub async fn get_recording(
    service: Tenant,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let media = recording::fetch(&service, &id).await?;
    let mut resp = HttpResponse::Ok();
    resp.content_type(media.content_type().unwrap_or("audio/mpeg"))
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if let Some(len) = media.content_length() {
        resp.no_chunking(len);
    }
    Ok(resp.streaming(media.into_stream()))
}
