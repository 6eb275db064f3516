//! Phone numbers: the carrier's inventory (`AvailablePhoneNumbers/{Country}/Local`)
//! and the account's own numbers (`IncomingPhoneNumbers` create, update, delete,
//! list), each request validated against Twilio's OpenAPI description.
//!
//! The inventory is fake and deterministic: the same area code always offers
//! the same numbers, less those the account already holds.

// Helpers hand back ready-made error responses; their size does not matter here.
#![allow(clippy::result_large_err)]

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::rest::{authorize, checked_form, error, get, parse_form, record};
use crate::{openapi, CreateFailure, SimNumber, State};

/// Numbers on offer in each area code.
const PER_AREA_CODE: u32 = 40;
/// Area codes searched when a request names none.
const DEFAULT_AREA_CODES: [u16; 5] = [415, 212, 312, 512, 206];
/// Countries with an inventory (both in the North American plan).
const COUNTRIES: [&str; 2] = ["US", "CA"];

/// The phone-number routes, relative to `/2010-04-01/Accounts/{account}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/AvailablePhoneNumbers/{country}/Local.json",
        web::get().to(list_available),
    )
    .route("/IncomingPhoneNumbers.json", web::post().to(create_number))
    .route("/IncomingPhoneNumbers.json", web::get().to(list_numbers))
    .route(
        "/IncomingPhoneNumbers/{sid}.json",
        web::post().to(update_number),
    )
    .route(
        "/IncomingPhoneNumbers/{sid}.json",
        web::delete().to(delete_number),
    );
}

/// The numbers area code `npa` offers (whether held or not), in a fixed order.
pub(crate) fn inventory(npa: u16) -> Vec<String> {
    if !(200..=999).contains(&npa) {
        return Vec::new();
    }
    (0..PER_AREA_CODE)
        .map(|i| {
            // 37 is prime to 700: forty distinct exchanges from 200 to 899.
            let exchange = 200 + (i * 37) % 700;
            let line = (i * 7919 + u32::from(npa)) % 10_000;
            format!("+1{npa}{exchange:03}{line:04}")
        })
        .collect()
}

/// Whether the carrier would sell `number` (in its inventory).
fn in_inventory(number: &str) -> bool {
    let npa = number
        .strip_prefix("+1")
        .filter(|n| n.len() == 10)
        .and_then(|n| n[..3].parse::<u16>().ok());
    npa.is_some_and(|npa| inventory(npa).iter().any(|n| n == number))
}

/// A keypad digit for a letter of `Contains` (`STORE` -> `78673`).
fn keypad(c: char) -> Option<char> {
    let digit = match c.to_ascii_uppercase() {
        'A'..='C' => '2',
        'D'..='F' => '3',
        'G'..='I' => '4',
        'J'..='L' => '5',
        'M'..='O' => '6',
        'P'..='S' => '7',
        'T'..='V' => '8',
        'W'..='Z' => '9',
        d @ '0'..='9' => d,
        '*' => '*',
        _ => return None,
    };
    Some(digit)
}

/// Twilio's `Contains`: digits, letters (as on a keypad) and `*` (any one digit),
/// matched anywhere in the number. `None`: the pattern has another character.
fn contains_pattern(pattern: &str) -> Option<Vec<char>> {
    pattern.chars().map(keypad).collect()
}

fn matches_pattern(number: &str, pattern: &[char]) -> bool {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    pattern.is_empty()
        || digits
            .windows(pattern.len())
            .any(|w| w.iter().zip(pattern).all(|(d, p)| *p == '*' || d == p))
}

fn friendly(number: &str) -> String {
    match number.strip_prefix("+1").filter(|n| n.len() == 10) {
        Some(n) => format!("({}) {}-{}", &n[..3], &n[3..6], &n[6..]),
        None => number.to_string(),
    }
}

fn capabilities() -> Value {
    json!({"voice": true, "SMS": true, "MMS": true, "fax": false})
}

fn available_json(number: &str, country: &str) -> Value {
    json!({
        "friendly_name": friendly(number),
        "phone_number": number,
        "lata": "722",
        "locality": "Simulated",
        "rate_center": "SIMULATED",
        "latitude": "37.780000",
        "longitude": "-122.420000",
        "region": "CA",
        "postal_code": "94103",
        "iso_country": country,
        "address_requirements": "none",
        "beta": false,
        "capabilities": capabilities(),
    })
}

