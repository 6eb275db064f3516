//! `GET /api/notifications?status=&type=&since=&until=&limit=&cursor=` (the
//! tenant's texts, newest first, a page at a time, like `GET /api/calls`)
//! and `GET /api/notifications/{id}`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::call_log::{encode_cursor, Cursor, Instant, Limit};
use super::{query_object, request};
use crate::app::notifications::{self, Notification, NotificationQuery, NotificationType};
use crate::http::auth::Tenant;
use crate::http::ApiError;
use crate::store::NotificationStatus;

/// The query; an empty value counts as absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(default)]
    status: Option<StatusParam>,
    #[serde(default, rename = "type")]
    kind: Option<TypeParam>,
    #[serde(default)]
    since: Option<Instant>,
    #[serde(default)]
    until: Option<Instant>,
    #[serde(default)]
    limit: Limit,
    #[serde(default)]
    cursor: Option<Cursor>,
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct StatusParam(NotificationStatus);

impl TryFrom<String> for StatusParam {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        NotificationStatus::parse(&s)
            .map(Self)
            .ok_or("must be queued, sent, delivered, undelivered or failed")
    }
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct TypeParam(NotificationType);

impl TryFrom<String> for TypeParam {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        NotificationType::parse(&s)
            .map(Self)
            .ok_or("must be api, missed_call, follow_up or menu_text")
    }
}

#[derive(Debug, Serialize)]
struct ListAnswer {
    notifications: Vec<Notification>,
    /// Where the next page starts; `null`: nothing older is left.
    next_cursor: Option<String>,
}

/// `GET /api/notifications`.
#[utoipa::path(
    get,
    path = "/api/notifications",
    tag = "sms",
    params(
        ("status" = Option<String>, Query, description = "queued, sent, delivered, undelivered or failed"),
        ("type" = Option<String>, Query, description = "api, missed_call, follow_up or menu_text"),
        ("since" = Option<String>, Query, description = "RFC 3339: created at or after"),
        ("until" = Option<String>, Query, description = "RFC 3339: created at or before"),
        ("limit" = Option<u32>, Query, description = "1 to 200 (default 50)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses((status = 200, description = "The tenant's texts, newest first, and the next page's cursor", body = Object)),
)]
pub async fn list_notifications(
    service: Tenant,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut query = query_object(&req)?;
    if let Value::Object(map) = &mut query {
        map.retain(|_, v| v.as_str().is_some_and(|s| !s.is_empty()));
    }
    let p: ListParams = request(query)?;
    let q = NotificationQuery {
        status: p.status.map(|s| s.0),
        kind: p.kind.map(|k| k.0),
        since: p.since.map(|t| t.0),
        until: p.until.map(|t| t.0),
        limit: p.limit.0,
        after: p.cursor.map(|c| c.0),
    };
    if let (Some(since), Some(until)) = (q.since, q.until) {
        if since > until {
            return Err(ApiError::invalid("until", "must not be before since"));
        }
    }
    let page = notifications::list(&service, &q).await?;
    Ok(HttpResponse::Ok().json(ListAnswer {
        notifications: page.notifications,
        next_cursor: page.next.as_ref().map(encode_cursor),
    }))
}

/// `GET /api/notifications/{id}`: another tenant's id is not found.
#[utoipa::path(
    get,
    path = "/api/notifications/{id}",
    tag = "sms",
    params(("id" = String, Path, description = "The notification id")),
    responses((status = 200, description = "The text: recipient, body, template, status with Twilio's error, timestamps", body = Object)),
)]
pub async fn get_notification(
    service: Tenant,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let notification = notifications::get(&service, &id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "notification": notification })))
}
