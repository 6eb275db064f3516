//! `/api`: JSON in, JSON out, bearer token required. Every body and query is
//! a typed request, every answer a typed response; errors name the field.

mod admin;
mod call_log;
mod calls;
mod campaigns;
mod dnc;
mod docs;
mod docs_page;
mod fields;
mod idempotency;
mod inbound_call;
mod notifications;
mod numbers;
mod recording;
mod sms;
mod stats;

use actix_web::http::Method;
use actix_web::{guard, web, HttpRequest};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use docs::document;

use super::ApiError;
use crate::campaign::create::input::from_json;

/// Every `/api` route in one table: [`mount`] serves them, [`ROUTES`] lists
/// them and [`Paths`] documents them from each handler's `#[utoipa::path]`
/// (a handler without one does not compile here). A new route is one line
/// here plus its handler's annotation. `limit` sets the route's body limit.
macro_rules! api_routes {
    ($($method:ident $path:literal $(limit $limit:expr)? => $handler:path;)*) => {
        /// Mounts every route of the table on the `/api` scope.
        pub fn mount(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        .guard(guard::Method(Method::$method))
                        $(.app_data(web::PayloadConfig::new($limit)))?
                        .route(web::method(Method::$method).to($handler)),
                );
            )*
        }

        /// Method and path (under `/api`, as mounted) of every route.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// The operations of every route, from the handlers' annotations.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($handler),*))]
        pub struct Paths;
    };
}

api_routes! {
    POST "/admin/tenants" => admin::create_tenant;
    GET "/admin/tenants" => admin::list_tenants;
    GET "/admin/tenants/{id}" => admin::get_tenant;
    PATCH "/admin/tenants/{id}" => admin::update_tenant;
    DELETE "/admin/tenants/{id}" => admin::delete_tenant;
    POST "/admin/tenants/{id}/tokens" => admin::issue_token;
    DELETE "/admin/tenants/{id}/tokens/{token_id}" => admin::revoke_token;
    POST "/calls/outbound" => calls::create_outbound;
    GET "/calls" => call_log::list_calls;
    GET "/stats" => stats::stats;
    GET "/campaigns/{id}" => campaigns::get_campaign;
    GET "/campaigns/{id}/calls" => campaigns::list_campaign_calls;
    POST "/campaigns/{id}/{action:pause|resume|cancel}" => campaigns::steer_campaign;
    GET "/calls/{id}" => calls::get_call;
    GET "/calls/{id}/recording" => recording::get_recording;
    // A number to list: no reason to read megabytes for it.
    POST "/dnc" limit super::SMALL_BODY_LIMIT => dnc::add_dnc;
    GET "/dnc/{number}" => dnc::get_dnc;
    DELETE "/dnc/{number}" => dnc::remove_dnc;
    GET "/numbers/available" => numbers::search_numbers;
    GET "/numbers" => numbers::list_numbers;
    POST "/numbers" => numbers::acquire_number;
    DELETE "/numbers/{number}" => numbers::release_number;
    // A text is at most 1,600 characters.
    POST "/sms" limit super::SMALL_BODY_LIMIT => sms::send_sms;
    GET "/notifications" => notifications::list_notifications;
    GET "/notifications/{id}" => notifications::get_notification;
    GET "/openapi.json" => docs::openapi_json;
    GET "/docs" => docs::docs_page;
}

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
