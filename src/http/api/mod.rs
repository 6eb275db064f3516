//! `/api`: JSON in, JSON out, bearer token required. Every body and query is
//! a typed request, every answer a typed response; errors name the field.

mod admin;
mod call_log;
mod calls;
mod campaigns;
mod dnc;
mod fields;
mod idempotency;
mod numbers;
mod recording;
mod stats;

use actix_web::HttpRequest;
use serde::Deserialize;
use serde_json::{Map, Value};

pub use admin::{
    create_tenant, delete_tenant, get_tenant, issue_token, list_tenants, revoke_token,
    update_tenant,
};
pub use call_log::list_calls;
pub use calls::{create_outbound, get_call};
pub use campaigns::{get_campaign, list_campaign_calls, steer_campaign};
pub use dnc::{add_dnc, get_dnc, remove_dnc};
pub use numbers::{acquire_number, list_numbers, release_number, search_numbers};
pub use recording::get_recording;
pub use stats::stats;

use super::ApiError;
use crate::campaign::create::input::from_json;

/// A JSON object body; anything else is a 400 on `body` that says why.
fn json_object(body: &[u8]) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::invalid("body", "must be a JSON object")),
        Err(e) => Err(ApiError::invalid("body", format!("malformed JSON: {e}"))),
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

/// Reads a typed request from a JSON object.
fn request<T: for<'de> Deserialize<'de>>(value: Value) -> Result<T, ApiError> {
    Ok(from_json(value, "body")?)
}

/// Reads a typed request from a JSON object body.
fn parse_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    request(json_object(body)?)
}
