//! The simulated REST API: Calls (create, update, fetch, list); messages
//! are in `messages`, phone numbers in `numbers`.

// Helpers hand back ready-made error responses; their size does not matter here.
#![allow(clippy::result_large_err)]

use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};

use crate::{callee, openapi, sid, CreateFailure, Persona, RecordedRequest, SimCall, State};

/// The call routes, relative to `/2010-04-01/Accounts/{account}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/Calls.json", web::post().to(create_call))
        .route("/Calls.json", web::get().to(list_calls))
        .route("/Calls/{sid}.json", web::post().to(update_call))
        .route("/Calls/{sid}.json", web::get().to(fetch_call));
}

pub(crate) fn error(status: u16, code: u32, message: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    }))
}

/// Basic auth with the account's token or the API key, and the right account in the path.
pub(crate) fn authorize(
    state: &State,
    req: &HttpRequest,
    account: &str,
) -> Result<(), HttpResponse> {
    let creds = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let c = &state.config;
    let ok = creds
        .as_deref()
        .and_then(|s| s.split_once(':'))
        .is_some_and(|(user, pass)| {
            (user == c.account_sid && pass == c.auth_token)
                || (Some(user) == c.api_key_sid.as_deref()
                    && Some(pass) == c.api_key_secret.as_deref())
        });
    if !ok {
        return Err(error(401, 20003, "Authenticate"));
    }
    if account != c.account_sid {
        return Err(error(404, 20404, "The requested resource was not found"));
    }
    Ok(())
}

pub(crate) fn record(
    state: &State,
    req: &HttpRequest,
    form: &[(String, String)],
    err: Option<String>,
) {
    record_at(state, req, form, err, Instant::now());
}

/// Records a request that arrived at `received_at`.
fn record_at(
    state: &State,
    req: &HttpRequest,
    form: &[(String, String)],
    err: Option<String>,
    received_at: Instant,
) {
    state
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(RecordedRequest {
            method: req.method().to_string(),
            path: req.path().to_string(),
            form: form.to_vec(),
            error: err,
            received_at,
        });
}

/// A form request checked as Twilio checks it: parsed, authorized, valid
/// against `operation` in Twilio's description, and recorded either way.
pub(crate) fn checked_form(
    state: &State,
    req: &HttpRequest,
    account: &str,
    body: &[u8],
    operation: &str,
) -> Result<Vec<(String, String)>, HttpResponse> {
    let form = parse_form(body)?;
    authorize(state, req, account)?;
    if let Err(e) = openapi::validate(operation, &form) {
        record(state, req, &form, Some(e.clone()));
        return Err(error(400, 21205, &e));
    }
    record(state, req, &form, None);
    Ok(form)
}

pub(crate) fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, HttpResponse> {
    serde_urlencoded::from_bytes(body).map_err(|_| error(400, 21201, "malformed form body"))
}

pub(crate) fn get<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub fn call_json(state: &State, call: &SimCall) -> Value {
    json!({
        "sid": call.sid,
        "account_sid": state.config.account_sid,
        "to": call.to,
        "from": call.from,
        "status": call.status,
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "date_created": call.date_created.to_rfc2822(),
        "uri": format!("/2010-04-01/Accounts/{}/Calls/{}.json", state.config.account_sid, call.sid),
    })
}

