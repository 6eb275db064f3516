use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::app::ServiceError;
use crate::store::StoreError;

/// Every API error, mapped once to a status and a JSON body that names the field.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Twilio refused the call: {message}")]
    TwilioRejected {
        call_id: String,
        code: Option<u64>,
        message: String,
    },
    #[error("Twilio did not confirm the call: {message}")]
    TwilioUncertain { call_id: String, message: String },
    #[error("storage unavailable")]
    Unavailable,
}

impl ApiError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ApiError::Unavailable
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Store(e) => e.into(),
            ServiceError::Invalid { field, reason } if field == "status" => {
                ApiError::Conflict(format!("{field}: {reason}"))
            }
            ServiceError::Invalid { field, reason } => ApiError::Invalid { field, reason },
            ServiceError::UnknownFlow(flow) => {
                ApiError::NotFound(format!("flow: '{flow}' does not exist"))
            }
            e @ ServiceError::DoNotCall(_) => ApiError::Conflict(e.to_string()),
            ServiceError::TwilioRejected {
                call_id,
                code,
                message,
            } => ApiError::TwilioRejected {
                call_id,
                code,
                message,
            },
            ServiceError::TwilioUncertain { call_id, message } => {
                ApiError::TwilioUncertain { call_id, message }
            }
            ServiceError::NotFound => ApiError::NotFound("not found".into()),
            e @ ServiceError::Contended => ApiError::Conflict(e.to_string()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TwilioRejected { .. } | ApiError::TwilioUncertain { .. } => {
                StatusCode::BAD_GATEWAY
            }
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            ApiError::Invalid { field, reason } => json!({
                "error": {"code": "invalid_request", "field": field, "message": format!("{field}: {reason}")}
            }),
            ApiError::Unauthorized => json!({
                "error": {"code": "unauthorized", "message": self.to_string()}
            }),
            ApiError::NotFound(m) => json!({"error": {"code": "not_found", "message": m}}),
            ApiError::Conflict(m) => json!({"error": {"code": "conflict", "message": m}}),
            ApiError::TwilioRejected {
                call_id,
                code,
                message,
            } => json!({
                "error": {"code": "twilio_rejected", "twilio_code": code, "message": message, "call_id": call_id, "status": "failed"}
            }),
            ApiError::TwilioUncertain { call_id, message } => json!({
                "error": {"code": "twilio_uncertain", "message": format!("{message}; the call may still be placed and will be reconciled from its callbacks"), "call_id": call_id}
            }),
            ApiError::Unavailable => json!({
                "error": {"code": "unavailable", "message": self.to_string()}
            }),
        };
        let mut resp = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        resp.json(body)
    }
}
