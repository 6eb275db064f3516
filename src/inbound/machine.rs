//! The inbound call as a statig machine.
//!
//! ```text
//! top
//! ├── ringing ──Incoming──> greeting ──> menu | forwarding | voicemail | ended
//! ├── menu(attempts, informed) ──pick──> forwarding | voicemail | menu | ended
//! ├── forwarding(leg) ──DialEnded──> ended(answered) | forwarding(leg + 1) | voicemail | ended(missed)
//! ├── voicemail(after_miss) ──Recorded──> ended(voicemail | missed)
//! └── ended(disposition)
//! ```
//! As in the outbound machine, handlers only decide the next state and push
//! [`InboundEffect`]s; there are no entry or exit actions, so a machine loaded
//! from storage replays nothing. `greeting` passes through within one callback.
//!
//! Callbacks arrive out of order: the status callback may say the caller left
//! before the `<Dial action>` or `<Record action>` of the same call arrives.
//! The machine ends the call on the status callback (it may be the last word)
//! and lets a late action that carries a fact correct it: a message recorded
//! turns `missed`/`abandoned` into `voicemail`; a forward answered turns
//! `abandoned` into `answered`. Nothing else moves an ended call.

use serde::{Deserialize, Serialize};
use statig::prelude::*;

use super::{
    DialOutcome, InboundDisposition, InboundEffect, InboundEvent, InboundPrompt, MenuPick,
};

/// Where the call goes when it is time to reach someone, decided once when
/// the call arrives (business hours in the tenant's zone, its settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// In hours: ring `forward_to`.
    Forward,
    /// Out of hours, to the after-hours number.
    AfterHoursForward,
    /// Out of hours (or nobody to ring): take a message.
    Voicemail,
    /// Out of hours, no voicemail: say so and hang up.
    Closed,
}

/// The parts of the flow, the tenant and the call that steer the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundRules {
    /// The flow has a menu.
    pub menu: bool,
    /// Reprompts of the menu before silence routes the call as if no menu.
    pub max_reprompts: u8,
    /// Forward legs tried in turn (1 when every person rings at once).
    pub legs: u8,
    /// A message can be taken when nobody answers.
    pub voicemail: bool,
    pub route: Route,
}

/// The stored state. The serde names are the persisted format and the API's
/// `state` values: pinned so renaming a handler never changes stored data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum InboundState {
    #[serde(rename = "ringing")]
    /// Calling our number: nothing answered yet.
    Ringing,
    #[serde(rename = "greeting")]
    Greeting,
    /// Waiting for the menu's answer. `informed`: a text option was served.
    #[serde(rename = "menu")]
    Menu { attempts: u8, informed: bool },
    /// Waiting for the `<Dial action>` of forward leg `leg`.
    #[serde(rename = "forwarding")]
    Forwarding { leg: u8 },
    /// Waiting for the `<Record action>`. `after_miss`: the forward was not answered.
    #[serde(rename = "voicemail")]
    Voicemail { after_miss: bool },
    #[serde(rename = "ended")]
    Ended { disposition: InboundDisposition },
}

impl InboundState {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ringing => "ringing",
            Self::Greeting => "greeting",
            Self::Menu { .. } => "menu",
            Self::Forwarding { .. } => "forwarding",
            Self::Voicemail { .. } => "voicemail",
            Self::Ended { .. } => "ended",
        }
    }

    pub fn disposition(&self) -> Option<InboundDisposition> {
        match self {
            Self::Ended { disposition } => Some(*disposition),
            _ => None,
        }
    }
}

/// Effects collected while handling one event.
pub struct Ctx {
    pub rules: InboundRules,
    pub effects: Vec<InboundEffect>,
}

#[derive(Default)]
pub struct InboundMachine;

/// The result of [`advance`]: where the call rests now, the states it passed
/// through on the way, and the effects to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundStep {
    pub state: InboundState,
    pub via: Vec<InboundState>,
    pub effects: Vec<InboundEffect>,
}

impl InboundStep {
    pub fn changed_from(&self, before: &InboundState) -> bool {
        &self.state != before || !self.via.is_empty()
    }
}

