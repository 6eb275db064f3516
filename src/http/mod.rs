//! The HTTP surface: `/api` (JSON, a tenant's bearer token or JWT; `/api/admin`:
//! `ADMIN_TOKEN`), `/twilio` (signed webhooks, TwiML), health checks and
//! `/metrics`, and the operator console (`/console`, HTML); every request gets
//! a request id. Handlers are thin: parse, call
//! the service, answer.

mod api;
mod auth;
mod console;
mod error;
mod health;
mod metrics;
mod request_id;
mod signed;
mod webhooks;
mod webhooks_inbound;
mod webhooks_sms;

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::web;

pub use api::{document as api_document, ROUTES as API_ROUTES};
pub use error::ApiError;
pub use health::Lifecycle;
pub use request_id::tag as tag_request;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(metrics::metrics))
        .configure(console::routes)
        .service(
            web::scope("/api")
                // Campaigns of 100,000+ contacts arrive in one request.
                .app_data(web::PayloadConfig::new(API_BODY_LIMIT))
                .app_data(
                    web::PathConfig::default()
                        .error_handler(|e, _| ApiError::invalid("path", e.to_string()).into()),
                )
                .app_data(
                    web::QueryConfig::default()
                        .error_handler(|e, _| ApiError::invalid("query", e.to_string()).into()),
                )
                .app_data(
                    web::JsonConfig::default()
                        .error_handler(|e, _| ApiError::invalid("body", e.to_string()).into()),
                )
                .configure(api::mount)
                .default_service(web::to(not_found))
                // Whatever actix answers on its own is JSON too.
                .wrap(ErrorHandlers::new().default_handler(json_error)),
        )
        .service(
            web::scope("/twilio/voice")
                // Twilio's forms are a few kilobytes.
                .app_data(web::PayloadConfig::new(WEBHOOK_BODY_LIMIT))
                .route("/incoming", web::post().to(webhooks::incoming))
                .route("/gather", web::post().to(webhooks::gather))
                .route("/status", web::post().to(webhooks::status))
                .route("/recording", web::post().to(webhooks::recording))
                .route("/inbound", web::post().to(webhooks_inbound::incoming))
                .route("/inbound/menu", web::post().to(webhooks_inbound::menu))
                .route("/inbound/dial", web::post().to(webhooks_inbound::dial))
                .route(
                    "/inbound/voicemail",
                    web::post().to(webhooks_inbound::voicemail),
                )
                .route(
                    "/inbound/transcription",
                    web::post().to(webhooks_inbound::transcription),
                ),
        )
        .service(
            web::scope("/twilio/sms")
                .app_data(web::PayloadConfig::new(WEBHOOK_BODY_LIMIT))
                .route("/incoming", web::post().to(webhooks_sms::incoming))
                .route("/status", web::post().to(webhooks_sms::status)),
        );
}

/// The largest `/api` request body: a campaign at its contact limit.
const API_BODY_LIMIT: usize = 64 * 1024 * 1024;
/// The largest body of the other `/api` routes that read one.
const SMALL_BODY_LIMIT: usize = 64 * 1024;
/// The largest webhook body read (after its signature header was seen).
const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;

/// An error answer that is not JSON yet (one of actix's own: a body over the
/// limit, a payload that could not be read, ...) becomes the API's JSON error.
fn json_error<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    use actix_web::ResponseError;
    let is_json = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = res.response().error().map(|e| e.to_string());
    let (req, _) = res.into_parts();
    let error = if status == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(&req)
    } else {
        ApiError::from_status(status, message)
    };
    let res = ServiceResponse::new(req, error.error_response()).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// A body over the route's limit.
fn too_large(req: &actix_web::HttpRequest) -> ApiError {
    let message = if req.path() == "/api/dnc" || req.path() == "/api/sms" {
        format!(
            "the request body is over the {} KiB limit",
            SMALL_BODY_LIMIT / 1024
        )
    } else {
        format!(
            "the request body is over the {} MiB limit",
            API_BODY_LIMIT / (1024 * 1024)
        )
    };
    ApiError::too_large(message)
}

/// Unknown routes answer JSON too, never an HTML page.
pub async fn not_found() -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    ApiError::NotFound("no such endpoint".into()).error_response()
}
