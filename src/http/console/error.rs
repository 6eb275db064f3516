//! What a console request can meet, mapped once ([`ConsoleError::reply`])
//! to an HTML page (or, for a lapsed session, a redirect to the login).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use super::templates;
use crate::app::ServiceError;
use crate::campaign::status::CampaignError;
use crate::http::ApiError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No session, or one that has ended (expired, logged out, its token revoked).
    #[error("please log in")]
    LoggedOut,
    /// An admin session that has not picked a tenant yet.
    #[error("pick a tenant first")]
    NoTenant,
    /// Not there, or another tenant's: the same answer.
    #[error("not found")]
    NotFound,
    /// A state-changing request without this session's CSRF token or from another origin.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The request is fine but the thing cannot do it now (e.g. resume a canceled campaign).
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("too many live views open in this session; close one and reload")]
    TooManyStreams,
    #[error("storage unavailable")]
    Unavailable,
}

impl ConsoleError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::LoggedOut | Self::NoTenant => StatusCode::SEE_OTHER,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } | Self::TooManyStreams => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The one mapping of console errors to responses.
    fn reply(&self) -> HttpResponse {
        match self {
            Self::LoggedOut => return see_other("/console/login"),
            Self::NoTenant => return see_other("/console/tenant"),
            Self::Unavailable => tracing::error!("console: storage unavailable"),
            _ => {}
        }
        let title = match self {
            Self::NotFound => "Not found",
            Self::Forbidden(_) => "Refused",
            Self::Invalid { .. } => "Invalid request",
            Self::Conflict(_) => "Not possible now",
            Self::RateLimited { .. } | Self::TooManyStreams => "Too many requests",
            _ => "Unavailable",
        };
        let message = match self {
            Self::NotFound => "There is nothing here, or it belongs to another tenant.".to_string(),
            other => other.to_string(),
        };
        let mut resp = HttpResponse::build(self.status());
        if let Self::RateLimited { retry_after_secs } = self {
            resp.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        html_headers(&mut resp);
        resp.body(templates::error_page(title, &message).into_string())
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.reply()
    }
}

impl actix_web::Responder for ConsoleError {
    type Body = actix_web::body::BoxBody;
    fn respond_to(self, _: &actix_web::HttpRequest) -> HttpResponse {
        self.reply()
    }
}

impl From<StoreError> for ConsoleError {
    fn from(_: StoreError) -> Self {
        Self::Unavailable
    }
}

impl From<ServiceError> for ConsoleError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => Self::NotFound,
            ServiceError::Invalid { field, reason } => Self::invalid(&field, reason),
            _ => Self::Unavailable,
        }
    }
}

impl From<CampaignError> for ConsoleError {
    fn from(e: CampaignError) -> Self {
        match e {
            CampaignError::Service(e) => e.into(),
            e @ CampaignError::Refused { .. } => Self::Conflict(e.to_string()),
        }
    }
}

/// From the checks shared with `/api` (the per-address limit, the store).
impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            ApiError::Service(e) => e.into(),
            _ => Self::LoggedOut,
        }
    }
}

/// `303 See Other` to `to`: after a form, the browser gets the page with a GET.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Every console page: HTML, never cached, never framed, scripts only from here.
pub fn html_headers(resp: &mut actix_web::HttpResponseBuilder) {
    resp.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
             media-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
             form-action 'self'",
        ));
}

/// A rendered page as a `200` response.
pub fn html(markup: maud::Markup) -> HttpResponse {
    let mut resp = HttpResponse::Ok();
    html_headers(&mut resp);
    resp.body(markup.into_string())
}
