//! `GET /api/calls?direction=&disposition=&from=&to=&since=&until=&campaign_id=&limit=&cursor=`:
//! the tenant's calls, newest first, a page at a time.

use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{query_object, request};
use crate::app::call_log::{self, LogQuery, LoggedCall, DISPOSITIONS};
use crate::call::Direction;
use crate::campaign::create::input::Phone;
use crate::http::auth::Tenant;
use crate::http::ApiError;
use crate::phone::E164;
use crate::store::CallLogEntry;

/// The query; an empty value counts as absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogParams {
    #[serde(default)]
    direction: Option<DirectionParam>,
    #[serde(default)]
    disposition: Option<DispositionParam>,
    #[serde(default)]
    from: Option<QueryPhone>,
    #[serde(default)]
    to: Option<QueryPhone>,
    #[serde(default)]
    since: Option<Instant>,
    #[serde(default)]
    until: Option<Instant>,
    #[serde(default)]
    campaign_id: Option<String>,
    #[serde(default)]
    limit: Limit,
    #[serde(default)]
    cursor: Option<Cursor>,
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct DirectionParam(Direction);

impl TryFrom<String> for DirectionParam {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Direction::parse(&s)
            .map(Self)
            .ok_or("must be inbound or outbound")
    }
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct DispositionParam(String);

impl TryFrom<String> for DispositionParam {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if DISPOSITIONS.contains(&s.as_str()) {
            Ok(Self(s))
        } else {
            Err(format!("must be one of {}", DISPOSITIONS.join(", ")))
        }
    }
}

/// A number in E.164 form. A query string turns an unescaped `+` into a space:
/// a leading space followed by digits is read as the `+` it was.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct QueryPhone(E164);

impl TryFrom<String> for QueryPhone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let s = match s.strip_prefix(' ') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => format!("+{rest}"),
            _ => s,
        };
        Phone::parse(&s)
            .map(|p| Self(p.0))
            .map_err(|e| format!("{e} (a phone number in E.164 form, e.g. +15551234567)"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Instant(pub(super) DateTime<Utc>);

impl TryFrom<String> for Instant {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Self(t.with_timezone(&Utc)))
            .map_err(|_| "must be an RFC 3339 time, e.g. 2026-01-14T00:00:00Z")
    }
}

/// Items per page: 1 to 200, 50 unless asked.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Limit(pub(super) usize);

impl Default for Limit {
    fn default() -> Self {
        Self(50)
    }
}

impl TryFrom<String> for Limit {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.parse::<usize>() {
            Ok(n @ 1..=200) => Ok(Self(n)),
            _ => Err("must be a whole number from 1 to 200"),
        }
    }
}

/// A `next_cursor` from a page before: the log entry that page stopped at.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Cursor(pub(super) CallLogEntry);

impl TryFrom<String> for Cursor {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        URL_SAFE_NO_PAD
            .decode(s.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|m| CallLogEntry::parse(&m))
            .map(Self)
            .ok_or("must be a next_cursor returned by this endpoint")
    }
}

pub(super) fn encode_cursor(entry: &CallLogEntry) -> String {
    URL_SAFE_NO_PAD.encode(entry.member())
}

#[derive(Debug, Serialize)]
struct LogAnswer {
    calls: Vec<LoggedCall>,
    /// Where the next page starts; `null`: nothing older is left.
    next_cursor: Option<String>,
}

/// `GET /api/calls`.
#[utoipa::path(
    get,
    path = "/api/calls",
    tag = "calls",
    params(
        ("direction" = Option<String>, Query, description = "`inbound` or `outbound`"),
        ("disposition" = Option<String>, Query, description = "One disposition"),
        ("from" = Option<String>, Query, description = "The caller's number (E.164)"),
        ("to" = Option<String>, Query, description = "The number called (E.164)"),
        ("since" = Option<String>, Query, description = "RFC 3339: calls created at or after"),
        ("until" = Option<String>, Query, description = "RFC 3339: calls created at or before"),
        ("campaign_id" = Option<String>, Query, description = "The campaign's calls only"),
        ("limit" = Option<String>, Query, description = "Calls per page, 1 to 200 (50)"),
        ("cursor" = Option<String>, Query, description = "A `next_cursor` from the page before"),
    ),
    responses((status = 200, description = "`{\"calls\": [...], \"next_cursor\"}`, newest first", body = Object)),
)]
pub async fn list_calls(service: Tenant, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut query = query_object(&req)?;
    if let Value::Object(map) = &mut query {
        map.retain(|_, v| v.as_str().is_some_and(|s| !s.is_empty()));
    }
    let p: LogParams = request(query)?;
    let q = LogQuery {
        direction: p.direction.map(|d| d.0),
        disposition: p.disposition.map(|d| d.0),
        from: p.from.map(|n| n.0),
        to: p.to.map(|n| n.0),
        since: p.since.map(|t| t.0),
        until: p.until.map(|t| t.0),
        campaign_id: p.campaign_id,
        limit: p.limit.0,
        after: p.cursor.map(|c| c.0),
    };
    if let (Some(since), Some(until)) = (q.since, q.until) {
        if since > until {
            return Err(ApiError::invalid("until", "must not be before since"));
        }
    }
    let page = call_log::list(&service, &service.store, &q).await?;
    Ok(HttpResponse::Ok().json(LogAnswer {
        calls: page.calls,
        next_cursor: page.next.as_ref().map(encode_cursor),
    }))
}
