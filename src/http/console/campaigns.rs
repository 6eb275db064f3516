//! `/console/campaigns`: the list, a campaign's page and its live progress,
//! and pause / resume / cancel. Everything comes from `campaign::status`, as
//! on `/api/campaigns`.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::future::join_all;

use super::error::{html, see_other};
use super::session::Viewer;
use super::templates::campaigns::{self as view, Progress};
use super::templates::{Chrome, Section};
use super::{form, sse, ConsoleError};
use crate::app::{AppState, ServiceError};
use crate::campaign::model::Phase;
use crate::campaign::status::{self, CampaignView, ListQuery, Steer};
use crate::store::ceiling;

/// Campaigns listed, newest first.
const LISTED: usize = 50;
/// Contacts shown on a campaign's page.
const CONTACTS_SHOWN: u32 = 50;
/// Pending contacts looked at for the waiting reasons.
const WAITING_LOOKED_AT: u32 = 200;
/// How often a campaign's live progress is read.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

pub fn chrome(viewer: &Viewer, section: Section) -> Chrome<'_> {
    Chrome {
        tenant: Some(&viewer.tenant.tenant.id),
        admin: viewer.session.stored.is_admin(),
        csrf: viewer.csrf(),
        section,
    }
}

/// `GET /console/campaigns`.
pub async fn list(viewer: Viewer) -> Result<HttpResponse, ConsoleError> {
    let mut ids = viewer.store.newest_campaigns(LISTED).await?;
    // Campaigns from before the index: the live ones still show.
    for id in viewer.store.live_campaigns().await? {
        if ids.len() >= 2 * LISTED {
            break;
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mut views = Vec::new();
    for found in join_all(ids.iter().map(|id| status::view(&viewer, id))).await {
        match found {
            Ok(v) => views.push(v),
            Err(ServiceError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    views.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    Ok(html(view::list(
        &views,
        &chrome(&viewer, Section::Campaigns),
    )))
}

/// Everything a campaign's page shows, read as the API reads it.
async fn progress(app: &AppState, id: &str) -> Result<Progress, ConsoleError> {
    let campaign: CampaignView = status::view(app, id).await?;
    let pending = ListQuery {
        phase: Some(Phase::Pending),
        limit: WAITING_LOOKED_AT,
        ..Default::default()
    };
    let first = ListQuery {
        limit: CONTACTS_SHOWN,
        ..Default::default()
    };
    let (pending, first) = futures_util::future::try_join(
        status::list(app, id, pending),
        status::list(app, id, first),
    )
    .await?;
    let mut waiting: BTreeMap<&'static str, (crate::campaign::model::WaitingReason, u64)> =
        BTreeMap::new();
    for reason in pending.calls.iter().filter_map(|c| c.waiting_reason) {
        waiting
            .entry(view::reason_name(reason))
            .or_insert((reason, 0))
            .1 += 1;
    }
    let measured_rate = match campaign.settings.calls_per_second {
        Some(rate) if rate > 0.0 => {
            // The pace log holds two of its windows.
            let (_, window_ms) = ceiling(rate);
            let span_ms = 2.0 * window_ms;
            let since = app.clock.now_ms() - span_ms as i64;
            let sent = app.store.campaign_sends_since(id, since).await?;
            Some((sent as f64 * 1000.0 / span_ms, span_ms / 1000.0))
        }
        _ => None,
    };
    Ok(Progress {
        view: campaign,
        waiting: waiting.into_values().collect(),
        waiting_looked_at: (pending.calls.len(), pending.next_cursor.is_some()),
        measured_rate,
        more_contacts: first.next_cursor.is_some(),
        contacts: first.calls,
    })
}

/// `GET /console/campaigns/{id}`.
pub async fn detail(viewer: Viewer, id: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let p = progress(&viewer, &id).await?;
    Ok(html(view::detail(&p, &chrome(&viewer, Section::Campaigns))))
}

/// `GET /console/campaigns/{id}/events`: the progress part, live.
pub async fn events(
    req: HttpRequest,
    viewer: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    // Unknown or another tenant's: 404 before any stream opens.
    status::view(&viewer, &id).await?;
    let slot = sse::Slot::claim(&viewer.session.id)?;
    let app = viewer.app();
    let session = std::rc::Rc::new(viewer.session);
    let id = id.into_inner();
    Ok(sse::stream(&req, slot, PROGRESS_EVERY, move || {
        let (app, session, id) = (app.clone(), session.clone(), id.clone());
        async move {
            session.still_open().await?;
            Ok(view::progress(&progress(&app, &id).await?).into_string())
        }
    }))
}

/// `POST /console/campaigns/{id}/{pause|resume|cancel}`: as the API's, then
/// back to the campaign's page.
pub async fn steer(
    req: HttpRequest,
    viewer: Viewer,
    path: web::Path<(String, Steer)>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form::Empty {} = form::posted(&req, &viewer.session, &body)?;
    let (id, action) = path.into_inner();
    status::steer(&viewer, &id, action).await?;
    Ok(see_other(&format!("/console/campaigns/{id}")))
}
