//! The call as a hierarchical statig machine.
//!
//! ```text
//! top
//! ├── pre_answer: queued, dialing, ringing
//! ├── conversation: identify, consent, record, pitch, gather, opt_out
//! ├── voicemail
//! └── ended(disposition)
//! ```
//! Handlers only decide the next state and push [`Effect`]s into the context;
//! there are no entry or exit actions, so re-initialising a machine loaded from
//! storage replays nothing. `record`, `pitch`, `opt_out` and `voicemail` are
//! states a call passes through within one callback: [`advance`] feeds them
//! [`Event::Proceed`] until the call rests in a state that waits for Twilio.

use serde::{Deserialize, Serialize};
use statig::prelude::*;

use super::{CallStatus, Disposition, Effect, Event, Intent, Prompt};

/// What the machine does when an answering machine picks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoicemailAction {
    LeaveMessage,
    Hangup,
}

/// The parts of the flow and the call that steer the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// A name is known, so ask whether we reached that person.
    pub ask_name: bool,
    /// Ask for recording consent (and record only after a yes).
    pub consent: bool,
    /// Reprompts per question before silence counts as an answer.
    pub max_reprompts: u8,
    pub voicemail: VoicemailAction,
}

/// The stored state. The serde names are the persisted format and the API's
/// `state` values: pinned here so renaming a handler never changes stored data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum CallState {
    #[serde(rename = "queued")]
    Queued,
    #[serde(rename = "dialing")]
    Dialing,
    #[serde(rename = "ringing")]
    Ringing,
    #[serde(rename = "identify")]
    Identify { attempts: u8 },
    #[serde(rename = "consent")]
    Consent { attempts: u8 },
    #[serde(rename = "record")]
    Record,
    #[serde(rename = "pitch")]
    Pitch,
    #[serde(rename = "gather")]
    Gather { attempts: u8 },
    #[serde(rename = "opt_out")]
    OptOut,
    #[serde(rename = "voicemail")]
    Voicemail,
    #[serde(rename = "ended")]
    Ended { disposition: Disposition },
}

impl CallState {
    pub fn name(&self) -> &'static str {
        match self {
            CallState::Queued => "queued",
            CallState::Dialing => "dialing",
            CallState::Ringing => "ringing",
            CallState::Identify { .. } => "identify",
            CallState::Consent { .. } => "consent",
            CallState::Record => "record",
            CallState::Pitch => "pitch",
            CallState::Gather { .. } => "gather",
            CallState::OptOut => "opt_out",
            CallState::Voicemail => "voicemail",
            CallState::Ended { .. } => "ended",
        }
    }

    pub fn disposition(&self) -> Option<Disposition> {
        match self {
            CallState::Ended { disposition } => Some(*disposition),
            _ => None,
        }
    }

    /// States that wait for the callee to answer a `<Gather>`.
    pub fn awaits_input(&self) -> bool {
        matches!(
            self,
            CallState::Identify { .. } | CallState::Consent { .. } | CallState::Gather { .. }
        )
    }

    /// The question a call resting here was last asked: the first asking, or
    /// its reprompt once the callee has been asked again.
    pub fn question(&self) -> Option<Prompt> {
        let pick = |attempts: u8, first, again| Some(if attempts == 0 { first } else { again });
        match *self {
            CallState::Identify { attempts } => {
                pick(attempts, Prompt::Identify, Prompt::IdentifyReprompt)
            }
            CallState::Consent { attempts } => {
                pick(attempts, Prompt::Consent, Prompt::ConsentReprompt)
            }
            CallState::Gather { attempts } => pick(attempts, Prompt::Pitch, Prompt::PitchReprompt),
            _ => None,
        }
    }
}

/// Effects collected while handling one event.
pub struct Ctx {
    pub rules: Rules,
    pub effects: Vec<Effect>,
}

#[derive(Default)]
pub struct CallMachine;

/// The result of [`advance`]: where the call rests now, the states it passed
/// through on the way, and the effects to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub state: CallState,
    pub via: Vec<CallState>,
    pub effects: Vec<Effect>,
}

impl Step {
    pub fn changed_from(&self, before: &CallState) -> bool {
        &self.state != before || !self.via.is_empty()
    }
}

