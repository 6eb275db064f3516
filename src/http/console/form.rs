//! Reading a console form: a state-changing request's checks (origin, CSRF
//! token) first, then the typed fields (`deny_unknown_fields`), with errors
//! that name the field.

use actix_web::HttpRequest;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::csrf;
use super::session::Session;
use super::ConsoleError;

/// The fields of an `application/x-www-form-urlencoded` body or a query
/// string, as a JSON object of strings (so one deserializer reads both).
pub fn fields(raw: &str) -> Result<Map<String, Value>, ConsoleError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| ConsoleError::invalid("form", format!("cannot be read: {e}")))?;
    Ok(pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}

/// Reads a typed form from fields, naming the field that does not fit.
pub fn typed<T: DeserializeOwned>(map: Map<String, Value>) -> Result<T, ConsoleError> {
    serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "form".to_string()
        } else {
            path
        };
        ConsoleError::invalid(&field, e.inner().to_string())
    })
}

/// A typed query string; an empty value counts as absent.
pub fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ConsoleError> {
    let mut map = fields(req.query_string())?;
    map.retain(|_, v| v.as_str().is_some_and(|s| !s.trim().is_empty()));
    typed(map)
}

/// A state-changing request's body: from this site, with this session's CSRF
/// token (the `csrf` field or the `X-CSRF-Token` header), then typed.
pub fn posted<T: DeserializeOwned>(
    req: &HttpRequest,
    session: &Session,
    body: &[u8],
) -> Result<T, ConsoleError> {
    csrf::check_origin(req, session.tenants.root())?;
    let raw = std::str::from_utf8(body).map_err(|_| ConsoleError::invalid("form", "not UTF-8"))?;
    let mut map = fields(raw)?;
    let in_form = map.remove("csrf");
    let header = req
        .headers()
        .get(csrf::HEADER)
        .and_then(|h| h.to_str().ok());
    let given = in_form.as_ref().and_then(Value::as_str).or(header);
    csrf::check_token(&session.stored.csrf, given)?;
    typed(map)
}

/// A form with no fields but the CSRF token.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}
