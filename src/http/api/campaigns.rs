//! `GET /api/campaigns/{id}`, its paged contacts, and pause/resume/cancel.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{query_object, request};
use crate::campaign::model::Phase;
use crate::campaign::status::{self, ListQuery, Steer};
use crate::http::auth::Tenant;
use crate::http::error::ErrorBody;
use crate::http::ApiError;

/// `GET /api/campaigns/{id}`: status, counts, next scheduled dial.
#[utoipa::path(
    get,
    path = "/api/campaigns/{id}",
    tag = "campaigns",
    params(("id" = String, Path, description = "The campaign id")),
    responses((status = 200, description = "Status, counts, the next scheduled dial", body = Object)),
)]
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

/// `GET /api/campaigns/{id}/calls?state=&disposition=&cursor=&limit=`.
#[utoipa::path(
    get,
    path = "/api/campaigns/{id}/calls",
    tag = "campaigns",
    params(
        ("id" = String, Path, description = "The campaign id"),
        ("state" = Option<String>, Query, description = "The contacts in one state"),
        ("disposition" = Option<String>, Query, description = "The contacts with one disposition"),
        ("cursor" = Option<String>, Query, description = "Where the page starts"),
        ("limit" = Option<String>, Query, description = "Contacts per page"),
    ),
    responses((status = 200, description = "A page of the campaign's contacts", body = Object)),
)]
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

/// What `POST /api/campaigns/{id}/{action}` does (for the description).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum Action {
    Pause,
    Resume,
    Cancel,
}

/// `POST /api/campaigns/{id}/{pause|resume|cancel}`.
#[utoipa::path(
    post,
    path = "/api/campaigns/{id}/{action}",
    tag = "campaigns",
    params(
        ("id" = String, Path, description = "The campaign id"),
        ("action" = inline(Action), Path, description = "`pause`, `resume` or `cancel`"),
    ),
    responses(
        (status = 200, description = "The campaign after the change", body = Object),
        (status = 409, description = "Not possible in the campaign's state", body = ErrorBody),
    ),
)]
pub async fn steer_campaign(
    service: Tenant,
    path: web::Path<(String, Steer)>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    Ok(HttpResponse::Ok().json(status::steer(&service, &id, action).await?))
}
