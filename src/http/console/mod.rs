//! `/console`: the operator console. Server-rendered pages (`templates/`,
//! every value escaped by `maud`) with a little plain JavaScript for the
//! live parts (server-sent events, `sse.rs`). A login with a tenant's API
//! token (or a JWT), or the admin token, opens a session kept in Redis
//! (`session.rs`); every state-changing request carries the session's CSRF
//! token and comes from this site's own origin (`csrf.rs`). Pages show only
//! the session's tenant: they go through the same application functions as
//! `/api` (`campaign::status`, `app::call_log`, `app::calls`, the
//! do-not-call list), with the tenant's view of the application.

mod assets;
mod call_log;
mod calls;
mod campaigns;
mod csrf;
mod dnc;
mod error;
mod form;
mod live;
mod login;
mod notifications;
mod session;
mod sse;
mod templates;

use actix_web::{web, HttpResponse};

pub use error::ConsoleError;

/// Forms are a few fields.
const FORM_LIMIT: usize = 16 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .app_data(web::PayloadConfig::new(FORM_LIMIT))
            .route("", web::get().to(home))
            .route("/", web::get().to(home))
            .route("/assets/{name}", web::get().to(assets::asset))
            .route("/login", web::get().to(login::page))
            .route("/login", web::post().to(login::login))
            .route("/logout", web::post().to(login::logout))
            .route("/tenant", web::get().to(login::pick_page))
            .route("/tenant", web::post().to(login::pick))
            .route("/campaigns", web::get().to(campaigns::list))
            .route("/campaigns/{id}", web::get().to(campaigns::detail))
            .route("/campaigns/{id}/events", web::get().to(campaigns::events))
            .route(
                "/campaigns/{id}/{action:pause|resume|cancel}",
                web::post().to(campaigns::steer),
            )
            .route("/live", web::get().to(live::page))
            .route("/live/events", web::get().to(live::events))
            .route("/calls", web::get().to(call_log::page))
            .route("/calls/{id}", web::get().to(calls::detail))
            .route("/calls/{id}/recording", web::get().to(calls::recording))
            .route("/notifications", web::get().to(notifications::page))
            .route("/dnc", web::get().to(dnc::page))
            .route("/dnc", web::post().to(dnc::add))
            .route("/dnc/remove", web::post().to(dnc::remove))
            .default_service(web::to(not_found)),
    );
}

async fn home() -> HttpResponse {
    error::see_other("/console/campaigns")
}

async fn not_found() -> ConsoleError {
    ConsoleError::NotFound
}
