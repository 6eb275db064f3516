//! `POST /api/sms`: `{"to", "body"}` or `{"to", "template", "variables"}`
//! (optionally `"timezone"` to say instants in, `"from"` one of the
//! tenant's numbers) -> `202 {"notification_id", "status": "queued"}`. An
//! `Idempotency-Key` makes a repeat answer as the first did and queue nothing.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::idempotency::{self, Answer, Begin};
use super::parse_body;
use crate::app::notifications::NotificationType;
use crate::app::AppState;
use crate::campaign::create::input::{Phone, TimeZoneName, Variables};
use crate::http::auth::Tenant;
use crate::http::ApiError;
use crate::sms::send::{self, Outgoing, SmsError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsRequest {
    to: Phone,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    variables: Option<Variables>,
    /// Where a template's instants are said; else the recipient's (from the
    /// number), else the tenant's zone.
    #[serde(default)]
    timezone: Option<TimeZoneName>,
    /// One of the tenant's numbers (else its first).
    #[serde(default)]
    from: Option<Phone>,
}

impl SmsRequest {
    fn into_outgoing(self, app: &AppState) -> Result<Outgoing, ApiError> {
        let to = self.to.0;
        let (body, template) = match (self.body, self.template) {
            (Some(body), None) => {
                if self.variables.is_some() || self.timezone.is_some() {
                    let field = if self.variables.is_some() {
                        "variables"
                    } else {
                        "timezone"
                    };
                    return Err(ApiError::invalid(field, "is only used with a template"));
                }
                (body, None)
            }
            (None, Some(id)) => {
                let variables = self.variables.unwrap_or_default().0;
                let zone = self.timezone.and_then(|z| z.0.parse().ok());
                let body = send::render_template(app, &id, &variables, &to, zone)?;
                (body, Some(id))
            }
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "body",
                    "give either body or template, not both",
                ))
            }
            (None, None) => {
                return Err(ApiError::invalid(
                    "body",
                    "is required (or give a template)",
                ))
            }
        };
        Ok(Outgoing {
            to,
            from: self.from.map(|f| f.0),
            body,
            kind: NotificationType::Api,
            template,
        })
    }
}

/// `POST /api/sms`.
#[utoipa::path(
    post,
    path = "/api/sms",
    tag = "sms",
    request_body(content = Object, description = "`{\"to\", \"body\"}` or `{\"to\", \"template\", \"variables\"}`, optional `from` (one of the tenant's numbers)"),
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key answers as the first did")),
    responses(
        (status = 202, description = "Queued: `{\"notification_id\", \"status\": \"queued\"}`", body = Object),
        (status = 409, description = "The number is on the do-not-call list", body = Object),
        (status = 422, description = "`from` is not one of the tenant's numbers", body = Object),
    ),
)]
pub async fn send_sms(
    service: Tenant,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency::key_of(&req)?;
    let Some(key) = key else {
        return Ok(queue(&service, &body).await?.response());
    };
    let guard = match idempotency::begin(&service.store, key, &body).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Run(guard) => guard,
    };
    let outcome = queue(&service, &body).await;
    guard.finish(&outcome).await;
    Ok(outcome?.response())
}

async fn queue(app: &AppState, body: &[u8]) -> Result<Answer, ApiError> {
    let request: SmsRequest = parse_body(body)?;
    let queued = send::enqueue(app, request.into_outgoing(app)?).await?;
    Ok(Answer::json(StatusCode::ACCEPTED, &queued))
}

impl From<SmsError> for ApiError {
    fn from(e: SmsError) -> Self {
        match e {
            SmsError::DoNotCall(_) => ApiError::Sms(e),
            SmsError::NotOurNumber(_) => ApiError::Unprocessable {
                field: "from",
                reason: e.to_string(),
            },
            SmsError::UnknownTemplate(id) => {
                ApiError::invalid("template", format!("'{id}' does not exist"))
            }
            SmsError::Invalid { field, reason } => ApiError::invalid(&field, reason),
            SmsError::Store(e) => ApiError::Service(e.into()),
        }
    }
}
