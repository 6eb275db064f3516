//! `/console/dnc`: the tenant's do-not-call list, changed with the functions
//! `/api/dnc` uses (`AppState::add_to_dnc`, the store's `dnc_get` and
//! `dnc_remove`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::campaigns::chrome;
use super::error::{html, see_other};
use super::session::Viewer;
use super::templates::dnc::{self as view, Entry, Lookup};
use super::templates::Section;
use super::{form, ConsoleError};
use crate::app::DncEntry;
use crate::campaign::create::input::Phone;
use crate::phone::E164;

/// Entries a page of the list asks Redis for (about; `HSCAN` may give a few more).
const PAGE: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DncQuery {
    number: Option<String>,
    cursor: Option<u64>,
}

fn entry(number: String, json: Option<&str>) -> Entry {
    let stored: Option<DncEntry> = json.and_then(|j| serde_json::from_str(j).ok());
    Entry {
        number,
        added_at: stored.as_ref().map(|e| e.added_at),
        source: stored.map(|e| e.source),
    }
}

fn number(raw: &str) -> Result<E164, ConsoleError> {
    Phone::parse(raw)
        .map(|p| p.0)
        .map_err(|e| ConsoleError::invalid("number", format!("{e} (E.164, e.g. +15551234567)")))
}

/// `GET /console/dnc?number=&cursor=`.
pub async fn page(viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let mut raw = form::fields(req.query_string())?;
    raw.retain(|_, v| v.as_str().is_some_and(|s| !s.trim().is_empty()));
    // The cursor is a number in the query string.
    if let Some(c) = raw.get_mut("cursor") {
        let n: u64 = c
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ConsoleError::invalid("cursor", "must be a link from this page"))?;
        *c = n.into();
    }
    let q: DncQuery = form::typed(raw)?;
    let lookup = match q.number.as_deref() {
        None => Lookup::None,
        Some(raw) => {
            let n = number(raw)?;
            match viewer.store.dnc_get(n.as_str()).await? {
                Some(json) => Lookup::OnList(entry(n.as_str().to_string(), Some(&json))),
                None => Lookup::NotOnList(n.as_str().to_string()),
            }
        }
    };
    let (next, pairs) = viewer.store.dnc_page(q.cursor.unwrap_or(0), PAGE).await?;
    let entries: Vec<Entry> = pairs
        .into_iter()
        .map(|(n, json)| entry(n, Some(&json)))
        .collect();
    Ok(html(view::dnc(
        q.number.as_deref(),
        &lookup,
        &entries,
        (next != 0).then_some(next),
        &chrome(&viewer, Section::Dnc),
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NumberForm {
    number: String,
}

fn back_to(number: &E164) -> HttpResponse {
    let q = serde_urlencoded::to_string([("number", number.as_str())]).unwrap_or_default();
    see_other(&format!("/console/dnc?{q}"))
}

/// `POST /console/dnc`: adds a number (source `console`).
pub async fn add(
    req: HttpRequest,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let NumberForm { number: raw } = form::posted(&req, &viewer.session, &body)?;
    let n = number(&raw)?;
    viewer.add_to_dnc(&n, "console").await?;
    Ok(back_to(&n))
}

/// `POST /console/dnc/remove`.
pub async fn remove(
    req: HttpRequest,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let NumberForm { number: raw } = form::posted(&req, &viewer.session, &body)?;
    let n = number(&raw)?;
    if viewer.store.dnc_remove(n.as_str()).await? {
        tracing::info!(number = %n.masked(), "removed from do-not-call list (console)");
    }
    Ok(back_to(&n))
}
