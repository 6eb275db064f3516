//! `/twilio/voice/*`: signed form posts in, TwiML out. The signature is checked
//! over the raw body before anything is parsed, and fails closed.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};
use tracing::{error, warn};

use crate::service::{CallService, ServiceError};
use crate::twilio::signature;
use crate::twilio::webhook::{Callback, VoiceForm};
use crate::twiml;

/// A callback whose `X-Twilio-Signature` matched, with its query and form.
pub struct Signed {
    query: Vec<(String, String)>,
    form: VoiceForm,
}

impl Signed {
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a webhook was refused before it reached the service.
pub enum Refusal {
    Forbidden,
    Malformed,
}

impl std::fmt::Debug for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Forbidden => "forbidden",
            Refusal::Malformed => "malformed",
        })
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl actix_web::ResponseError for Refusal {
    fn error_response(&self) -> HttpResponse {
        match self {
            Refusal::Forbidden => HttpResponse::Forbidden()
                .content_type("text/xml")
                .body(twiml::empty()),
            Refusal::Malformed => xml(twiml::polite_goodbye("", "")),
        }
    }
}

impl FromRequest for Signed {
    type Error = Refusal;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Refusal>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|_| Refusal::Malformed)?;
            let service = req
                .app_data::<web::Data<CallService>>()
                .ok_or(Refusal::Forbidden)?;
            let signature = req
                .headers()
                .get("X-Twilio-Signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let params: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).map_err(|_| Refusal::Forbidden)?;
            // The URL Twilio signed, rebuilt from configuration, never from Host or X-Forwarded-*.
            let mut url = format!("{}{}", service.settings.public_base_url, req.path());
            if !req.query_string().is_empty() {
                url.push('?');
                url.push_str(req.query_string());
            }
            let token = service.settings.twilio.auth_token.expose();
            if !signature::verify(token, &url, &params, signature) {
                warn!(
                    path = req.path(),
                    "webhook refused: bad or missing X-Twilio-Signature"
                );
                return Err(Refusal::Forbidden);
            }
            let query =
                serde_urlencoded::from_str(req.query_string()).map_err(|_| Refusal::Malformed)?;
            Ok(Signed {
                query,
                form: VoiceForm::from_pairs(&params),
            })
        })
    }
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/xml").body(body)
}

/// Runs a callback through the service and maps every failure to polite TwiML
/// (voice documents) or a retryable status (status and recording callbacks).
async fn run(service: &CallService, signed: &Signed, callback: Option<Callback>) -> HttpResponse {
    let voice_doc = matches!(
        callback,
        Some(Callback::Answer { .. } | Callback::Gather { .. })
    );
    let goodbye = || xml(twiml::polite_goodbye("", ""));
    let (Some(call_id), Some(callback)) = (signed.query("call_id"), callback) else {
        warn!("webhook without a usable call_id or parameters");
        return if voice_doc {
            goodbye()
        } else {
            xml(twiml::empty())
        };
    };
    let span = tracing::info_span!("callback", call_id, kind = %callback.idempotency_key());
    let _enter = span.enter();
    match service
        .handle_callback(call_id, &callback, signed.form.call_sid.as_deref())
        .await
    {
        Ok(reply) => xml(reply),
        Err(ServiceError::NotFound) => {
            warn!("callback for an unknown call");
            if voice_doc {
                goodbye()
            } else {
                xml(twiml::empty())
            }
        }
        Err(e) => {
            error!(error = %e, "callback failed");
            if voice_doc {
                goodbye()
            } else {
                // Let Twilio deliver the status again.
                HttpResponse::ServiceUnavailable()
                    .content_type("text/xml")
                    .body(twiml::empty())
            }
        }
    }
}

pub async fn incoming(service: web::Data<CallService>, signed: Signed) -> HttpResponse {
    let callback = Callback::Answer {
        answered_by: signed.form.answered_by.clone(),
    };
    run(&service, &signed, Some(callback)).await
}

pub async fn gather(service: web::Data<CallService>, signed: Signed) -> HttpResponse {
    let callback = signed
        .query("turn")
        .and_then(|t| t.parse().ok())
        .map(|turn| Callback::Gather {
            turn,
            speech: signed.form.speech_result.clone(),
            digits: signed.form.digits.clone(),
        });
    run(&service, &signed, callback).await
}

pub async fn status(service: web::Data<CallService>, signed: Signed) -> HttpResponse {
    let callback = signed
        .form
        .call_status
        .clone()
        .map(|status| Callback::Status {
            status,
            sequence: signed.form.sequence_number,
            duration_secs: signed.form.call_duration,
        });
    run(&service, &signed, callback).await
}

pub async fn recording(service: web::Data<CallService>, signed: Signed) -> HttpResponse {
    let callback = match (&signed.form.recording_sid, &signed.form.recording_status) {
        (Some(sid), Some(status)) => Some(Callback::Recording {
            sid: sid.clone(),
            status: status.clone(),
        }),
        _ => None,
    };
    run(&service, &signed, callback).await
}
