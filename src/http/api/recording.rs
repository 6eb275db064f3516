//! `GET /api/calls/{id}/recording`: the call's recording, streamed from Twilio.

use actix_web::{web, HttpResponse};

use crate::app::recording;
use crate::http::auth::Tenant;
use crate::http::ApiError;

/// Streams the recording as it arrives, with Twilio's content type.
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
