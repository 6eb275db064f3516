//! The `Signed` extractor every Twilio webhook takes: the signature is
//! checked over the raw body against `PUBLIC_BASE_URL` before anything is
//! parsed, and fails closed.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};
use tracing::warn;

use crate::app::AppState;
use crate::observe;
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
