//! `/twilio/voice/inbound*`: calls to the tenants' numbers. Signed like every
//! voice webhook (the `Signed` extractor fails closed); the tenant is the
//! holder of the number called (`To`), from this instance's registry. A call
//! id names a call only within that tenant's keys, so a callback for another
//! tenant's call finds nothing and changes nothing.

use actix_web::{web, HttpResponse};
use tracing::{error, warn, Instrument};

use super::signed::{xml, Signed};
use crate::app::inbound::{self as inbound_app, NewInbound};
use crate::app::ServiceError;
use crate::inbound::InboundInput;
use crate::observe::{self, CallbackKind};
use crate::phone::{mask, E164};
use crate::tenant::{TenantApp, Tenants};
use crate::twiml;

fn goodbye() -> HttpResponse {
    xml(twiml::polite_goodbye("", ""))
}

/// The tenant holding the number called, or why there is none.
fn tenant_of(tenants: &Tenants, signed: &Signed) -> Option<std::sync::Arc<TenantApp>> {
    let to = signed.form.to.as_deref().unwrap_or_default();
    let view = tenants.by_number(to);
    if view.is_none() {
        warn!(number = %mask(to), "call to a number no tenant holds; nothing changed");
    }
    view
}

/// `POST /twilio/voice/inbound`: a number's Voice URL.
pub async fn incoming(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    let started = std::time::Instant::now();
    let (outcome, reply) = answer_incoming(&tenants, &signed).await;
    observe::callback(CallbackKind::InboundCall, outcome, started.elapsed());
    reply
}

async fn answer_incoming(tenants: &Tenants, signed: &Signed) -> (&'static str, HttpResponse) {
    let Some(view) = tenant_of(tenants, signed) else {
        return ("unknown_tenant", goodbye());
    };
    let form = &signed.form;
    let parse = |n: &Option<String>| n.as_deref().and_then(|n| E164::parse(n).ok());
    let (Some(call_sid), Some(caller), Some(called)) =
        (form.call_sid.as_deref(), parse(&form.from), parse(&form.to))
    else {
        warn!(
            caller = %mask(form.from.as_deref().unwrap_or_default()),
            "inbound call without a CallSid or a caller number; answered with a goodbye"
        );
        return ("unusable", goodbye());
    };
    let new = NewInbound {
        call_sid,
        caller,
        called,
    };
    match inbound_app::answer_call(&view.app, new).await {
        Ok(reply) => ("ok", xml(reply)),
        Err(e) => {
            error!(error = %e, "inbound call could not be answered");
            ("failed", goodbye())
        }
    }
}

pub async fn menu(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    let input = signed.form.inbound_menu(signed.query("turn"));
    run(&tenants, CallbackKind::InboundMenu, &signed, input).await
}

pub async fn dial(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    let input = signed.form.inbound_dial(signed.query("leg"));
    run(&tenants, CallbackKind::InboundDial, &signed, input).await
}

pub async fn voicemail(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    let input = Some(signed.form.inbound_recorded());
    run(&tenants, CallbackKind::InboundVoicemail, &signed, input).await
}

pub async fn transcription(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    let input = signed.form.inbound_transcription();
    run(&tenants, CallbackKind::InboundTranscription, &signed, input).await
}

/// Runs a callback of an inbound call, counting it by kind and outcome.
pub(super) async fn run(
    tenants: &Tenants,
    kind: CallbackKind,
    signed: &Signed,
    input: Option<InboundInput>,
) -> HttpResponse {
    let started = std::time::Instant::now();
    let (outcome, reply) = answer(tenants, signed, input).await;
    observe::callback(kind, outcome, started.elapsed());
    reply
}

/// The callback's answer from the inbound machine of the number's tenant;
/// failures become polite TwiML (voice documents) or a retryable `503`.
async fn answer(
    tenants: &Tenants,
    signed: &Signed,
    input: Option<InboundInput>,
) -> (&'static str, HttpResponse) {
    let voice_doc = input
        .as_ref()
        .is_some_and(InboundInput::expects_voice_reply);
    let nothing = || {
        if voice_doc {
            goodbye()
        } else {
            xml(twiml::empty())
        }
    };
    let Some(view) = tenant_of(tenants, signed) else {
        return ("unknown_tenant", nothing());
    };
    let Some(call_sid) = signed.form.call_sid.as_deref() else {
        warn!("inbound callback without a CallSid");
        return ("unusable", nothing());
    };
    let call_id = inbound_app::call_id_for(call_sid);
    // The id in the URL is the one the call was given: another is not this call's.
    let named = signed.query("call_id");
    let (Some(input), true) = (input, named.is_none_or(|id| id == call_id)) else {
        warn!(call_id, "inbound callback without usable parameters");
        return ("unusable", nothing());
    };
    let span = tracing::info_span!("callback", call_id, kind = %input.name());
    let handled = inbound_app::handle_callback(&view.app, &call_id, input)
        .instrument(span.clone())
        .await;
    span.in_scope(|| match handled {
        Ok(reply) => ("ok", xml(reply)),
        Err(ServiceError::NotFound) => {
            warn!("callback for an unknown inbound call");
            ("unknown_call", nothing())
        }
        Err(e) => {
            error!(error = %e, "inbound callback failed");
            let reply = if voice_doc {
                goodbye()
            } else {
                // Let Twilio deliver it again.
                HttpResponse::ServiceUnavailable()
                    .content_type("text/xml")
                    .body(twiml::empty())
            };
            ("failed", reply)
        }
    })
}
