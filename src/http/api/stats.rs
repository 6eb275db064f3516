//! `GET /api/stats`: this process's counters (for dashboards and the benchmark):
//! the callbacks it handled for the asking tenant, and its Redis round trips
//! and uptime (process figures, the same for every tenant).

use std::sync::atomic::Ordering;

use actix_web::HttpResponse;
use serde::Serialize;

use crate::http::auth::Tenant;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub callbacks_handled: u64,
    pub redis_round_trips: u64,
    pub uptime_s: f64,
}

#[utoipa::path(
    get,
    path = "/api/stats",
    tag = "stats",
    responses((status = 200, description = "This process's counters", body = Stats)),
)]
pub async fn stats(service: Tenant) -> HttpResponse {
    HttpResponse::Ok().json(Stats {
        callbacks_handled: service.callbacks.load(Ordering::Relaxed),
        redis_round_trips: service.store.round_trips(),
        uptime_s: service.started.elapsed().as_secs_f64(),
    })
}
