//! `/api/numbers`: search Twilio's inventory, buy or attach a number for the
//! tenant, list its numbers, release one.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{parse_body, query_object, request};
use crate::app::numbers::{self, Acquire, Available, OwnedNumber};
use crate::campaign::create::input::Phone;
use crate::http::auth::Tenant;
use crate::http::error::ErrorBody;
use crate::http::ApiError;
use crate::tenant::{admin, Tenants};
use crate::twilio::rest::NumberSearch;

/// `?country=&area_code=&contains=&limit=`; an empty value counts as absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    #[serde(default)]
    country: Country,
    #[serde(default)]
    area_code: Option<AreaCode>,
    #[serde(default)]
    contains: Option<Pattern>,
    #[serde(default)]
    limit: SearchLimit,
}

/// An ISO 3166-1 alpha-2 country code (`US`, `ca`); `US` unless given.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct Country(String);

impl Default for Country {
    fn default() -> Self {
        Self("US".into())
    }
}

impl TryFrom<String> for Country {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let s = s.trim().to_ascii_uppercase();
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(s))
        } else {
            Err("must be a two-letter country code, e.g. US")
        }
    }
}

/// A North American area code: three digits, the first 2-9.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "Value")]
struct AreaCode(u16);

impl TryFrom<Value> for AreaCode {
    type Error = &'static str;
    fn try_from(v: Value) -> Result<Self, Self::Error> {
        let text = match &v {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        match text.parse::<u16>() {
            Ok(n @ 200..=999) if text.len() == 3 => Ok(Self(n)),
            _ => Err("must be a three-digit area code, e.g. 415"),
        }
    }
}

/// Twilio's `Contains`: digits, letters (as on a keypad) and `*` for any digit.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct Pattern(String);

impl TryFrom<String> for Pattern {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok = (1..=16).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*');
        if ok {
            Ok(Self(s))
        } else {
            Err("must be 1 to 16 digits, letters or * (any one digit)")
        }
    }
}

/// Numbers per search: 1 to 100, 20 unless asked.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct SearchLimit(u32);

impl Default for SearchLimit {
    fn default() -> Self {
        Self(20)
    }
}

impl TryFrom<String> for SearchLimit {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.parse::<u32>() {
            Ok(n @ 1..=100) => Ok(Self(n)),
            _ => Err("must be a whole number from 1 to 100"),
        }
    }
}

#[derive(Debug, Serialize)]
struct SearchAnswer {
    numbers: Vec<Available>,
}

/// `GET /api/numbers/available`.
#[utoipa::path(
    get,
    path = "/api/numbers/available",
    tag = "numbers",
    params(
        ("country" = Option<String>, Query, description = "ISO 3166-1 alpha-2 (US)"),
        ("area_code" = Option<String>, Query, description = "Three digits"),
        ("contains" = Option<String>, Query, description = "Twilio's pattern: digits, letters, `*`"),
        ("limit" = Option<String>, Query, description = "How many to list"),
    ),
    responses(
        (status = 200, description = "Numbers on offer", body = Object),
        (status = 422, description = "Twilio refused the search", body = ErrorBody),
        (status = 502, description = "Twilio gave no clear answer", body = ErrorBody),
    ),
)]
pub async fn search_numbers(service: Tenant, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut query = query_object(&req)?;
    if let Value::Object(map) = &mut query {
        map.retain(|_, v| v.as_str().is_some_and(|s| !s.is_empty()));
    }
    let p: SearchParams = request(query)?;
    let search = NumberSearch {
        country: &p.country.0,
        area_code: p.area_code.map(|a| a.0),
        contains: p.contains.as_ref().map(|c| c.0.as_str()),
        limit: p.limit.0,
    };
    let numbers = numbers::search(&service, &search).await?;
    Ok(HttpResponse::Ok().json(SearchAnswer { numbers }))
}

/// `{"phone_number"}` or `{"area_code"}` buys; `{"phone_number", "sid"}` attaches.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcquireRequest {
    #[serde(default)]
    phone_number: Option<Phone>,
    #[serde(default)]
    area_code: Option<AreaCode>,
    #[serde(default)]
    sid: Option<NumberSid>,
}

/// A Twilio IncomingPhoneNumber sid: `PN` and 32 hex digits.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct NumberSid(String);

