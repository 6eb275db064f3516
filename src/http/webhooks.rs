//! `/twilio/voice/*`: signed form posts in, TwiML out. The signature is checked
//! over the raw body before anything is parsed, and fails closed.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};
use tracing::{error, warn, Instrument};

use crate::app::{outbound, AppState, ServiceError};
use crate::call::Input;
use crate::observe::{self, CallbackKind};
use crate::phone::mask;
use crate::tenant::Tenants;
use crate::twilio::signature;
use crate::twilio::webhook::{self, VoiceForm};
use crate::twiml;

/// A callback whose `X-Twilio-Signature` matched, with its query and form.
pub struct Signed {
    query: Vec<(String, String)>,
    /// Every form pair, as signed.
    pairs: Vec<(String, String)>,
    pub(super) form: VoiceForm,
}

impl Signed {
    pub(super) fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    pub(super) fn query(&self, name: &str) -> Option<&str> {
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
    /// Over the webhook body limit: never read, never answered with TwiML.
    TooLarge,
}

impl std::fmt::Debug for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Forbidden => "forbidden",
            Refusal::Malformed => "malformed",
            Refusal::TooLarge => "too large",
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
            Refusal::TooLarge => HttpResponse::PayloadTooLarge()
                .content_type("text/xml")
                .body(twiml::empty()),
        }
    }
}

impl FromRequest for Signed {
    type Error = Refusal;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Refusal>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        // Unsigned: refused before a byte of the body is read.
        if !req.headers().contains_key("X-Twilio-Signature") {
            observe::signature_failure();
            warn!(path = req.path(), "webhook refused: no X-Twilio-Signature");
            return Box::pin(async { Err(Refusal::Forbidden) });
        }
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => Refusal::TooLarge,
                _ => Refusal::Malformed,
            })?;
            let service = req
                .app_data::<web::Data<AppState>>()
                .ok_or(Refusal::Forbidden)?;
            let signature = req
                .headers()
                .get("X-Twilio-Signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let params = webhook::form_pairs(&body).ok_or(Refusal::Forbidden)?;
            // The URL Twilio signed, rebuilt from configuration, never from Host or X-Forwarded-*.
            let mut url = format!("{}{}", service.settings.public_base_url, req.path());
            if !req.query_string().is_empty() {
                url.push('?');
                url.push_str(req.query_string());
            }
            if !signed_by_twilio(&service.settings.twilio, &url, &params, signature) {
                observe::signature_failure();
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
                pairs: params,
            })
        })
    }
}

/// Whether Twilio signed the request: with the auth token or, during a
/// rotation, the secondary one; over the URL as we rebuilt it or with the
/// connection overrides we added to it (Twilio does not say whether the
/// fragment is signed, and it never reaches us).
fn signed_by_twilio(
    twilio: &crate::config::TwilioSettings,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let with_fragment = crate::render::with_overrides(url);
    let tokens = std::iter::once(&twilio.auth_token)
        .chain(twilio.auth_token_secondary.as_ref())
        .map(|t| t.expose());
    signature::verify_any(tokens, &[url, with_fragment.as_str()], params, signature)
}

pub(super) fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/xml").body(body)
}

/// Runs a callback through the call machine of its tenant, counting it by
/// kind and outcome.
async fn run(
    tenants: &Tenants,
    kind: CallbackKind,
    signed: &Signed,
    input: Option<Input>,
) -> HttpResponse {
    let started = std::time::Instant::now();
    let (outcome, reply) = answer(tenants, signed, input).await;
    observe::callback(kind, outcome, started.elapsed());
    reply
}

