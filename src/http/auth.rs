use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use subtle::ConstantTimeEq;

use super::ApiError;
use crate::app::AppState;

/// Proof that the request carried `Authorization: Bearer <API_TOKEN>`.
/// Taking it as a handler argument is what protects an `/api` route.
pub struct Authenticated;

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(service) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::Unauthorized));
        };
        let expected = service.settings.api_token.expose().as_bytes();
        let given = req
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        let ok = !given.is_empty() && bool::from(given.as_bytes().ct_eq(expected));
        ready(if ok {
            Ok(Authenticated)
        } else {
            Err(ApiError::Unauthorized)
        })
    }
}
