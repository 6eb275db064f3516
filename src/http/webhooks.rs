//! `/twilio/voice/*` of calls we placed: signed form posts in (`Signed`, see
//! `signed.rs`), TwiML out. Status and recording callbacks of calls that came
//! in carry no call id and go on to `webhooks_inbound.rs`.

use actix_web::{web, HttpResponse};
use tracing::{error, warn, Instrument};

use super::signed::{xml, Signed};
use crate::app::{outbound, AppState, ServiceError};
use crate::call::Input;
use crate::observe::{self, CallbackKind};
use crate::phone::mask;
use crate::tenant::Tenants;
use crate::twiml;

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