/// Handles one event from `state` and follows pass-through states to rest.
pub fn advance(state: &InboundState, event: &InboundEvent, rules: InboundRules) -> InboundStep {
    let mut ctx = Ctx {
        rules,
        effects: Vec::new(),
    };
    let mut machine = InboundMachine.uninitialized_state_machine();
    *machine.state_mut() = state.clone();
    // No state has an entry action, so initialising replays nothing.
    let mut machine = machine.init_with_context(&mut ctx);
    machine.handle_with_context(event, &mut ctx);
    let mut via = Vec::new();
    // Bounded: the only pass-through state is `greeting`.
    for _ in 0..4 {
        let before = machine.state().clone();
        machine.handle_with_context(&InboundEvent::Proceed, &mut ctx);
        if *machine.state() == before {
            break;
        }
        via.push(before);
    }
    InboundStep {
        state: machine.state().clone(),
        via,
        effects: ctx.effects,
    }
}

fn end(disposition: InboundDisposition) -> Outcome<InboundState> {
    Transition(InboundState::Ended { disposition })
}

/// Ring the first forward leg.
fn forward(ctx: &mut Ctx) -> Outcome<InboundState> {
    ctx.effects
        .push(InboundEffect::Say(InboundPrompt::Connecting));
    ctx.effects.push(InboundEffect::Forward { leg: 0 });
    Transition(InboundState::Forwarding { leg: 0 })
}

/// Take a message, or say nobody can and hang up.
fn take_message(ctx: &mut Ctx, after_miss: bool) -> Outcome<InboundState> {
    if ctx.rules.voicemail {
        ctx.effects
            .push(InboundEffect::Say(InboundPrompt::Voicemail));
        ctx.effects.push(InboundEffect::Record);
        Transition(InboundState::Voicemail { after_miss })
    } else {
        if !after_miss {
            ctx.effects.push(InboundEffect::TextMissedCall);
        }
        ctx.effects.push(InboundEffect::Say(InboundPrompt::Missed));
        ctx.effects.push(InboundEffect::Hangup);
        end(InboundDisposition::Missed)
    }
}

/// Reach someone the way the call's route says.
fn route(ctx: &mut Ctx) -> Outcome<InboundState> {
    match ctx.rules.route {
        Route::Forward | Route::AfterHoursForward => forward(ctx),
        Route::Voicemail => {
            ctx.effects.push(InboundEffect::Say(InboundPrompt::Closed));
            take_message(ctx, false)
        }
        Route::Closed => {
            ctx.effects.push(InboundEffect::Say(InboundPrompt::Closed));
            ctx.effects.push(InboundEffect::TextMissedCall);
            ctx.effects.push(InboundEffect::Say(InboundPrompt::Goodbye));
            ctx.effects.push(InboundEffect::Hangup);
            end(InboundDisposition::Missed)
        }
    }
}

#[state_machine(
    initial = "InboundState::Ringing",
    state(custom, name = "InboundState"),
    superstate(derive(Debug))
)]
impl InboundMachine {
    #[state]
    fn ringing(context: &mut Ctx, event: &InboundEvent) -> Outcome<InboundState> {
        match event {
            InboundEvent::Incoming => {
                context
                    .effects
                    .push(InboundEffect::Say(InboundPrompt::Greeting));
                Transition(InboundState::Greeting)
            }
            // The caller left before the call reached us.
            InboundEvent::HungUp => end(InboundDisposition::Abandoned),
            _ => Handled,
        }
    }

    #[state]
    fn greeting(context: &mut Ctx, event: &InboundEvent) -> Outcome<InboundState> {
        match event {
            InboundEvent::Proceed if context.rules.menu => {
                context
                    .effects
                    .push(InboundEffect::Ask(InboundPrompt::Menu));
                Transition(InboundState::Menu {
                    attempts: 0,
                    informed: false,
                })
            }
            InboundEvent::Proceed => route(context),
            _ => Handled,
        }
    }