pub(crate) fn number_json(state: &State, n: &SimNumber) -> Value {
    let account = &state.config.account_sid;
    json!({
        "sid": n.sid,
        "account_sid": account,
        "phone_number": n.phone_number,
        "friendly_name": n.friendly_name,
        "voice_url": n.voice_url,
        "voice_method": n.voice_method,
        "sms_url": n.sms_url,
        "sms_method": n.sms_method,
        "status_callback": n.status_callback,
        "status_callback_method": n.status_callback_method,
        "api_version": "2010-04-01",
        "capabilities": capabilities(),
        "origin": "twilio",
        "status": "in-use",
        "address_requirements": "none",
        "beta": false,
        "date_created": n.date_created.to_rfc2822(),
        "date_updated": n.date_created.to_rfc2822(),
        "uri": format!("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{}.json", n.sid),
    })
}

/// A failure a test asked the next phone-number request to meet.
fn injected_failure(state: &State) -> Option<HttpResponse> {
    let failure = state
        .numbers_failure
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()?;
    Some(match failure {
        CreateFailure::Throttled => error(429, 20429, "Too Many Requests"),
        CreateFailure::ThrottledFor(secs) => {
            let mut resp = error(429, 20429, "Too Many Requests");
            let value = actix_web::http::header::HeaderValue::from(secs);
            resp.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, value);
            resp
        }
        // A number request has no "placed": a slow answer is a failed one here.
        CreateFailure::NotPlaced
        | CreateFailure::PlacedButLost
        | CreateFailure::PlacedButSlow(_) => error(503, 20500, "Service Unavailable"),
        CreateFailure::GeoPermission => error(400, 21215, "Account not authorized"),
    })
}

fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

fn is_held(state: &State, number: &str) -> bool {
    state
        .numbers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .any(|n| n.phone_number == number)
}

