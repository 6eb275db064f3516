//! `GET /metrics`: the Prometheus text page. With `METRICS_TOKEN` set it
//! requires `Authorization: Bearer <METRICS_TOKEN>` (compared in constant
//! time); without, it is open (keep it off the public listener).

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use subtle::ConstantTimeEq;

use super::ApiError;
use crate::app::{AppState, ServiceError};
use crate::tenant::Tenants;
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

/// The figures of every tenant this instance serves.
async fn read(tenants: &Tenants) -> Result<(campaign::gauges::LiveContacts, u64), ServiceError> {
    let views = tenants.all();
    let live = campaign::gauges::live_contacts(views.iter().map(|v| v.app.as_ref())).await?;
    let mut backlog = 0;
    for view in &views {
        backlog += view.app.store.outbox_len().await?;
    }
    Ok((live, backlog))
}

pub async fn metrics(
    req: HttpRequest,
    service: web::Data<AppState>,
    tenants: web::Data<Tenants>,
) -> HttpResponse {
    if !authorized(&req, &service) {
        return ApiError::Unauthorized.error_response();
    }
    match tokio::time::timeout(READ_LIMIT, read(&tenants)).await {
        Ok(Ok((live, backlog))) => {
            observe::set_campaigns(live.campaigns, &live.by_state());
            observe::set_outbox_backlog(backlog);
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: cannot read campaign figures"),
        Err(_) => tracing::warn!("metrics: campaign figures took too long; serving the last ones"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(observe::render())
}