// Long on purpose: Twilio's create-call validation, rule by rule, as its documentation lists them.
async fn create_call(
    state: web::Data<State>,
    req: HttpRequest,
    account: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    // Taken first: pacing is measured by when create requests arrive.
    let received_at = Instant::now();
    let form = match parse_form(&body) {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let record = |form: &[(String, String)], err| record_at(&state, &req, form, err, received_at);
    if let Err(resp) = authorize(&state, &req, &account) {
        record(&form, Some("unauthorized".into()));
        return resp;
    }
    if let Err(e) = openapi::validate("CreateCall", &form)
        .and_then(|_| openapi::validate_path("CreateCall", "AccountSid", &account))
    {
        record(&form, Some(e.clone()));
        return error(400, 21205, &e);
    }
    let to = get(&form, "To").unwrap_or_default().to_string();
    if !crate::is_e164(&to) {
        let e = format!("The 'To' number {to} is not a valid phone number.");
        record(&form, Some(e.clone()));
        return error(400, 21211, &e);
    }
    record(&form, None);
    let persona = state
        .personas
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&to)
        .cloned()
        .unwrap_or_else(|| {
            state
                .default_persona
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        });
    if let Persona::Rejected {
        code,
        message,
        status,
    } = &persona
    {
        return error(*status, *code, message);
    }
    let failure = state
        .create_failures
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&to);
    match failure {
        Some(CreateFailure::NotPlaced) => return error(503, 20500, "Service Unavailable"),
        Some(CreateFailure::Throttled) => return error(429, 20429, "Too Many Requests"),
        Some(CreateFailure::GeoPermission) => {
            let message = format!("Account not authorized to call {to}. Perhaps you need to enable some international permissions: https://www.twilio.com/console/voice/calls/geo-permissions/low-risk");
            return error(400, 21215, &message);
        }
        Some(CreateFailure::ThrottledFor(secs)) => {
            let mut resp = error(429, 20429, "Too Many Requests");
            let value = actix_web::http::header::HeaderValue::from(secs);
            resp.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, value);
            return resp;
        }
        Some(CreateFailure::PlacedButLost | CreateFailure::PlacedButSlow(_)) | None => {}
    }
    let call = SimCall {
        sid: sid("CA"),
        to,
        from: get(&form, "From").unwrap_or_default().to_string(),
        url: get(&form, "Url").unwrap_or_default().to_string(),
        status_callback: get(&form, "StatusCallback").map(str::to_owned),
        status_callback_events: form
            .iter()
            .filter(|(k, _)| k == "StatusCallbackEvent")
            .map(|(_, v)| v.clone())
            .collect(),
        machine_detection: get(&form, "MachineDetection").map(str::to_owned),
        persona: persona.clone(),
        status: "queued".into(),
        transcript: Vec::new(),
        callbacks: Vec::new(),
        finished: false,
        ended_at: None,
        recording_started: false,
        created_at: received_at,
        date_created: chrono::Utc::now(),
    };
    let json = call_json(&state, &call);
    let sid = call.sid.clone();
    state.add_call(call);
    if persona != Persona::Manual {
        let state = state.into_inner();
        tokio::spawn(callee::run(state, sid));
    }
    if failure == Some(CreateFailure::PlacedButLost) {
        return error(500, 20500, "Internal Server Error");
    }
    if let Some(CreateFailure::PlacedButSlow(ms)) = failure {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    HttpResponse::Created().json(json)
}

async fn update_call(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (account, call_sid) = path.into_inner();
    let form = match checked_form(&state, &req, &account, &body, "UpdateCall") {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let status = get(&form, "Status").map(str::to_owned);
    let found = state.with_call(&call_sid, |c| {
        if status.is_some() && !c.finished {
            c.status = "completed".into();
        }
        c.clone()
    });
    match found {
        Some(call) => {
            if status.is_some() {
                state
                    .ended
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(call_sid);
            }
            HttpResponse::Ok().json(call_json(&state, &call))
        }
        None => error(404, 20404, "The requested resource was not found"),
    }
}

async fn fetch_call(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (account, call_sid) = path.into_inner();
    if let Err(resp) = authorize(&state, &req, &account) {
        return resp;
    }
    record(&state, &req, &[], None);
    match state.with_call(&call_sid, |c| c.clone()) {
        Some(call) => HttpResponse::Ok().json(call_json(&state, &call)),
        None => error(404, 20404, "The requested resource was not found"),
    }
}

async fn list_calls(
    state: web::Data<State>,
    req: HttpRequest,
    account: web::Path<String>,
) -> HttpResponse {
    if let Err(resp) = authorize(&state, &req, &account) {
        return resp;
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    if let Err(e) = openapi::validate_query("ListCall", &query) {
        record(&state, &req, &query, Some(e.clone()));
        return error(400, 21205, &e);
    }
    record(&state, &req, &query, None);
    let to = get(&query, "To");
    let status = get(&query, "Status");
    let calls: Vec<Value> = state
        .calls
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .rev()
        .filter(|c| to.is_none_or(|t| t == c.to) && status.is_none_or(|s| s == c.status))
        .take(50)
        .map(|c| call_json(&state, c))
        .collect();
    HttpResponse::Ok().json(json!({"calls": calls, "page": 0, "page_size": 50, "start": 0}))
}
