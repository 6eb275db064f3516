//! The API's error: every failure a handler can meet, mapped in one place
//! ([`ApiError::reply`]) to a status and a JSON body that names the field.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::dial_gate::Hold;
use crate::app::numbers::NumbersError;
use crate::app::recording::RecordingError;
use crate::app::ServiceError;
use crate::campaign::create::input::FieldError;
use crate::campaign::status::CampaignError;
use crate::store::StoreError;
use crate::tenant::admin::TenantError;

/// Wraps the errors of the layers below; it mirrors none of their variants.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request itself: malformed JSON or a field that cannot be used.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("the bearer token has expired")]
    TokenExpired,
    /// Over the API rate limit of this token or client address.
    #[error("too many requests; try again after Retry-After")]
    RateLimited { retry_after_secs: u64 },
    /// A well-formed field naming something the tenant may not use.
    #[error("{field}: {reason}")]
    Unprocessable { field: &'static str, reason: String },
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// Something the HTTP layer looked for (a route, a list entry) is not there.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    #[error(transparent)]
    Numbers(#[from] NumbersError),
    #[error(transparent)]
    Recording(#[from] RecordingError),
    /// The body is over the route's limit; it was not read.
    #[error("{0}")]
    TooLarge(String),
    /// A text refused (do-not-call).
    #[error(transparent)]
    Sms(crate::sms::SmsError),
    /// An answer of the HTTP layer itself (an unreadable payload, a method or
    /// media type it does not take), in the API's shape.
    #[error("{message}")]
    Http { status: StatusCode, message: String },
    /// An `Idempotency-Key` used before with another body.
    #[error("Idempotency-Key: this key was used with a different request body")]
    KeyReused,
    /// The first request with this `Idempotency-Key` is still running.
    #[error("a request with this Idempotency-Key is still in progress; try again shortly")]
    InProgress {
        call_id: Option<String>,
        retry_after_secs: u64,
    },
}

impl ApiError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid(FieldError::new(field, reason))
    }

    pub fn too_large(message: String) -> Self {
        Self::TooLarge(message)
    }

    /// An error answer the HTTP layer made with `status` (and maybe a reason).
    pub fn from_status(status: StatusCode, message: Option<String>) -> Self {
        let message = message
            .filter(|m| !m.is_empty())
            .or_else(|| status.canonical_reason().map(|r| r.to_lowercase()))
            .unwrap_or_else(|| "request failed".into());
        Self::Http { status, message }
    }

    /// The status and body for this error: the one mapping of errors to HTTP.
    fn reply(&self) -> (StatusCode, ErrorDetail<'_>) {
        let service = match self {
            ApiError::Invalid(e) => return (StatusCode::BAD_REQUEST, invalid(e)),
            ApiError::Unauthorized => {
                let detail = ErrorDetail::new("unauthorized", self.to_string());
                return (StatusCode::UNAUTHORIZED, detail);
            }
            ApiError::TokenExpired => {
                let detail = ErrorDetail::new("token_expired", self.to_string());
                return (StatusCode::UNAUTHORIZED, detail);
            }
            ApiError::RateLimited { .. } => {
                let detail = ErrorDetail::new("rate_limited", self.to_string());
                return (StatusCode::TOO_MANY_REQUESTS, detail);
            }
            ApiError::Unprocessable { field, .. } => {
                let detail = ErrorDetail {
                    field: Some(field),
                    ..ErrorDetail::new("unprocessable", self.to_string())
                };
                return (StatusCode::UNPROCESSABLE_ENTITY, detail);
            }
            ApiError::Tenant(e) => return tenant_error(e),
            ApiError::NotFound(m) => return not_found(m.clone()),
            ApiError::Http { status, .. } => {
                let code = match status.as_u16() {
                    404 => "not_found",
                    405 => "method_not_allowed",
                    408 => "request_timeout",
                    411 => "length_required",
                    415 => "unsupported_media_type",
                    s if s >= 500 => "internal",
                    _ => "invalid_request",
                };
                return (*status, ErrorDetail::new(code, self.to_string()));
            }
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
            ApiError::Sms(e) => {
                let detail = ErrorDetail {
                    field: Some("to"),
                    ..ErrorDetail::new("conflict", e.to_string())
                };
                return (StatusCode::CONFLICT, detail);
            }
            ApiError::KeyReused => {
                let detail = ErrorDetail {
                    field: Some("Idempotency-Key"),
                    ..ErrorDetail::new("idempotency_key_reused", self.to_string())
                };
                return (StatusCode::UNPROCESSABLE_ENTITY, detail);
            }
            ApiError::InProgress { call_id, .. } => {
                let detail = ErrorDetail {
                    call_id: call_id.as_deref(),
                    ..ErrorDetail::new("request_in_progress", self.to_string())
                };
                return (StatusCode::CONFLICT, detail);
            }
            ApiError::Numbers(e) => return numbers_reply(e),
            ApiError::Recording(RecordingError::NotFound) => return not_found(self.to_string()),
            ApiError::Recording(RecordingError::Upstream(_)) => {
                let detail = ErrorDetail::new("twilio_unavailable", self.to_string());
                return (StatusCode::BAD_GATEWAY, detail);
            }
            ApiError::Campaign(CampaignError::Service(e))
            | ApiError::Service(e)
            | ApiError::Recording(RecordingError::Service(e)) => e,
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
            ServiceError::Unprocessable { field, reason } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorDetail {
                    field: Some(field),
                    ..ErrorDetail::new("unprocessable", format!("{field}: {reason}"))
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
            ServiceError::TwilioThrottled {
                call_id, message, ..
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorDetail {
                    call_id: Some(call_id),
                    status: Some("failed"),
                    ..ErrorDetail::new(
                        "twilio_rate_limited",
                        format!("{message}; nothing was placed, try again after Retry-After"),
                    )
                },
            ),
            e @ ServiceError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorDetail::new(
                    "rate_limited",
                    format!("{e}; nothing was dialed, try again after Retry-After"),
                ),
            ),
            ServiceError::Unrecorded { call_id, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorDetail {
                    call_id: Some(call_id),
                    ..ErrorDetail::new(
                        "unavailable",
                        "storage unavailable after the call was sent to Twilio; it is settled by its own callbacks".into(),
                    )
                },
            ),
            // Its end is not known in advance: no next_allowed_at, a Retry-After.
            ServiceError::Held {
                reason: Hold::CallInProgress,
                ..
            } => (
                StatusCode::CONFLICT,
                ErrorDetail {
                    field: Some("to"),
                    ..ErrorDetail::new(
                        "call_in_progress",
                        format!(
                            "to: {}; nothing was dialed, try again once it is over",
                            Hold::CallInProgress.describe()
                        ),
                    )
                },
            ),
            ServiceError::Held {
                reason,
                next_allowed_at,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorDetail {
                    field: Some("to"),
                    next_allowed_at: Some(next_allowed_at.to_rfc3339()),
                    ..ErrorDetail::new(
                        match reason {
                            Hold::FrequencyCap => "frequency_cap",
                            Hold::OutsideWindow | Hold::StateRule(_) => "outside_calling_window",
                            Hold::CallInProgress => "call_in_progress",
                        },
                        format!("{service}; nothing was dialed (send \"schedule\": \"next_window\" to have it dialed then)"),
                    )
                },
            ),
            ServiceError::NotFound => not_found("not found".into()),
            ServiceError::TooLate => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorDetail::new("unavailable", "storage unavailable".into()),
            ),
        }
    }

    /// Seconds to send as `Retry-After`, for answers that invite a retry.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::InProgress {
                retry_after_secs, ..
            }
            | ApiError::RateLimited { retry_after_secs }
            | ApiError::Service(ServiceError::RateLimited { retry_after_secs })
            | ApiError::Service(ServiceError::TwilioThrottled {
                retry_after_secs, ..
            })
            | ApiError::Numbers(NumbersError::Throttled {
                retry_after_secs, ..
            }) => Some(*retry_after_secs),
            ApiError::Service(ServiceError::Held {
                reason: Hold::CallInProgress,
                ..
            }) => Some(crate::app::dial_gate::BUSY_RECHECK.num_seconds() as u64),
            _ => None,
        }
    }

    /// The status and JSON body of this error, as sent (for answers kept under
    /// an idempotency key).
    pub fn parts(&self) -> (StatusCode, Vec<u8>) {
        let (status, error) = self.reply();
        let body = serde_json::to_vec(&ErrorBody { error }).expect("errors serialize");
        (status, body)
    }
}