async fn list_available(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (account, country) = path.into_inner();
    if let Err(resp) = authorize(&state, &req, &account) {
        return resp;
    }
    let query = query_pairs(&req);
    let valid = openapi::validate_query("ListAvailablePhoneNumberLocal", &query)
        .and_then(|_| {
            openapi::validate_path("ListAvailablePhoneNumberLocal", "CountryCode", &country)
        })
        .and_then(|_| {
            contains_pattern(get(&query, "Contains").unwrap_or_default())
                .ok_or_else(|| "Contains: only digits, letters and * are allowed".to_string())
        });
    let pattern = match valid {
        Ok(p) => p,
        Err(e) => {
            record(&state, &req, &query, Some(e.clone()));
            return error(400, 21421, &e);
        }
    };
    record(&state, &req, &query, None);
    if let Some(resp) = injected_failure(&state) {
        return resp;
    }
    if !COUNTRIES.contains(&country.as_str()) {
        return error(404, 20404, "The requested resource was not found");
    }
    let area_codes: Vec<u16> = match get(&query, "AreaCode") {
        Some(code) => code.parse().ok().into_iter().collect(),
        None => DEFAULT_AREA_CODES.to_vec(),
    };
    let page_size: usize = get(&query, "PageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let numbers: Vec<Value> = area_codes
        .into_iter()
        .flat_map(inventory)
        .filter(|n| matches_pattern(n, &pattern) && !is_held(&state, n))
        .take(page_size)
        .map(|n| available_json(&n, &country))
        .collect();
    let uri = format!("/2010-04-01/Accounts/{account}/AvailablePhoneNumbers/{country}/Local.json");
    HttpResponse::Ok().json(json!({"available_phone_numbers": numbers, "uri": uri}))
}

/// Applies the URL and name fields of a create or update form.
fn apply_form(number: &mut SimNumber, form: &[(String, String)]) {
    let set = |field: &mut Option<String>, name: &str| {
        if let Some(v) = get(form, name) {
            *field = Some(v.to_string());
        }
    };
    set(&mut number.voice_url, "VoiceUrl");
    set(&mut number.voice_method, "VoiceMethod");
    set(&mut number.sms_url, "SmsUrl");
    set(&mut number.sms_method, "SmsMethod");
    set(&mut number.status_callback, "StatusCallback");
    set(&mut number.status_callback_method, "StatusCallbackMethod");
    if let Some(name) = get(form, "FriendlyName") {
        number.friendly_name = name.to_string();
    }
}

async fn create_number(
    state: web::Data<State>,
    req: HttpRequest,
    account: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = match checked_form(&state, &req, &account, &body, "CreateIncomingPhoneNumber") {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    if let Some(resp) = injected_failure(&state) {
        return resp;
    }
    let mut numbers = state.numbers.lock().unwrap_or_else(|p| p.into_inner());
    let held = |n: &str| numbers.iter().any(|h| h.phone_number == n);
    let phone_number = match (get(&form, "PhoneNumber"), get(&form, "AreaCode")) {
        (Some(n), None) if in_inventory(n) && !held(n) => n.to_string(),
        (Some(n), None) => {
            let message = format!("Phone number {n} is not available");
            return error(400, 21422, &message);
        }
        (None, Some(code)) => {
            let found = code
                .parse::<u16>()
                .ok()
                .and_then(|npa| inventory(npa).into_iter().find(|n| !held(n)));
            match found {
                Some(n) => n,
                None => {
                    let message = format!("No phone numbers found in area code {code}");
                    return error(400, 21452, &message);
                }
            }
        }
        _ => {
            return error(
                400,
                21421,
                "exactly one of PhoneNumber or AreaCode is required",
            )
        }
    };
    let mut number = SimNumber::new(&phone_number);
    apply_form(&mut number, &form);
    let json = number_json(&state, &number);
    numbers.push(number);
    HttpResponse::Created().json(json)
}

async fn update_number(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (account, number_sid) = path.into_inner();
    let form = match parse_form(&body) {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    if let Err(resp) = authorize(&state, &req, &account) {
        return resp;
    }
    if let Err(e) = openapi::validate("UpdateIncomingPhoneNumber", &form)
        .and_then(|_| openapi::validate_path("UpdateIncomingPhoneNumber", "Sid", &number_sid))
    {
        record(&state, &req, &form, Some(e.clone()));
        return error(400, 21205, &e);
    }
    record(&state, &req, &form, None);
    if let Some(resp) = injected_failure(&state) {
        return resp;
    }
    let mut numbers = state.numbers.lock().unwrap_or_else(|p| p.into_inner());
    match numbers.iter_mut().find(|n| n.sid == number_sid) {
        Some(number) => {
            apply_form(number, &form);
            let json = number_json(&state, number);
            HttpResponse::Ok().json(json)
        }
        None => error(404, 20404, "The requested resource was not found"),
    }
}

async fn delete_number(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (account, number_sid) = path.into_inner();
    if let Err(resp) = authorize(&state, &req, &account) {
        return resp;
    }
    if let Err(e) = openapi::validate_path("DeleteIncomingPhoneNumber", "Sid", &number_sid) {
        record(&state, &req, &[], Some(e.clone()));
        return error(400, 21205, &e);
    }
    record(&state, &req, &[], None);
    if let Some(resp) = injected_failure(&state) {
        return resp;
    }
    let mut numbers = state.numbers.lock().unwrap_or_else(|p| p.into_inner());
    let before = numbers.len();
    numbers.retain(|n| n.sid != number_sid);
    if numbers.len() == before {
        return error(404, 20404, "The requested resource was not found");
    }
    HttpResponse::NoContent().finish()
}

async fn list_numbers(
    state: web::Data<State>,
    req: HttpRequest,
    account: web::Path<String>,
) -> HttpResponse {
    if let Err(resp) = authorize(&state, &req, &account) {
        return resp;
    }
    let query = query_pairs(&req);
    if let Err(e) = openapi::validate_query("ListIncomingPhoneNumber", &query) {
        record(&state, &req, &query, Some(e.clone()));
        return error(400, 21205, &e);
    }
    record(&state, &req, &query, None);
    if let Some(resp) = injected_failure(&state) {
        return resp;
    }
    // Twilio matches a part of the number: its digits (and `*`), the `+` aside.
    let wanted = get(&query, "PhoneNumber")
        .map(|p| p.replace('+', ""))
        .and_then(|p| contains_pattern(&p))
        .unwrap_or_default();
    let page_size: usize = get(&query, "PageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let numbers: Vec<Value> = state
        .numbers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|n| matches_pattern(&n.phone_number, &wanted))
        .take(page_size)
        .map(|n| number_json(&state, n))
        .collect();
    HttpResponse::Ok().json(json!({
        "incoming_phone_numbers": numbers,
        "page": 0,
        "page_size": page_size,
        "start": 0,
        "next_page_uri": null,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_is_fixed_per_area_code_and_distinct() {
        let a = inventory(415);
        assert_eq!(a, inventory(415));
        assert_eq!(a.len(), PER_AREA_CODE as usize);
        let mut sorted = a.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), a.len());
        assert!(a.iter().all(|n| n.starts_with("+1415") && n.len() == 12));
        assert!(in_inventory(&a[3]));
        assert!(!in_inventory("+14155550000"));
        assert!(inventory(99).is_empty());
    }

    #[test]
    fn contains_matches_digits_letters_and_wildcards() {
        let p = |s: &str| contains_pattern(s).unwrap();
        assert!(matches_pattern("+14152000415", &p("2000")));
        assert!(matches_pattern("+14152000415", &p("2**0")));
        assert!(matches_pattern("+14152223333", &p("ABC")));
        assert!(!matches_pattern("+14152000415", &p("999")));
        assert!(contains_pattern("12-3").is_none());
    }
}
