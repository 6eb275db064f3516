//! `GET /api/campaigns/{id}`, its paged contacts, and pause/resume/cancel.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::request;
use crate::campaign::model::Phase;
use crate::campaign::status::{self, ListQuery, Steer};
use crate::http::auth::Tenant;
use crate::http::ApiError;

/// `GET /api/campaigns/{id}`: status, counts, next scheduled dial.
pub async fn get_campaign(
    service: Tenant,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(status::view(&service, &id).await?))
}

/// `?state=&disposition=&cursor=&limit=`; an empty value counts as absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallsQuery {
    #[serde(default)]
    state: StateFilter,
    #[serde(default)]
    disposition: Option<String>,
    #[serde(default)]
    cursor: Cursor,
    #[serde(default)]
    limit: PageLimit,
}

#[derive(Debug, Default, Deserialize)]
#[serde(try_from = "String")]
struct StateFilter(Option<Phase>);

impl TryFrom<String> for StateFilter {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.is_empty() {
            return Ok(Self(None));
        }
        Phase::parse(&s)
            .map(|p| Self(Some(p)))
            .ok_or("must be one of pending, dialing, in_progress, done, canceled")
    }
}

/// Where a page starts: a `next_cursor` from the page before.
#[derive(Debug, Default, Deserialize)]
#[serde(try_from = "String")]
struct Cursor(u32);

impl TryFrom<String> for Cursor {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "" => Ok(Self(0)),
            c => c
                .parse()
                .map(Self)
                .map_err(|_| "must be a cursor returned as next_cursor"),
        }
    }
}

/// Contacts per page: 1 to 500, 50 unless asked.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct PageLimit(u32);

impl Default for PageLimit {
    fn default() -> Self {
        Self(50)
    }
}

impl TryFrom<String> for PageLimit {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "" => Ok(Self::default()),
            l => match l.parse::<u32>() {
                Ok(n @ 1..=500) => Ok(Self(n)),
                _ => Err("must be a whole number from 1 to 500"),
            },
        }
    }
}

/// The query string as a JSON object of strings, so it is read like a body.
fn query_object(req: &HttpRequest) -> Result<Value, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ApiError::invalid("query", format!("malformed query string: {e}")))?;
    let map: Map<String, Value> = pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Ok(Value::Object(map))
}

/// `GET /api/campaigns/{id}/calls?state=&disposition=&cursor=&limit=`.
pub async fn list_campaign_calls(
    service: Tenant,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q: CallsQuery = request(query_object(&req)?)?;
    let q = ListQuery {
        phase: q.state.0,
        disposition: q.disposition.filter(|d| !d.is_empty()),
        cursor: q.cursor.0,
        limit: q.limit.0,
    };
    Ok(HttpResponse::Ok().json(status::list(&service, &id, q).await?))
}

/// `POST /api/campaigns/{id}/{pause|resume|cancel}`.
pub async fn steer_campaign(
    service: Tenant,
    path: web::Path<(String, Steer)>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    Ok(HttpResponse::Ok().json(status::steer(&service, &id, action).await?))
}
