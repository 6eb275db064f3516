//! The HTTP surface: `/api` (JSON, a tenant's bearer token or JWT; `/api/admin`:
//! `ADMIN_TOKEN`), `/twilio` (signed webhooks, TwiML), health checks and
//! `/metrics`; every request gets a request id. Handlers are thin: parse, call
//! the service, answer.

mod api;
mod auth;
mod error;
mod health;
mod metrics;
mod request_id;
mod signed;
mod webhooks;
mod webhooks_inbound;

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::web;

pub use error::ApiError;
pub use health::Lifecycle;
pub use request_id::tag as tag_request;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(metrics::metrics))
        .service(
            web::scope("/api")
                // Campaigns of 100,000+ contacts arrive in one request.
                .app_data(web::PayloadConfig::new(API_BODY_LIMIT))
                .wrap(ErrorHandlers::new().handler(StatusCode::PAYLOAD_TOO_LARGE, too_large))
                .route("/admin/tenants", web::post().to(api::create_tenant))
                .route("/admin/tenants", web::get().to(api::list_tenants))
                .route("/admin/tenants/{id}", web::get().to(api::get_tenant))
                .route("/admin/tenants/{id}", web::patch().to(api::update_tenant))
                .route("/admin/tenants/{id}", web::delete().to(api::delete_tenant))
                .route(
                    "/admin/tenants/{id}/tokens",
                    web::post().to(api::issue_token),
                )
                .route(
                    "/admin/tenants/{id}/tokens/{token_id}",
                    web::delete().to(api::revoke_token),
                )
                .route("/calls/outbound", web::post().to(api::create_outbound))
                .route("/calls", web::get().to(api::list_calls))
                .route("/stats", web::get().to(api::stats))
                .route("/campaigns/{id}", web::get().to(api::get_campaign))
                .route(
                    "/campaigns/{id}/calls",
                    web::get().to(api::list_campaign_calls),
                )
                .route(
                    "/campaigns/{id}/{action:pause|resume|cancel}",
                    web::post().to(api::steer_campaign),
                )
                .route("/calls/{id}", web::get().to(api::get_call))
                .service(
                    // A number to list: no reason to read megabytes for it.
                    web::resource("/dnc")
                        .app_data(web::PayloadConfig::new(SMALL_BODY_LIMIT))
                        .route(web::post().to(api::add_dnc)),
                )
                .route("/dnc/{number}", web::get().to(api::get_dnc))
                .route("/dnc/{number}", web::delete().to(api::remove_dnc))
                .route("/numbers/available", web::get().to(api::search_numbers))
                .route("/numbers", web::get().to(api::list_numbers))
                .route("/numbers", web::post().to(api::acquire_number))
                .route("/numbers/{number}", web::delete().to(api::release_number)),
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
        );
}

/// The largest `/api` request body: a campaign at its contact limit.
const API_BODY_LIMIT: usize = 64 * 1024 * 1024;
/// The largest body of the other `/api` routes that read one.
const SMALL_BODY_LIMIT: usize = 64 * 1024;
/// The largest webhook body read (after its signature header was seen).
const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;

/// A body over the limit answers JSON like every other API error.
fn too_large<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    use actix_web::ResponseError;
    let (req, _) = res.into_parts();
    let message = if req.path() == "/api/dnc" {
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
    let resp = ApiError::too_large(message).error_response();
    let res = ServiceResponse::new(req, resp).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// Unknown routes answer JSON too, never an HTML page.
pub async fn not_found() -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    ApiError::NotFound("no such endpoint".into()).error_response()
}
