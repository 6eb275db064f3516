//! Turns a step's effects into TwiML for one call, with the flow's words.

use crate::call::{CallRecord, Effect, Prompt};
use crate::flow::Flow;
use crate::twiml::{Gather, Response, Say, Verb};

/// What rendering needs besides the call and its flow.
#[derive(Debug, Clone)]
pub struct TwimlRenderer {
    pub public_base_url: String,
    pub company: String,
    pub purpose: String,
    pub callback_number: String,
}

/// The tenant whose webhook URLs carry no `tenant=`: calls placed before
/// tenants existed have none, and a callback without one is the configured
/// tenant's (`TENANT_ID`). Any other tenant's URLs name it; Twilio signs the
/// URL with it, so it cannot be forged.
pub const UNNAMED_TENANT: &str = "default";

/// `&tenant=<id>`, or nothing for [`UNNAMED_TENANT`].
pub fn tenant_query(tenant: &str) -> String {
    if tenant == UNNAMED_TENANT {
        String::new()
    } else {
        format!("&tenant={tenant}")
    }
}

/// Webhook URLs of one call. The call id (and the tenant, see
/// [`tenant_query`]) travel in the query so a callback that
/// beats `calls.create`'s answer still finds its call.
pub fn webhook_url(base: &str, hook: &str, call_id: &str, tenant_query: &str) -> String {
    format!("{base}/twilio/voice/{hook}?call_id={call_id}{tenant_query}")
}

/// Twilio's connection overrides for the URLs we hand to create-call: retry a
/// callback that could not connect, timed out or got a 5xx (status callbacks
/// answer 503 when they could not be stored), up to three times. A fragment:
/// it never reaches our server, and signatures are checked with and without it.
pub const CONNECTION_OVERRIDES: &str = "rc=3&rp=ct,rt,5xx";

/// `url` with [`CONNECTION_OVERRIDES`].
pub fn with_overrides(url: &str) -> String {
    format!("{url}#{CONNECTION_OVERRIDES}")
}

pub fn gather_url(base: &str, call_id: &str, turn: u32, tenant_query: &str) -> String {
    format!("{base}/twilio/voice/gather?call_id={call_id}&turn={turn}{tenant_query}")
}

impl TwimlRenderer {
    pub fn text(&self, flow: &Flow, record: &CallRecord, prompt: Prompt) -> String {
        let purpose = flow.purpose.as_deref().unwrap_or(&self.purpose);
        flow.render(prompt, &|name| match name {
            "company" => Some(self.company.clone()),
            "purpose" => Some(purpose.to_string()),
            "name" => Some(record.name.clone().unwrap_or_default()),
            "callback_number" => Some(self.callback_number.clone()),
            other => record.variables.get(other).cloned(),
        })
    }

    fn say(&self, flow: &Flow, record: &CallRecord, prompt: Prompt) -> Say {
        Say {
            text: self.text(flow, record, prompt),
            voice: flow.voice.clone(),
            language: flow.language.clone(),
        }
    }

    /// The TwiML for `effects`. Says that precede a question go inside its
    /// `<Gather>` so the callee can answer without waiting them out.
    pub fn render(&self, flow: &Flow, record: &CallRecord, effects: &[Effect]) -> String {
        let mut response = Response::new();
        let mut pending: Vec<Say> = Vec::new();
        let flush = |response: &mut Response, pending: &mut Vec<Say>| {
            for say in pending.drain(..) {
                response.push(Verb::Say(say));
            }
        };
        for effect in effects {
            match effect {
                Effect::Say(p) => pending.push(self.say(flow, record, *p)),
                Effect::Ask(p) => {
                    let mut says = std::mem::take(&mut pending);
                    says.push(self.say(flow, record, *p));
                    response.push(Verb::Gather(Gather {
                        action: gather_url(
                            &self.public_base_url,
                            &record.call_id,
                            record.turn,
                            &tenant_query(&record.tenant),
                        ),
                        input: "dtmf speech",
                        timeout_secs: flow.gather_timeout_secs,
                        speech_timeout: flow.speech_timeout.clone(),
                        num_digits: Some(1),
                        language: flow.language.clone(),
                        hints: flow.hints.clone(),
                        says,
                    }));
                }
                Effect::StartRecording => {
                    flush(&mut response, &mut pending);
                    response.push(Verb::StartRecording {
                        status_callback: webhook_url(
                            &self.public_base_url,
                            "recording",
                            &record.call_id,
                            &tenant_query(&record.tenant),
                        ),
                    });
                }
                Effect::Hangup => {
                    flush(&mut response, &mut pending);
                    response.push(Verb::Hangup);
                }
                Effect::RecordConsent(_) | Effect::AddToDoNotCall => {}
            }
        }
        flush(&mut response, &mut pending);
        if response.verbs.is_empty() {
            // A voice callback that moves nothing: end cleanly rather than leave silence.
            response.push(Verb::Hangup);
        }
        response.render()
    }
}
