//! `/api`: JSON in, JSON out, bearer token required.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::auth::Authenticated;
use super::ApiError;
use crate::app::{calls, AppState, DncEntry, NewCall, PlacedCall};
use crate::phone::E164;

const MAX_NAME_LEN: usize = 100;
const MAX_VARIABLE_LEN: usize = 500;

/// Parses a JSON object body; anything else is a 400 that says why.
fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid("body", "must be a JSON object")),
        Err(e) => Err(ApiError::invalid("body", format!("malformed JSON: {e}"))),
    }
}

fn reject_unknown(map: &Map<String, Value>, known: &[&str]) -> Result<(), ApiError> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::invalid(
            k,
            format!("unknown field (expected one of: {})", known.join(", ")),
        )),
        None => Ok(()),
    }
}

fn e164_field(map: &Map<String, Value>, field: &str) -> Result<E164, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Err(ApiError::invalid(field, "is required")),
        Some(Value::String(s)) => {
            E164::parse(s.trim()).map_err(|e| ApiError::invalid(field, e.to_string()))
        }
        Some(_) => Err(ApiError::invalid(
            field,
            "must be a string in E.164 form, e.g. +15551234567",
        )),
    }
}

fn optional_string(
    map: &Map<String, Value>,
    field: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.trim().to_string())),
        Some(Value::String(_)) => Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        Some(_) => Err(ApiError::invalid(field, "must be a string")),
    }
}

fn variables(map: &Map<String, Value>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    match map.get("variables") {
        None | Some(Value::Null) => {}
        Some(Value::Object(vars)) => {
            for (name, value) in vars {
                let field = format!("variables.{name}");
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(ApiError::invalid(
                            &field,
                            "must be a string, number or boolean",
                        ))
                    }
                };
                if text.chars().count() > MAX_VARIABLE_LEN {
                    return Err(ApiError::invalid(
                        &field,
                        format!("must be at most {MAX_VARIABLE_LEN} characters"),
                    ));
                }
                out.insert(name.clone(), text);
            }
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "variables",
                "must be an object of names to values",
            ))
        }
    }
    Ok(out)
}

/// `POST /api/calls/outbound`: place one call.
pub async fn create_outbound(
    _: Authenticated,
    service: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let map = json_object(&body)?;
    if map.contains_key("contacts") {
        if map.contains_key("to") {
            return Err(ApiError::invalid(
                "to",
                "give either `to` (one call) or `contacts` (a campaign), not both",
            ));
        }
        let created = crate::campaign::create::create(&service, &map).await?;
        return Ok(HttpResponse::Accepted().json(created));
    }
    reject_unknown(&map, &["to", "flow", "name", "variables"])?;
    let to = e164_field(&map, "to")?;
    let flow =
        optional_string(&map, "flow", 64)?.unwrap_or_else(|| service.settings.default_flow.clone());
    let name = optional_string(&map, "name", MAX_NAME_LEN)?;
    let variables = variables(&map)?;
    let new = NewCall {
        to,
        flow,
        name,
        variables,
    };
    let placed = calls::place_call(&service, new).await?;
    Ok(HttpResponse::Created().json(placed))
}

/// `GET /api/calls/{id}`: the record and its timeline; `id` may be a Twilio CallSid.
pub async fn get_call(
    _: Authenticated,
    service: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (record, version, timeline) = calls::get_call(&service, &id).await?;
    let mut call = serde_json::to_value(&record).map_err(|_| ApiError::Unavailable)?;
    call["to"] = json!(record.to.masked());
    call["from"] = json!(record.from.masked());
    call["state"] = json!(record.state.name());
    call["state_detail"] = serde_json::to_value(&record.state).unwrap_or(Value::Null);
    call["version"] = json!(version);
    Ok(HttpResponse::Ok().json(json!({
        "call": call,
        "summary": PlacedCall::from(&record),
        "timeline": timeline,
    })))
}

fn path_number(raw: &str) -> Result<E164, ApiError> {
    E164::parse(raw.trim()).map_err(|e| ApiError::invalid("number", e.to_string()))
}