/// Handles one event from `state` and follows pass-through states to rest.
pub fn advance(state: &CallState, event: &Event, rules: Rules) -> Step {
    let mut ctx = Ctx {
        rules,
        effects: Vec::new(),
    };
    let mut machine = CallMachine.uninitialized_state_machine();
    *machine.state_mut() = state.clone();
    // No state has an entry action, so initialising replays nothing.
    let mut machine = machine.init_with_context(&mut ctx);
    machine.handle_with_context(event, &mut ctx);
    let mut via = Vec::new();
    // Bounded: the longest pass-through chain is record -> pitch -> gather.
    for _ in 0..8 {
        let before = machine.state().clone();
        machine.handle_with_context(&Event::Proceed, &mut ctx);
        if *machine.state() == before {
            break;
        }
        via.push(before);
    }
    Step {
        state: machine.state().clone(),
        via,
        effects: ctx.effects,
    }
}

/// Ends the call with a closing prompt.
fn finish(ctx: &mut Ctx, prompt: Prompt, disposition: Disposition) -> Outcome<CallState> {
    ctx.effects.push(Effect::Say(prompt));
    ctx.effects.push(Effect::Hangup);
    Transition(CallState::Ended { disposition })
}

/// Silence or mumbling: ask again while reprompts last, else `exhausted`.
fn reprompt(
    ctx: &mut Ctx,
    attempts: u8,
    prompt: Prompt,
    again: impl FnOnce(u8) -> CallState,
    exhausted: impl FnOnce(&mut Ctx) -> Outcome<CallState>,
) -> Outcome<CallState> {
    if attempts < ctx.rules.max_reprompts {
        ctx.effects.push(Effect::Ask(prompt));
        Transition(again(attempts + 1))
    } else {
        exhausted(ctx)
    }
}

/// After identification: the consent question or straight to the pitch.
fn after_identify(ctx: &mut Ctx) -> Outcome<CallState> {
    if ctx.rules.consent {
        ctx.effects.push(Effect::Ask(Prompt::Consent));
        Transition(CallState::Consent { attempts: 0 })
    } else {
        Transition(CallState::Pitch)
    }
}

fn decline_recording(ctx: &mut Ctx) -> Outcome<CallState> {
    ctx.effects.push(Effect::RecordConsent(false));
    ctx.effects.push(Effect::Say(Prompt::ConsentDeclined));
    Transition(CallState::Pitch)
}

#[state_machine(
    initial = "CallState::Queued",
    state(custom, name = "CallState"),
    superstate(derive(Debug))
)]
impl CallMachine {
    #[state(superstate = "pre_answer")]
    fn queued(event: &Event) -> Outcome<CallState> {
        match event {
            Event::Status(CallStatus::Initiated) => Transition(CallState::Dialing),
            Event::Status(CallStatus::Ringing) => Transition(CallState::Ringing),
            _ => Super,
        }
    }

    #[state(superstate = "pre_answer")]
    fn dialing(event: &Event) -> Outcome<CallState> {
        match event {
            Event::Status(CallStatus::Ringing) => Transition(CallState::Ringing),
            _ => Super,
        }
    }

    #[state(superstate = "pre_answer")]
    fn ringing(event: &Event) -> Outcome<CallState> {
        let _ = event;
        Super
    }

    #[superstate]
    fn pre_answer(context: &mut Ctx, event: &Event) -> Outcome<CallState> {
        match event {
            Event::Answered { machine: true } => {
                if context.rules.voicemail == VoicemailAction::LeaveMessage {
                    context.effects.push(Effect::Say(Prompt::Voicemail));
                }
                context.effects.push(Effect::Hangup);
                Transition(CallState::Voicemail)
            }
            Event::Answered { machine: false } => {
                // Say who is calling and why before anything else.
                context.effects.push(Effect::Say(Prompt::Intro));
                if context.rules.ask_name {
                    context.effects.push(Effect::Ask(Prompt::Identify));
                }
                Transition(CallState::Identify { attempts: 0 })
            }
            Event::Status(CallStatus::Busy) => Transition(CallState::Ended {
                disposition: Disposition::Busy,
            }),
            Event::Status(CallStatus::NoAnswer) => Transition(CallState::Ended {
                disposition: Disposition::NoAnswer,
            }),
            Event::Status(CallStatus::Canceled) => Transition(CallState::Ended {
                disposition: Disposition::Canceled,
            }),
            Event::Status(CallStatus::Failed) | Event::Rejected => Transition(CallState::Ended {
                disposition: Disposition::Failed,
            }),
            // `completed` means Twilio connected the call and it ended: somebody
            // (or a machine) picked up and hung up before our answer webhook was
            // handled. Answered, so not `failed`.
            Event::Status(CallStatus::Completed) => Transition(CallState::Ended {
                disposition: Disposition::HungUp,
            }),
            _ => Handled,
        }
    }

