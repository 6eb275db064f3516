//! `/console/notifications`: the texts callflow sent for the tenant, read
//! with `app::notifications::list` as `GET /api/notifications` reads it (the
//! same filters and cursor).

use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::call_log::instant;
use super::campaigns::chrome;
use super::error::html;
use super::session::Viewer;
use super::templates::notifications::{self as view, Filters};
use super::templates::Section;
use super::{form, ConsoleError};
use crate::app::notifications::{self, NotificationQuery, NotificationType};
use crate::store::{CallLogEntry, NotificationStatus};

/// Texts a page shows.
const PAGE: usize = 50;

/// `GET /console/notifications?status=&type=&since=&until=&cursor=`.
pub async fn page(viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let filters: Filters = form::query(&req)?;
    let chrome = chrome(&viewer, Section::Notifications);
    let q = match query(&filters) {
        Ok(q) => q,
        Err(e) => {
            let page = view::list(&filters, &[], None, Some(&e.to_string()), &chrome);
            let mut resp = HttpResponse::BadRequest();
            super::error::html_headers(&mut resp);
            return Ok(resp.body(page.into_string()));
        }
    };
    let page = notifications::list(&viewer, &q).await?;
    let next = page
        .next
        .as_ref()
        .map(|entry| filters.next_page(&URL_SAFE_NO_PAD.encode(entry.member())));
    Ok(html(view::list(
        &filters,
        &page.notifications,
        next,
        None,
        &chrome,
    )))
}

/// The filters as the log's query; errors name the field.
fn query(f: &Filters) -> Result<NotificationQuery, ConsoleError> {
    let status = f
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            NotificationStatus::parse(s).ok_or_else(|| {
                ConsoleError::invalid(
                    "status",
                    "must be queued, sent, delivered, undelivered or failed",
                )
            })
        })
        .transpose()?;
    let kind = f
        .kind
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|k| {
            NotificationType::parse(k).ok_or_else(|| {
                ConsoleError::invalid("type", "must be api, missed_call, follow_up or menu_text")
            })
        })
        .transpose()?;
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
    Ok(NotificationQuery {
        status,
        kind,
        since,
        until,
        limit: PAGE,
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_the_query_and_errors_name_the_field() {
        let f = Filters {
            status: Some("delivered".into()),
            kind: Some("missed_call".into()),
            ..Default::default()
        };
        let q = query(&f).unwrap();
        assert_eq!(q.status, Some(NotificationStatus::Delivered));
        assert_eq!(q.kind, Some(NotificationType::MissedCall));
        let bad = Filters {
            status: Some("lost".into()),
            ..Default::default()
        };
        assert!(query(&bad).unwrap_err().to_string().starts_with("status: "));
        let bad = Filters {
            kind: Some("fax".into()),
            ..Default::default()
        };
        assert!(query(&bad).unwrap_err().to_string().starts_with("type: "));
    }
}
