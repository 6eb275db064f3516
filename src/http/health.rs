use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::AppState;

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

/// Ready only when Redis answers.
pub async fn ready(service: web::Data<AppState>) -> HttpResponse {
    match service.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"ok": true, "redis": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: redis unavailable");
            HttpResponse::ServiceUnavailable().json(json!({"ok": false, "redis": "unavailable"}))
        }
    }
}