/// `POST /api/dnc` `{"number": "+1..."}`: add a number to the do-not-call list.
pub async fn add_dnc(
    _: Authenticated,
    service: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let map = json_object(&body)?;
    reject_unknown(&map, &["number"])?;
    let number = e164_field(&map, "number")?;
    let added = service.add_to_dnc(&number, "api").await?;
    let body = json!({"number": number.masked(), "on_list": true, "added": added});
    Ok(if added {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// `GET /api/dnc/{number}`.
pub async fn get_dnc(
    _: Authenticated,
    service: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let number = path_number(&number)?;
    match service.store.dnc_get(number.as_str()).await? {
        Some(json) => {
            let entry: Option<DncEntry> = serde_json::from_str(&json).ok();
            Ok(HttpResponse::Ok().json(json!({
                "number": number.masked(),
                "on_list": true,
                "added_at": entry.as_ref().map(|e| e.added_at),
                "source": entry.map(|e| e.source),
            })))
        }
        None => Ok(HttpResponse::Ok().json(json!({"number": number.masked(), "on_list": false}))),
    }
}

/// `DELETE /api/dnc/{number}`.
pub async fn remove_dnc(
    _: Authenticated,
    service: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let number = path_number(&number)?;
    if service.store.dnc_remove(number.as_str()).await? {
        tracing::info!(number = %number.masked(), "removed from do-not-call list");
        Ok(HttpResponse::Ok()
            .json(json!({"number": number.masked(), "on_list": false, "removed": true})))
    } else {
        Err(ApiError::NotFound(format!(
            "number: {} is not on the do-not-call list",
            number.masked()
        )))
    }
}

/// `GET /api/campaigns/{id}`: status, counts, next scheduled dial.
pub async fn get_campaign(
    _: Authenticated,
    service: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::campaign::status::get(&service, &id).await?))
}

/// `GET /api/campaigns/{id}/calls?state=&disposition=&cursor=&limit=`.
pub async fn list_campaign_calls(
    _: Authenticated,
    service: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    use crate::campaign::model::Phase;
    if let Some(k) = query
        .keys()
        .find(|k| !["state", "disposition", "cursor", "limit"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            k,
            "unknown query parameter (expected state, disposition, cursor, limit)",
        ));
    }
    let phase = match query.get("state").map(String::as_str) {
        None | Some("") => None,
        Some(s) => Some(
            serde_json::from_value::<Phase>(Value::String(s.to_string())).map_err(|_| {
                ApiError::invalid(
                    "state",
                    "must be one of pending, dialing, in_progress, done",
                )
            })?,
        ),
    };
    let cursor = match query.get("cursor").map(String::as_str) {
        None | Some("") => 0,
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::invalid("cursor", "must be a cursor returned as next_cursor"))?,
    };
    let limit = match query.get("limit").map(String::as_str) {
        None | Some("") => 50,
        Some(l) => match l.parse::<u32>() {
            Ok(n @ 1..=500) => n,
            _ => {
                return Err(ApiError::invalid(
                    "limit",
                    "must be a whole number from 1 to 500",
                ))
            }
        },
    };
    let q = crate::campaign::status::ListQuery {
        phase,
        disposition: query.get("disposition").filter(|d| !d.is_empty()).cloned(),
        cursor,
        limit,
    };
    Ok(HttpResponse::Ok().json(crate::campaign::status::list(&service, &id, q).await?))
}

/// `POST /api/campaigns/{id}/{pause|resume|cancel}`.
pub async fn steer_campaign(
    _: Authenticated,
    service: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    Ok(HttpResponse::Ok().json(crate::campaign::status::steer(&service, &id, &action).await?))
}

/// `GET /api/stats`: this process's counters (for dashboards and the benchmark).
pub async fn stats(_: Authenticated, service: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "callbacks_handled": service.callbacks.load(std::sync::atomic::Ordering::Relaxed),
        "redis_round_trips": service.store.round_trips(),
        "uptime_s": service.started.elapsed().as_secs_f64(),
    }))
}