    #[state(superstate = "conversation")]
    fn identify(context: &mut Ctx, attempts: &mut u8, event: &Event) -> Outcome<CallState> {
        match event {
            // Without a name there is nobody to confirm: go on in the same answer.
            Event::Proceed if !context.rules.ask_name => after_identify(context),
            Event::Input(Intent::Yes) => after_identify(context),
            Event::Input(Intent::No) => {
                finish(context, Prompt::WrongParty, Disposition::WrongParty)
            }
            Event::Input(Intent::Unclear | Intent::Silence) => reprompt(
                context,
                *attempts,
                Prompt::IdentifyReprompt,
                |attempts| CallState::Identify { attempts },
                |ctx| finish(ctx, Prompt::NoResponse, Disposition::NoResponse),
            ),
            _ => Super,
        }
    }

    #[state(superstate = "conversation")]
    fn consent(context: &mut Ctx, attempts: &mut u8, event: &Event) -> Outcome<CallState> {
        match event {
            Event::Input(Intent::Yes) => {
                context.effects.push(Effect::RecordConsent(true));
                context.effects.push(Effect::StartRecording);
                Transition(CallState::Record)
            }
            Event::Input(Intent::No) => decline_recording(context),
            // Unclear or silent, once reprompts are spent, counts as no: never record on doubt.
            Event::Input(Intent::Unclear | Intent::Silence) => reprompt(
                context,
                *attempts,
                Prompt::ConsentReprompt,
                |attempts| CallState::Consent { attempts },
                decline_recording,
            ),
            _ => Super,
        }
    }

    #[state(superstate = "conversation")]
    fn record(event: &Event) -> Outcome<CallState> {
        match event {
            Event::Proceed => Transition(CallState::Pitch),
            _ => Super,
        }
    }

    #[state(superstate = "conversation")]
    fn pitch(context: &mut Ctx, event: &Event) -> Outcome<CallState> {
        match event {
            Event::Proceed => {
                context.effects.push(Effect::Ask(Prompt::Pitch));
                Transition(CallState::Gather { attempts: 0 })
            }
            _ => Super,
        }
    }

    #[state(superstate = "conversation")]
    fn gather(context: &mut Ctx, attempts: &mut u8, event: &Event) -> Outcome<CallState> {
        match event {
            Event::Input(Intent::Yes) => {
                finish(context, Prompt::Interested, Disposition::Interested)
            }
            Event::Input(Intent::No) => finish(context, Prompt::Declined, Disposition::Declined),
            Event::Input(Intent::Unclear | Intent::Silence) => reprompt(
                context,
                *attempts,
                Prompt::PitchReprompt,
                |attempts| CallState::Gather { attempts },
                |ctx| finish(ctx, Prompt::NoResponse, Disposition::NoResponse),
            ),
            _ => Super,
        }
    }

    #[state(superstate = "conversation")]
    fn opt_out(event: &Event) -> Outcome<CallState> {
        match event {
            Event::Proceed => Transition(CallState::Ended {
                disposition: Disposition::OptedOut,
            }),
            _ => Super,
        }
    }

    /// Opt-out is honoured from every conversational state.
    #[superstate]
    fn conversation(context: &mut Ctx, event: &Event) -> Outcome<CallState> {
        match event {
            Event::Input(Intent::OptOut) => {
                context.effects.push(Effect::AddToDoNotCall);
                context.effects.push(Effect::Say(Prompt::OptOut));
                context.effects.push(Effect::Hangup);
                Transition(CallState::OptOut)
            }
            // The callee hung up mid-conversation.
            Event::Status(status) if status.is_terminal() => Transition(CallState::Ended {
                disposition: Disposition::HungUp,
            }),
            _ => Handled,
        }
    }

    #[state]
    fn voicemail(event: &Event) -> Outcome<CallState> {
        match event {
            Event::Proceed => Transition(CallState::Ended {
                disposition: Disposition::Voicemail,
            }),
            _ => Handled,
        }
    }

    /// Final: nothing moves an ended call.
    #[state]
    fn ended(disposition: &mut Disposition, event: &Event) -> Outcome<CallState> {
        let _ = (disposition, event);
        Handled
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