    #[state]
    fn menu(
        context: &mut Ctx,
        attempts: &mut u8,
        informed: &mut bool,
        event: &InboundEvent,
    ) -> Outcome<InboundState> {
        let InboundEvent::Menu(pick) = event else {
            return match event {
                InboundEvent::HungUp if *informed => end(InboundDisposition::MenuInfo),
                InboundEvent::HungUp => end(InboundDisposition::Abandoned),
                _ => Handled,
            };
        };
        match *pick {
            MenuPick::Forward(reason) => {
                context.effects.push(InboundEffect::Reason(reason));
                route(context)
            }
            MenuPick::Voicemail(reason) => {
                context.effects.push(InboundEffect::Reason(reason));
                take_message(context, false)
            }
            MenuPick::Info { option, reason } => {
                context.effects.push(InboundEffect::Reason(reason));
                context
                    .effects
                    .push(InboundEffect::Say(InboundPrompt::Option(option)));
                context
                    .effects
                    .push(InboundEffect::Ask(InboundPrompt::Menu));
                Transition(InboundState::Menu {
                    attempts: 0,
                    informed: true,
                })
            }
            MenuPick::Sms { option, reason } => {
                context.effects.push(InboundEffect::Reason(reason));
                context
                    .effects
                    .push(InboundEffect::SendOptionSms { option });
                context
                    .effects
                    .push(InboundEffect::Say(InboundPrompt::Option(option)));
                context
                    .effects
                    .push(InboundEffect::Ask(InboundPrompt::Menu));
                Transition(InboundState::Menu {
                    attempts: 0,
                    informed: true,
                })
            }
            MenuPick::Unclear | MenuPick::Silence => {
                if *attempts < context.rules.max_reprompts {
                    context
                        .effects
                        .push(InboundEffect::Ask(InboundPrompt::MenuReprompt));
                    Transition(InboundState::Menu {
                        attempts: *attempts + 1,
                        informed: *informed,
                    })
                } else if *informed {
                    // They heard what they came for and said nothing more.
                    context
                        .effects
                        .push(InboundEffect::Say(InboundPrompt::Goodbye));
                    context.effects.push(InboundEffect::Hangup);
                    end(InboundDisposition::MenuInfo)
                } else {
                    // No choice made: reach someone as if there were no menu.
                    route(context)
                }
            }
        }
    }

    #[state]
    fn forwarding(context: &mut Ctx, leg: &mut u8, event: &InboundEvent) -> Outcome<InboundState> {
        match event {
            InboundEvent::DialEnded(DialOutcome::Answered) => {
                context.effects.push(InboundEffect::Hangup);
                end(InboundDisposition::Answered)
            }
            InboundEvent::DialEnded(outcome) if outcome.is_missed() => {
                let next = leg.saturating_add(1);
                if next < context.rules.legs {
                    context.effects.push(InboundEffect::Forward { leg: next });
                    Transition(InboundState::Forwarding { leg: next })
                } else {
                    context.effects.push(InboundEffect::TextMissedCall);
                    take_message(context, true)
                }
            }
            InboundEvent::DialEnded(_) | InboundEvent::HungUp => end(InboundDisposition::Abandoned),
            _ => Handled,
        }
    }

    #[state]
    fn voicemail(
        context: &mut Ctx,
        after_miss: &mut bool,
        event: &InboundEvent,
    ) -> Outcome<InboundState> {
        match event {
            InboundEvent::Recorded { seconds } if *seconds > 0 => {
                context
                    .effects
                    .push(InboundEffect::Say(InboundPrompt::VoicemailThanks));
                context.effects.push(InboundEffect::Hangup);
                end(InboundDisposition::Voicemail)
            }
            InboundEvent::Recorded { .. } | InboundEvent::HungUp => {
                if !*after_miss {
                    context.effects.push(InboundEffect::TextMissedCall);
                }
                if matches!(event, InboundEvent::Recorded { .. }) {
                    context
                        .effects
                        .push(InboundEffect::Say(InboundPrompt::Goodbye));
                    context.effects.push(InboundEffect::Hangup);
                }
                end(InboundDisposition::Missed)
            }
            _ => Handled,
        }
    }

    /// Final, but for the late facts described in the module's comment.
    #[state]
    fn ended(
        context: &mut Ctx,
        disposition: &mut InboundDisposition,
        event: &InboundEvent,
    ) -> Outcome<InboundState> {
        use InboundDisposition::{Abandoned, Missed};
        match (event, *disposition) {
            (InboundEvent::Recorded { seconds }, Missed | Abandoned) if *seconds > 0 => {
                context.effects.push(InboundEffect::Hangup);
                end(InboundDisposition::Voicemail)
            }
            (InboundEvent::DialEnded(DialOutcome::Answered), Abandoned) => {
                context.effects.push(InboundEffect::Hangup);
                end(InboundDisposition::Answered)
            }
            _ => Handled,
        }
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
