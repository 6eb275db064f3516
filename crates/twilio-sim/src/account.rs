//! The simulated account and its phone numbers: FetchAccount and
//! ListIncomingPhoneNumber, answered in the shapes of Twilio's OpenAPI
//! description (`api.v2010.account`, `api.v2010.account.incoming_phone_number`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::rest::{authorize, error, record};
use crate::{openapi, sid, State};

/// A number the simulated account owns, with its webhook URLs.
#[derive(Clone, Debug, PartialEq)]
pub struct SimNumber {
    pub sid: String,
    pub phone_number: String,
    pub voice_url: String,
    pub status_callback: String,
}

impl SimNumber {
    /// `phone_number` (E.164) with its Voice URL and status callback.
    pub fn new(phone_number: &str, voice_url: &str, status_callback: &str) -> Self {
        Self {
            sid: sid("PN"),
            phone_number: phone_number.into(),
            voice_url: voice_url.into(),
            status_callback: status_callback.into(),
        }
    }
}

/// Registered before the `Accounts/{account}` scope of `rest`, which would
/// otherwise take these paths and answer 404.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/2010-04-01/Accounts/{account}.json",
        web::get().to(fetch_account),
    )
    .route(
        "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json",
        web::get().to(list_numbers),
    );
}

async fn fetch_account(
    state: web::Data<State>,
    req: HttpRequest,
    account: web::Path<String>,
) -> HttpResponse {
    if let Err(e) = openapi::validate_path("FetchAccount", "Sid", &account) {
        record(&state, &req, &[], Some(e.clone()));
        return error(404, 20404, "The requested resource was not found");
    }
    if let Err(resp) = authorize(&state, &req, &account) {
        return resp;
    }
    record(&state, &req, &[], None);
    let sid = &state.config.account_sid;
    let created = "Thu, 30 Jul 2015 20:00:00 +0000";
    HttpResponse::Ok().json(json!({
        "auth_token": state.config.auth_token,
        "date_created": created,
        "date_updated": created,
        "friendly_name": "callflow simulator",
        "owner_account_sid": sid,
        "sid": sid,
        "status": "active",
        "subresource_uris": {
            "calls": format!("/2010-04-01/Accounts/{sid}/Calls.json"),
            "incoming_phone_numbers": format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json"),
            "messages": format!("/2010-04-01/Accounts/{sid}/Messages.json"),
        },
        "type": "Full",
        "uri": format!("/2010-04-01/Accounts/{sid}.json"),
    }))
}

fn number_json(account_sid: &str, n: &SimNumber) -> Value {
    json!({
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "capabilities": {"voice": true, "sms": true, "mms": false, "fax": false},
        "friendly_name": n.phone_number,
        "phone_number": n.phone_number,
        "sid": n.sid,
        "sms_url": "",
        "status": "in-use",
        "status_callback": n.status_callback,
        "status_callback_method": "POST",
        "voice_method": "POST",
        "voice_url": n.voice_url,
        "uri": format!("/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{}.json", n.sid),
    })
}

async fn list_numbers(
    state: web::Data<State>,
    req: HttpRequest,
    account: web::Path<String>,
) -> HttpResponse {
    if let Err(resp) = authorize(&state, &req, &account) {
        return resp;
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    if let Err(e) = openapi::validate_query("ListIncomingPhoneNumber", &query) {
        record(&state, &req, &query, Some(e.clone()));
        return error(400, 21205, &e);
    }
    record(&state, &req, &query, None);
    let wanted = query
        .iter()
        .find(|(k, _)| k == "PhoneNumber")
        .map(|(_, v)| v.as_str());
    let sid = &state.config.account_sid;
    let numbers: Vec<Value> = state
        .numbers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|n| wanted.is_none_or(|w| w == n.phone_number))
        .map(|n| number_json(sid, n))
        .collect();
    let uri = format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PageSize=50&Page=0");
    HttpResponse::Ok().json(json!({
        "end": numbers.len().saturating_sub(1),
        "first_page_uri": uri,
        "incoming_phone_numbers": numbers,
        "next_page_uri": null,
        "page": 0,
        "page_size": 50,
        "previous_page_uri": null,
        "start": 0,
        "uri": uri,
    }))
}
