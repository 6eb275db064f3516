//! `/console/live`: the tenant's calls in progress, updated live over
//! server-sent events. Found from the call log with bounded work: one page of
//! the log's recent entries ([`LOOK_BACK`], at most [`LOG_PAGE`] calls), then
//! the records of at most [`SHOWN`] calls in progress for their state.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse};
use futures_util::future::join_all;

use super::campaigns::chrome;
use super::error::html;
use super::session::Viewer;
use super::templates::live::{self as view, LiveCall};
use super::templates::Section;
use super::{sse, ConsoleError};
use crate::app::call_log::{self, LogQuery};
use crate::app::{calls, AppState};

/// How far back a call in progress may have started.
const LOOK_BACK: chrono::Duration = chrono::Duration::hours(4);
/// Log entries read per look.
const LOG_PAGE: usize = 200;
/// Calls in progress shown at most.
const SHOWN: usize = 50;
/// How often the list is read while the page is open.
const EVERY: Duration = Duration::from_secs(1);

const IN_PROGRESS: [&str; 4] = ["queued", "initiated", "ringing", "in-progress"];

async fn live_calls(app: &AppState) -> Result<Vec<LiveCall>, ConsoleError> {
    let now = app.clock.now();
    let q = LogQuery {
        since: Some(now - LOOK_BACK),
        limit: LOG_PAGE,
        ..Default::default()
    };
    let page = call_log::list(app, &app.store, &q).await?;
    let active: Vec<_> = page
        .calls
        .into_iter()
        .filter(|c| IN_PROGRESS.contains(&c.status.as_str()))
        .take(SHOWN)
        .collect();
    let records = join_all(active.iter().map(|c| calls::record(app, &c.call_id))).await;
    Ok(active
        .into_iter()
        .zip(records)
        .map(|(c, record)| LiveCall {
            state: record.ok().map(|r| r.state.name()),
            elapsed_secs: (now - c.started_at).num_seconds(),
            direction: c.direction.as_str(),
            call_id: c.call_id,
            from: c.from_number,
            to: c.to_number,
            status: c.status,
            started_at: c.started_at,
            campaign_id: c.campaign_id,
        })
        .collect())
}

/// `GET /console/live`.
pub async fn page(viewer: Viewer) -> Result<HttpResponse, ConsoleError> {
    let calls = live_calls(&viewer).await?;
    Ok(html(view::page_of(&calls, &chrome(&viewer, Section::Live))))
}

/// `GET /console/live/events`: the table, as it changes.
pub async fn events(req: HttpRequest, viewer: Viewer) -> Result<HttpResponse, ConsoleError> {
    let slot = sse::Slot::claim(&viewer.session.id)?;
    let app = viewer.app();
    let session = std::rc::Rc::new(viewer.session);
    Ok(sse::stream(&req, slot, EVERY, move || {
        let (app, session) = (app.clone(), session.clone());
        async move {
            session.still_open().await?;
            Ok(view::table(&live_calls(&app).await?).into_string())
        }
    }))
}
