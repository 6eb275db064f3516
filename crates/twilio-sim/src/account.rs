//! The simulated account: FetchAccount, answered in the shape of Twilio's
//! OpenAPI description (`api.v2010.account`). Its phone numbers are in `numbers.rs`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::rest::{authorize, error, record};
use crate::{openapi, State};

/// Registered before the `Accounts/{account}` scope of `rest`, which would
/// otherwise take these paths and answer 404.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/2010-04-01/Accounts/{account}.json",
        web::get().to(fetch_account),
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
