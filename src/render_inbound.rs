//! Turns an inbound step's effects into TwiML, with the flow's words and the
//! tenant's numbers.

use crate::flow::InboundFlow;
use crate::inbound::{InboundEffect, InboundPrompt, Ringee};
use crate::twiml::{Dial, Gather, Record, Response, Say, Verb};

/// What rendering one inbound call needs besides its flow.
#[derive(Debug, Clone)]
pub struct InboundCall<'a> {
    pub call_id: &'a str,
    /// The menu turn, so a late or replayed menu answer is recognised.
    pub turn: u32,
    /// The tenant's company name (`{company}`).
    pub company: &'a str,
    /// The number that was called (`{callback_number}`).
    pub called: &'a str,
    /// The people each forward leg rings (see `inbound::legs`).
    pub legs: &'a [Vec<Ringee>],
    /// The tenant's own voicemail greeting, said instead of the flow's.
    pub voicemail_greeting: Option<&'a str>,
}

/// Inbound webhook URLs; the call id travels in the query like outbound calls'.
pub fn inbound_url(base: &str, hook: &str, call_id: &str) -> String {
    format!("{base}/twilio/voice/inbound/{hook}?call_id={call_id}")
}

#[derive(Debug, Clone)]
pub struct InboundRenderer {
    pub public_base_url: String,
}

impl InboundRenderer {
    pub fn text(&self, flow: &InboundFlow, call: &InboundCall, prompt: InboundPrompt) -> String {
        if let (InboundPrompt::Voicemail, Some(own)) = (prompt, call.voicemail_greeting) {
            return own.to_string();
        }
        flow.text(prompt, &|name| match name {
            "company" => Some(call.company.to_string()),
            "callback_number" => Some(call.called.to_string()),
            _ => None,
        })
    }

    fn say(&self, flow: &InboundFlow, call: &InboundCall, prompt: InboundPrompt) -> Say {
        Say {
            text: self.text(flow, call, prompt),
            voice: flow.voice.clone(),
            language: flow.language.clone(),
        }
    }

    /// The TwiML for `effects`. Says before the menu go inside its `<Gather>`
    /// so the caller can choose without waiting them out.
    pub fn render(
        &self,
        flow: &InboundFlow,
        call: &InboundCall,
        effects: &[InboundEffect],
    ) -> String {
        let base = &self.public_base_url;
        let mut response = Response::new();
        let mut pending: Vec<Say> = Vec::new();
        let flush = |response: &mut Response, pending: &mut Vec<Say>| {
            for say in pending.drain(..) {
                response.push(Verb::Say(say));
            }
        };
        for effect in effects {
            match effect {
                InboundEffect::Say(p) => pending.push(self.say(flow, call, *p)),
                InboundEffect::Ask(p) => {
                    let mut says = std::mem::take(&mut pending);
                    says.push(self.say(flow, call, *p));
                    let action = format!(
                        "{}&turn={}",
                        inbound_url(base, "menu", call.call_id),
                        call.turn
                    );
                    response.push(Verb::Gather(Gather {
                        action,
                        input: "dtmf speech",
                        timeout_secs: flow.gather_timeout_secs,
                        speech_timeout: flow.speech_timeout.clone(),
                        num_digits: Some(1),
                        language: flow.language.clone(),
                        hints: flow.hints.clone(),
                        says,
                    }));
                }
                InboundEffect::Forward { leg } => {
                    flush(&mut response, &mut pending);
                    let people = call.legs.get(*leg as usize).map_or(&[][..], Vec::as_slice);
                    if people.is_empty() {
                        // The machine only forwards to legs it was told exist.
                        response.push(Verb::Hangup);
                        continue;
                    }
                    // Everyone on the leg rings as long as the longest-ringing of them.
                    let timeout_secs = people
                        .iter()
                        .map(|p| p.timeout_secs.unwrap_or(flow.ring_timeout_secs))
                        .max()
                        .unwrap_or(flow.ring_timeout_secs);
                    response.push(Verb::Dial(Dial {
                        action: format!("{}&leg={leg}", inbound_url(base, "dial", call.call_id)),
                        timeout_secs,
                        caller_id: None,
                        numbers: people.iter().map(|p| p.number.clone()).collect(),
                    }));
                }
                InboundEffect::Record => {
                    flush(&mut response, &mut pending);
                    response.push(Verb::Record(Record {
                        action: inbound_url(base, "voicemail", call.call_id),
                        max_length_secs: flow.voicemail_max_secs,
                        transcribe_callback: flow
                            .transcribe
                            .then(|| inbound_url(base, "transcription", call.call_id)),
                    }));
                }
                InboundEffect::Hangup => {
                    flush(&mut response, &mut pending);
                    response.push(Verb::Hangup);
                }
                InboundEffect::Reason(_)
                | InboundEffect::SendOptionSms { .. }
                | InboundEffect::TextMissedCall => {}
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