impl TryFrom<String> for NumberSid {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok =
            s.len() == 34 && s.starts_with("PN") && s[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(Self(s))
        } else {
            Err("must be a phone number sid: PN and 32 hex digits")
        }
    }
}

impl AcquireRequest {
    fn into_acquire(self) -> Result<Acquire, ApiError> {
        match (self.phone_number, self.area_code, self.sid) {
            (Some(_), Some(_), _) => Err(ApiError::invalid(
                "area_code",
                "give either phone_number or area_code, not both",
            )),
            (None, _, Some(_)) => Err(ApiError::invalid(
                "phone_number",
                "is required with sid (the number to attach)",
            )),
            (Some(n), None, Some(sid)) => Ok(Acquire::Attach {
                number: n.0,
                sid: sid.0,
            }),
            (Some(n), None, None) => Ok(Acquire::Buy(n.0)),
            (None, Some(code), None) => Ok(Acquire::BuyInArea(code.0)),
            (None, None, None) => Err(ApiError::invalid(
                "phone_number",
                "give phone_number (from a search) or area_code",
            )),
        }
    }
}

#[derive(Debug, Serialize)]
struct NumberAnswer {
    number: OwnedNumber,
}

/// `POST /api/numbers`: `201` with the number as set up at Twilio. Claimed
/// for the tenant, then written to its record (a caller ID of its own at once).
#[utoipa::path(
    post,
    path = "/api/numbers",
    tag = "numbers",
    request_body(content = Object, description = "Buy one (`phone_number` from a search, or `area_code`), or attach one the account holds (`phone_number` and `sid`)"),
    responses(
        (status = 201, description = "The number, pointed at this service and one of the tenant's caller IDs", body = Object),
        (status = 409, description = "The number is held by a tenant", body = ErrorBody),
        (status = 422, description = "Twilio refused", body = ErrorBody),
        (status = 502, description = "Twilio gave no clear answer", body = ErrorBody),
    ),
)]
pub async fn acquire_number(
    service: Tenant,
    tenants: web::Data<Tenants>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let how = parse_body::<AcquireRequest>(&body)?.into_acquire()?;
    let number = numbers::acquire(&service, &service.store, how).await?;
    let added = Phone::parse(&number.phone_number)
        .map_err(|e| ApiError::invalid("phone_number", e.to_string()))?;
    admin::add_number(&tenants, &service.0.tenant.id, &added.0).await?;
    Ok(HttpResponse::Created().json(NumberAnswer { number }))
}

#[derive(Debug, Serialize)]
struct ListedNumber {
    phone_number: String,
}

#[derive(Debug, Serialize)]
struct ListAnswer {
    numbers: Vec<ListedNumber>,
}

/// `GET /api/numbers`: the tenant's numbers.
#[utoipa::path(
    get,
    path = "/api/numbers",
    tag = "numbers",
    responses((status = 200, description = "The tenant's numbers", body = Object)),
)]
pub async fn list_numbers(service: Tenant) -> Result<HttpResponse, ApiError> {
    let numbers = numbers::list(&service.store)
        .await?
        .into_iter()
        .map(|phone_number| ListedNumber { phone_number })
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer { numbers }))
}

#[derive(Debug, Serialize)]
struct ReleaseAnswer {
    phone_number: String,
    released: bool,
}

/// `DELETE /api/numbers/{number}`: released at Twilio and no longer the tenant's.
#[utoipa::path(
    delete,
    path = "/api/numbers/{number}",
    tag = "numbers",
    params(("number" = String, Path, description = "E.164, one of the tenant's numbers")),
    responses(
        (status = 200, description = "Released to Twilio", body = Object),
        (status = 409, description = "The tenant's caller ID", body = ErrorBody),
        (status = 502, description = "Twilio gave no clear answer", body = ErrorBody),
    ),
)]
pub async fn release_number(
    service: Tenant,
    tenants: web::Data<Tenants>,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let number = Phone::parse(&number)
        .map(|p| p.0)
        .map_err(|e| ApiError::invalid("number", e.to_string()))?;
    numbers::release(&service, &service.store, &number).await?;
    admin::remove_number(&tenants, &service.0.tenant.id, &number).await?;
    Ok(HttpResponse::Ok().json(ReleaseAnswer {
        phone_number: number.as_str().to_string(),
        released: true,
    }))
}
