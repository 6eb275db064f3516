//! `/api/dnc`: add to, look up in and remove from the do-not-call list.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::parse_body;
use crate::app::DncEntry;
use crate::campaign::create::input::Phone;
use crate::http::auth::Tenant;
use crate::http::ApiError;
use crate::phone::E164;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DncRequest)]
struct DncRequest {
    /// E.164, e.g. `+15551234567`.
    #[schema(value_type = String)]
    number: Phone,
}

/// A number's place on the list; `detail` adds what the route has to say.
#[derive(Debug, Serialize)]
struct DncAnswer {
    number: String,
    on_list: bool,
    #[serde(flatten)]
    detail: DncDetail,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum DncDetail {
    Added {
        added: bool,
    },
    /// Null where the stored entry cannot be read.
    Entry {
        added_at: Option<DateTime<Utc>>,
        source: Option<String>,
    },
    Removed {
        removed: bool,
    },
    Nothing {},
}

fn path_number(raw: &str) -> Result<E164, ApiError> {
    Phone::parse(raw)
        .map(|p| p.0)
        .map_err(|e| ApiError::invalid("number", e.to_string()))
}

/// `POST /api/dnc` `{"number": "+1..."}`: 201 when added, 200 when it already was.
#[utoipa::path(
    post,
    path = "/api/dnc",
    tag = "dnc",
    request_body(content = DncRequest, description = "The number to put on the list"),
    responses(
        (status = 200, description = "It already was on the list", body = Object),
        (status = 201, description = "Added", body = Object),
    ),
)]
pub async fn add_dnc(service: Tenant, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let DncRequest { number } = parse_body(&body)?;
    let added = service.add_to_dnc(&number.0, "api").await?;
    let answer = DncAnswer {
        number: number.0.masked(),
        on_list: true,
        detail: DncDetail::Added { added },
    };
    Ok(if added {
        HttpResponse::Created().json(answer)
    } else {
        HttpResponse::Ok().json(answer)
    })
}

/// `GET /api/dnc/{number}`.
#[utoipa::path(
    get,
    path = "/api/dnc/{number}",
    tag = "dnc",
    params(("number" = String, Path, description = "E.164")),
    responses((status = 200, description = "Whether the number is on the list, since when and why", body = Object)),
)]
pub async fn get_dnc(service: Tenant, number: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let number = path_number(&number)?;
    let stored = service.store.dnc_get(number.as_str()).await?;
    let answer = match stored {
        Some(json) => {
            let entry: Option<DncEntry> = serde_json::from_str(&json).ok();
            DncAnswer {
                number: number.masked(),
                on_list: true,
                detail: DncDetail::Entry {
                    added_at: entry.as_ref().map(|e| e.added_at),
                    source: entry.map(|e| e.source),
                },
            }
        }
        None => DncAnswer {
            number: number.masked(),
            on_list: false,
            detail: DncDetail::Nothing {},
        },
    };
    Ok(HttpResponse::Ok().json(answer))
}

/// `DELETE /api/dnc/{number}`.
#[utoipa::path(
    delete,
    path = "/api/dnc/{number}",
    tag = "dnc",
    params(("number" = String, Path, description = "E.164")),
    responses((status = 200, description = "Removed", body = Object)),
)]
pub async fn remove_dnc(
    service: Tenant,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let number = path_number(&number)?;
    if !service.store.dnc_remove(number.as_str()).await? {
        return Err(ApiError::NotFound(format!(
            "number: {} is not on the do-not-call list",
            number.masked()
        )));
    }
    tracing::info!(number = %number.masked(), "removed from do-not-call list");
    Ok(HttpResponse::Ok().json(DncAnswer {
        number: number.masked(),
        on_list: false,
        detail: DncDetail::Removed { removed: true },
    }))
}
