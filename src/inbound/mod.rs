//! The inbound call: a pure, synchronous statig machine for a call to one of
//! the business's numbers (greeting, menu, forwarding, voicemail), the events
//! it handles and the effects it asks for. Like `call/`, no HTTP, Redis, TwiML
//! or Twilio wire format in here: the edge translates callbacks into
//! [`InboundEvent`], the renderer turns [`InboundEffect`]s into TwiML.

pub mod disposition;
pub mod effect;
pub mod event;
pub mod hours;
pub mod input;
pub mod machine;
pub mod ring;

pub use disposition::InboundDisposition;
pub use effect::{CallReason, InboundEffect, InboundPrompt};
pub use event::{DialOutcome, InboundEvent, MenuPick};
pub use hours::OpenHours;
pub use input::InboundInput;
pub use machine::{advance, InboundRules, InboundState, InboundStep, Route};
pub use ring::{legs, RingStrategy, Ringee};
