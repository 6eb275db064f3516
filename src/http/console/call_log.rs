//! `/console/calls`: the call log across directions, read with
//! `app::call_log::list` as `GET /api/calls` reads it (the same filters and
//! the same cursor).

use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};

use super::campaigns::chrome;
use super::error::html;
use super::session::Viewer;
use super::templates::call_log::{self as view, Filters};
use super::templates::Section;
use super::{form, ConsoleError};
use crate::app::call_log::{self, LogQuery, DISPOSITIONS};
use crate::call::Direction;
use crate::campaign::create::input::Phone;
use crate::store::CallLogEntry;

/// Calls a page shows.
const PAGE: usize = 50;

/// `GET /console/calls?direction=&disposition=&from=&to=&since=&until=&campaign_id=&cursor=`.
pub async fn page(viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let filters: Filters = form::query(&req)?;
    let chrome = chrome(&viewer, Section::Calls);
    let q = match query(&filters) {
        Ok(q) => q,
        Err(e) => {
            let page = view::log(&filters, &[], None, Some(&e.to_string()), &chrome);
            let mut resp = HttpResponse::BadRequest();
            super::error::html_headers(&mut resp);
            return Ok(resp.body(page.into_string()));
        }
    };
    let page = call_log::list(&viewer, &viewer.store, &q).await?;
    let next = page
        .next
        .as_ref()
        .map(|entry| filters.next_page(&URL_SAFE_NO_PAD.encode(entry.member())));
    Ok(html(view::log(&filters, &page.calls, next, None, &chrome)))
}

/// The filters as the log's query; errors name the field.
fn query(f: &Filters) -> Result<LogQuery, ConsoleError> {
    let direction = f
        .direction
        .as_deref()
        .map(|d| {
            Direction::parse(d)
                .ok_or_else(|| ConsoleError::invalid("direction", "must be inbound or outbound"))
        })
        .transpose()?;
    if let Some(d) = &f.disposition {
        if !DISPOSITIONS.contains(&d.as_str()) {
            return Err(ConsoleError::invalid(
                "disposition",
                format!("must be one of {}", DISPOSITIONS.join(", ")),
            ));
        }
    }
    let phone = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| {
                Phone::parse(s).map(|p| p.0).map_err(|e| {
                    ConsoleError::invalid(field, format!("{e} (E.164, e.g. +15551234567)"))
                })
            })
            .transpose()
    };
    let since = instant("since", &f.since)?;
    let until = instant("until", &f.until)?;
    if let (Some(s), Some(u)) = (since, until) {
        if s > u {
            return Err(ConsoleError::invalid("until", "must not be before since"));
        }
    }
    let after = f
        .cursor
        .as_deref()
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|m| CallLogEntry::parse(&m))
                .ok_or_else(|| ConsoleError::invalid("cursor", "must be a link from this page"))
        })
        .transpose()?;
    Ok(LogQuery {
        direction,
        disposition: f.disposition.clone(),
        from: phone("from", &f.from)?,
        to: phone("to", &f.to)?,
        since,
        until,
        campaign_id: f.campaign_id.clone(),
        limit: PAGE,
        after,
    })
}

/// RFC 3339, or a date and time without a zone (as a browser's
/// `datetime-local` sends it), read as UTC.
pub(super) fn instant(
    field: &str,
    v: &Option<String>,
) -> Result<Option<DateTime<Utc>>, ConsoleError> {
    let Some(s) = v.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| {
            ConsoleError::invalid(field, "must be a time such as 2026-01-14T09:30 (UTC)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_the_logs_query_and_errors_name_the_field() {
        let f = Filters {
            direction: Some("outbound".into()),
            since: Some("2026-01-14T09:30".into()),
            from: Some("+15551234567".into()),
            ..Default::default()
        };
        let q = query(&f).unwrap();
        assert_eq!(q.direction, Some(Direction::Outbound));
        assert_eq!(q.since.unwrap().to_rfc3339(), "2026-01-14T09:30:00+00:00");
        let bad = Filters {
            to: Some("nope".into()),
            ..Default::default()
        };
        let e = query(&bad).unwrap_err().to_string();
        assert!(e.starts_with("to: "), "{e}");
        let bad = Filters {
            cursor: Some("x".into()),
            ..Default::default()
        };
        assert!(query(&bad).unwrap_err().to_string().starts_with("cursor: "));
    }
}
