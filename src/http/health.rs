//! Liveness (`/health`) and readiness (`/ready`): ready while Redis answers and
//! the process is not shutting down.

use actix_web::{web, HttpResponse};
use serde_json::json;
use tokio::sync::watch;

use crate::app::AppState;

/// Whether the process is shutting down: the receiving end of the stop signal
/// the background tasks get (`startup::Application::stop`).
pub struct Lifecycle(pub watch::Receiver<bool>);

impl Lifecycle {
    fn stopping(&self) -> bool {
        *self.0.borrow()
    }
}

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

/// Ready only when Redis answers, and never once shutdown began (so a load
/// balancer stops sending before the listener closes).
pub async fn ready(
    service: web::Data<AppState>,
    lifecycle: Option<web::Data<Lifecycle>>,
) -> HttpResponse {
    if lifecycle.is_some_and(|l| l.stopping()) {
        return HttpResponse::ServiceUnavailable()
            .json(json!({"ok": false, "shutting_down": true}));
    }
    match service.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"ok": true, "redis": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: redis unavailable");
            HttpResponse::ServiceUnavailable().json(json!({"ok": false, "redis": "unavailable"}))
        }
    }
}
