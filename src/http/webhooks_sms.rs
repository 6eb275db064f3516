//! `/twilio/sms/*`: an incoming text to a tenant's number (its `SmsUrl`) and
//! the statuses of texts callflow sent (their `StatusCallback`). Signed like
//! the voice webhooks (the same `Signed` extractor, failing closed); answers
//! are TwiML: `<Response><Message>..</Message></Response>` or an empty
//! `<Response/>`, and `503` when the store failed (Twilio may retry; both
//! webhooks are idempotent).

use actix_web::{web, HttpResponse};
use tracing::{error, warn};

use super::signed::{xml, Signed};
use crate::observe::{self, CallbackKind};
use crate::phone::{mask, E164};
use crate::sms::incoming::{self, Answer, IncomingText};
use crate::sms::status::{self, StatusReport};
use crate::store::StatusChange;
use crate::tenant::Tenants;
use crate::twilio::webhook::SmsForm;
use crate::twiml;

fn unavailable() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/xml")
        .body(twiml::empty())
}

/// `POST /twilio/sms/incoming`: the tenant is the one holding `To`.
pub async fn incoming(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    let started = std::time::Instant::now();
    let (outcome, reply) = answer_text(&tenants, &signed).await;
    observe::callback(CallbackKind::SmsIncoming, outcome, started.elapsed());
    reply
}

async fn answer_text(tenants: &Tenants, signed: &Signed) -> (&'static str, HttpResponse) {
    let form = SmsForm::from_pairs(signed.pairs());
    let empty = || xml(twiml::empty());
    let (Some(sid), Some(from), Some(to)) = (&form.message_sid, &form.from, &form.to) else {
        warn!("incoming text without MessageSid, From or To; nothing done");
        return ("unusable", empty());
    };
    let Some(view) = tenants.by_number(to) else {
        warn!(number = %mask(to), "text to a number no tenant holds; nothing done");
        return ("unknown_tenant", empty());
    };
    let Ok(from) = E164::parse(from) else {
        // Short codes and alphanumeric senders: nobody to put on a list or answer.
        warn!(from = %mask(from), "text from a sender that is not a phone number; nothing done");
        return ("unusable", empty());
    };
    let text = IncomingText {
        message_sid: sid.clone(),
        from,
        to: to.clone(),
        body: form.body.clone().unwrap_or_default(),
        opt_out_type: form.opt_out_type.clone(),
    };
    let auto_reply = view.tenant.sms_auto_reply.as_ref().map(|m| m.as_str());
    match incoming::handle(&view.app, &text, auto_reply).await {
        Ok(Answer::Text(reply)) => ("ok", xml(twiml::message(&reply))),
        Ok(Answer::Nothing) => ("ok", empty()),
        Err(e) => {
            error!(tenant = %view.tenant.id, error = %e, "incoming text not handled");
            ("failed", unavailable())
        }
    }
}

/// `POST /twilio/sms/status`: the tenant is named in the signed URL
/// (`tenant=`; none: `TENANT_ID`'s), the notification too.
pub async fn status(tenants: web::Data<Tenants>, signed: Signed) -> HttpResponse {
    let started = std::time::Instant::now();
    let (outcome, reply) = apply_status(&tenants, &signed).await;
    observe::callback(CallbackKind::SmsStatus, outcome, started.elapsed());
    reply
}

async fn apply_status(tenants: &Tenants, signed: &Signed) -> (&'static str, HttpResponse) {
    let form = SmsForm::from_pairs(signed.pairs());
    let empty = || xml(twiml::empty());
    let (Some(id), Some(status)) = (signed.query("notification_id"), form.message_status) else {
        warn!("message status without notification_id or MessageStatus; nothing done");
        return ("unusable", empty());
    };
    let tenant = signed.query("tenant").unwrap_or(tenants.configured_id());
    let view = match tenants.resolve(tenant).await {
        Ok(Some(view)) => view,
        Ok(None) => {
            warn!(tenant, "message status for a tenant that does not exist");
            return ("unknown_tenant", empty());
        }
        Err(e) => {
            error!(tenant, error = %e, "message status's tenant unavailable");
            return ("failed", unavailable());
        }
    };
    let report = StatusReport {
        notification_id: id.to_string(),
        message_sid: form.message_sid,
        status,
        error_code: form.error_code,
        error_message: form.error_message,
    };
    match status::apply(&view.app, &report).await {
        Ok(StatusChange::Missing) => {
            warn!(
                notification = id,
                "message status for an unknown notification"
            );
            ("unknown_call", empty())
        }
        Ok(_) => ("ok", empty()),
        Err(e) => {
            error!(notification = id, error = %e, "message status not stored");
            ("failed", unavailable())
        }
    }
}