/// The callback's answer from the call machine of its tenant (named in the
/// signed URL; none: `TENANT_ID`'s), mapping every failure to polite TwiML
/// (voice documents) or a retryable status (status and recording callbacks);
/// and the outcome as `/metrics` counts it. The tenant comes from this
/// instance's registry: no Redis round trip.
async fn answer(
    tenants: &Tenants,
    signed: &Signed,
    input: Option<Input>,
) -> (&'static str, HttpResponse) {
    let voice_doc = input.as_ref().is_some_and(Input::expects_voice_reply);
    let goodbye = || xml(twiml::polite_goodbye("", ""));
    let tenant = signed.query("tenant").unwrap_or(tenants.configured_id());
    let view = match tenants.resolve(tenant).await {
        Ok(Some(view)) => view,
        Ok(None) => {
            warn!(
                tenant,
                "callback for a tenant that does not exist; nothing changed"
            );
            let reply = if voice_doc {
                goodbye()
            } else {
                xml(twiml::empty())
            };
            return ("unknown_tenant", reply);
        }
        Err(e) => {
            error!(tenant, error = %e, "callback's tenant unavailable");
            let reply = if voice_doc {
                goodbye()
            } else {
                HttpResponse::ServiceUnavailable()
                    .content_type("text/xml")
                    .body(twiml::empty())
            };
            return ("failed", reply);
        }
    };
    // A call of one tenant reported through another tenant's number.
    if let Some(number) = signed.form.our_number() {
        if let Some(holder) = tenants.holder_of(number) {
            if holder != view.tenant.id {
                warn!(
                    tenant,
                    number = %mask(number),
                    holder,
                    "callback for a call of another tenant than its number's; nothing changed"
                );
                let reply = if voice_doc {
                    goodbye()
                } else {
                    xml(twiml::empty())
                };
                return ("wrong_tenant", reply);
            }
        }
    }
    let app: &AppState = &view.app;
    let (Some(call_id), Some(input)) = (signed.query("call_id"), input) else {
        warn!("webhook without a usable call_id or parameters");
        let reply = if voice_doc {
            goodbye()
        } else {
            xml(twiml::empty())
        };
        return ("unusable", reply);
    };
    let kind = input.idempotency_key().unwrap_or_default();
    let span = tracing::info_span!("callback", call_id, kind = %kind);
    let call_sid = signed.form.call_sid.clone();
    let handled = outbound::handle_callback(app, call_id, input, call_sid)
        .instrument(span.clone())
        .await;
    // Synchronous from here: the span is entered only around code with no await.
    span.in_scope(|| match handled {
        Ok(reply) => ("ok", xml(reply)),
        Err(ServiceError::NotFound) => {
            warn!("callback for an unknown call");
            let reply = if voice_doc {
                goodbye()
            } else {
                xml(twiml::empty())
            };
            ("unknown_call", reply)
        }
        Err(e) => {
            error!(error = %e, "callback failed");
            let reply = if voice_doc {
                goodbye()
            } else {
                // Let Twilio deliver the status again.
                HttpResponse::ServiceUnavailable()
                    .content_type("text/xml")
                    .body(twiml::empty())
            };
            ("failed", reply)
        }
    })
}

pub async fn incoming(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    let input = signed.form.answer();
    run(&tenants, CallbackKind::Incoming, &signed, Some(input)).await
}

pub async fn gather(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    let input = signed.form.gather(signed.query("turn"));
    run(&tenants, CallbackKind::Gather, &signed, input).await
}

/// A status callback: an outbound call's carries our call id; an inbound
/// call's (the number's `StatusCallback`) carries none and is found by its CallSid.
pub async fn status(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    if signed.query("call_id").is_none() && signed.form.is_inbound() {
        let input = signed.form.inbound_status();
        return super::webhooks_inbound::run(&tenants, CallbackKind::Status, &signed, input).await;
    }
    let input = signed.form.status();
    run(&tenants, CallbackKind::Status, &signed, input).await
}

pub async fn recording(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    if signed.query("call_id").is_none() && signed.form.is_inbound() {
        let input = signed.form.inbound_recording();
        return super::webhooks_inbound::run(&tenants, CallbackKind::Recording, &signed, input)
            .await;
    }
    let input = signed.form.recording();
    run(&tenants, CallbackKind::Recording, &signed, input).await
}
