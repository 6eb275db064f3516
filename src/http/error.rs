//! The API's error: every failure a handler can meet, mapped in one place
//! ([`ApiError::reply`]) to a status and a JSON body that names the field.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::ServiceError;
use crate::campaign::create::input::FieldError;
use crate::campaign::status::CampaignError;
use crate::store::StoreError;

/// Wraps the errors of the layers below; it mirrors none of their variants.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request itself: malformed JSON or a field that cannot be used.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// Something the HTTP layer looked for (a route, a list entry) is not there.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    /// The body is over the route's limit; it was not read.
    #[error("{0}")]
    TooLarge(String),
}

impl ApiError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid(FieldError::new(field, reason))
    }

    pub fn too_large(message: String) -> Self {
        Self::TooLarge(message)
    }

    /// The status and body for this error: the one mapping of errors to HTTP.
    fn reply(&self) -> (StatusCode, ErrorDetail<'_>) {
        let service = match self {
            ApiError::Invalid(e) => return (StatusCode::BAD_REQUEST, invalid(e)),
            ApiError::Unauthorized => {
                let detail = ErrorDetail::new("unauthorized", self.to_string());
                return (StatusCode::UNAUTHORIZED, detail);
            }
            ApiError::NotFound(m) => return not_found(m.clone()),
            ApiError::TooLarge(m) => {
                let detail = ErrorDetail {
                    field: Some("body"),
                    ..ErrorDetail::new("payload_too_large", m.clone())
                };
                return (StatusCode::PAYLOAD_TOO_LARGE, detail);
            }
            ApiError::Campaign(e @ CampaignError::Refused { .. }) => {
                return (
                    StatusCode::CONFLICT,
                    ErrorDetail::new("conflict", e.to_string()),
                )
            }
            ApiError::Campaign(CampaignError::Service(e)) | ApiError::Service(e) => e,
        };
        match service {
            ServiceError::Store(e) => unavailable(e),
            ServiceError::Invalid { field, reason } => (
                StatusCode::BAD_REQUEST,
                ErrorDetail {
                    field: Some(field),
                    ..ErrorDetail::new("invalid_request", format!("{field}: {reason}"))
                },
            ),
            ServiceError::UnknownFlow(flow) => not_found(format!("flow: '{flow}' does not exist")),
            e @ (ServiceError::DoNotCall(_) | ServiceError::Contended) => {
                (StatusCode::CONFLICT, ErrorDetail::new("conflict", e.to_string()))
            }
            ServiceError::TwilioRejected {
                call_id,
                code,
                message,
            } => (
                StatusCode::BAD_GATEWAY,
                ErrorDetail {
                    twilio_code: Some(*code),
                    call_id: Some(call_id),
                    status: Some("failed"),
                    ..ErrorDetail::new("twilio_rejected", message.clone())
                },
            ),
            ServiceError::TwilioUncertain { call_id, message } => (
                StatusCode::BAD_GATEWAY,
                ErrorDetail {
                    call_id: Some(call_id),
                    ..ErrorDetail::new(
                        "twilio_uncertain",
                        format!("{message}; the call may still be placed and will be reconciled from its callbacks"),
                    )
                },
            ),
            ServiceError::NotFound => not_found("not found".into()),
        }
    }
}

fn invalid(e: &FieldError) -> ErrorDetail<'_> {
    ErrorDetail {
        field: Some(&e.field),
        ..ErrorDetail::new("invalid_request", e.to_string())
    }
}

fn not_found(message: String) -> (StatusCode, ErrorDetail<'static>) {
    (
        StatusCode::NOT_FOUND,
        ErrorDetail::new("not_found", message),
    )
}

fn unavailable(_: &StoreError) -> (StatusCode, ErrorDetail<'static>) {
    let detail = ErrorDetail::new("unavailable", "storage unavailable".into());
    (StatusCode::SERVICE_UNAVAILABLE, detail)
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Service(e.into())
    }
}

/// `{"error": {...}}`
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Present (possibly null) on `twilio_rejected` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    twilio_code: Option<Option<u64>>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

impl ErrorDetail<'_> {
    fn new(code: &'static str, message: String) -> Self {
        Self {
            code,
            field: None,
            twilio_code: None,
            message,
            call_id: None,
            status: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.reply().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, error) = self.reply();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(error = %self, "store error");
        }
        let mut resp = HttpResponse::build(status);
        if matches!(self, ApiError::Unauthorized) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        resp.json(ErrorBody { error })
    }
}