/// The answers of `/api/numbers`.
fn numbers_reply(e: &NumbersError) -> (StatusCode, ErrorDetail<'_>) {
    let with_field = |status, code, field| {
        let detail = ErrorDetail {
            field: Some(field),
            ..ErrorDetail::new(code, e.to_string())
        };
        (status, detail)
    };
    match e {
        NumbersError::HeldElsewhere(_) | NumbersError::AlreadyYours(_) => {
            with_field(StatusCode::CONFLICT, "conflict", "phone_number")
        }
        NumbersError::CallerId(_) => with_field(StatusCode::CONFLICT, "conflict", "number"),
        NumbersError::NotYours(_) => with_field(StatusCode::NOT_FOUND, "not_found", "number"),
        NumbersError::NotInAccount(_) => {
            with_field(StatusCode::NOT_FOUND, "not_found", "phone_number")
        }
        NumbersError::SidMismatch { .. } => {
            with_field(StatusCode::BAD_REQUEST, "invalid_request", "sid")
        }
        NumbersError::Refused { status, code, .. } => {
            // About the request (not available, no numbers there): 422; about
            // the account or credentials: Twilio's problem to us, 502.
            let status = match status {
                400 | 404 | 409 | 422 => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_GATEWAY,
            };
            let detail = ErrorDetail {
                twilio_code: Some(*code),
                ..ErrorDetail::new("twilio_rejected", e.to_string())
            };
            (status, detail)
        }
        NumbersError::Throttled { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            ErrorDetail::new(
                "twilio_rate_limited",
                format!("{e}; nothing was changed, try again after Retry-After"),
            ),
        ),
        NumbersError::Uncertain(_) => (
            StatusCode::BAD_GATEWAY,
            ErrorDetail::new(
                "twilio_uncertain",
                format!(
                    "{e}; it may have taken effect: check GET /api/numbers before trying again"
                ),
            ),
        ),
        NumbersError::Store(e) => unavailable(e),
    }
}

