//! `GET /metrics`: the Prometheus text page. With `METRICS_TOKEN` set it
//! requires `Authorization: Bearer <METRICS_TOKEN>` (compared in constant
//! time); without, it is open (keep it off the public listener).

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use subtle::ConstantTimeEq;

use super::ApiError;
use crate::app::AppState;
use crate::{campaign, observe};

/// How long a scrape may spend reading campaign and outbox figures from Redis;
/// past it the page is served with the figures of the last scrape.
const READ_LIMIT: Duration = Duration::from_secs(2);

fn authorized(req: &HttpRequest, service: &AppState) -> bool {
    let Some(token) = &service.settings.metrics_token else {
        return true;
    };
    let given = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    !given.is_empty() && bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))
}

pub async fn metrics(req: HttpRequest, service: web::Data<AppState>) -> HttpResponse {
    if !authorized(&req, &service) {
        return ApiError::Unauthorized.error_response();
    }
    let read = async {
        let live = campaign::gauges::live_contacts(&service).await?;
        let backlog = service.store.outbox_len().await?;
        Ok::<_, crate::app::ServiceError>((live, backlog))
    };
    match tokio::time::timeout(READ_LIMIT, read).await {
        Ok(Ok((live, backlog))) => {
            observe::set_campaigns(live.campaigns, &live.by_state);
            observe::set_outbox_backlog(backlog);
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: cannot read campaign figures"),
        Err(_) => tracing::warn!("metrics: campaign figures took too long; serving the last ones"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(observe::render())
}
