//! The HTTP surface: `/api` (JSON, bearer token), `/twilio` (signed webhooks,
//! TwiML) and health checks. Handlers are thin: parse, call the service, answer.

mod api;
mod auth;
mod error;
mod health;
mod webhooks;

use actix_web::web;

pub use error::ApiError;
pub use health::Lifecycle;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .service(
            web::scope("/api")
                // Campaigns of 100,000+ contacts arrive in one request.
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .route("/calls/outbound", web::post().to(api::create_outbound))
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
                .route("/dnc", web::post().to(api::add_dnc))
                .route("/dnc/{number}", web::get().to(api::get_dnc))
                .route("/dnc/{number}", web::delete().to(api::remove_dnc)),
        )
        .service(
            web::scope("/twilio/voice")
                .route("/incoming", web::post().to(webhooks::incoming))
                .route("/gather", web::post().to(webhooks::gather))
                .route("/status", web::post().to(webhooks::status))
                .route("/recording", web::post().to(webhooks::recording)),
        );
}

/// Unknown routes answer JSON too, never an HTML page.
pub async fn not_found() -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    ApiError::NotFound("no such endpoint".into()).error_response()
}