fn tenant_error(e: &TenantError) -> (StatusCode, ErrorDetail<'_>) {
    let field = |field: &'static str, code, status: StatusCode| {
        let detail = ErrorDetail {
            field: Some(field),
            ..ErrorDetail::new(code, e.to_string())
        };
        (status, detail)
    };
    match e {
        TenantError::NotFound(_) | TenantError::NoSuchToken(_) => not_found(e.to_string()),
        TenantError::Exists(_) | TenantError::Reserved(_) => {
            field("id", "conflict", StatusCode::CONFLICT)
        }
        TenantError::NumberHeld(_) => field("numbers", "number_taken", StatusCode::CONFLICT),
        TenantError::IdChange => field("id", "invalid_request", StatusCode::BAD_REQUEST),
        TenantError::Invalid { field, .. } => (
            StatusCode::BAD_REQUEST,
            ErrorDetail {
                field: Some(field),
                ..ErrorDetail::new("invalid_request", e.to_string())
            },
        ),
        TenantError::Store(s) => unavailable(s),
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

/// Every API error: `{"error": {...}}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub(super) struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

/// What went wrong: a stable `code`, the `field` it is about when there is
/// one, and a sentence for people.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorDetail)]
struct ErrorDetail<'a> {
    /// e.g. `invalid_request`, `unauthorized`, `not_found`, `payload_too_large`,
    /// `rate_limited`, `conflict`, `unavailable`.
    #[schema(value_type = String)]
    code: &'static str,
    /// The request field (or header, `path`, `query`, `body`) the error is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    field: Option<&'a str>,
    /// Present (possibly null) on `twilio_rejected` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    twilio_code: Option<Option<u64>>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    call_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    status: Option<&'static str>,
    /// When a held dial may be placed (RFC 3339), on `outside_calling_window` and `frequency_cap`.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_allowed_at: Option<String>,
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
            next_allowed_at: None,
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
        if matches!(self, ApiError::Unauthorized | ApiError::TokenExpired) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Some(secs) = self.retry_after_secs() {
            resp.insert_header(("Retry-After", secs.to_string()));
        }
        resp.json(ErrorBody { error })
    }
}
