//! The application core: the shared state, the one transition loop every
//! persisted machine uses, and the outbound call machine plugged into it.
//! Depends on the machines, flows, store and Twilio client; never on HTTP or
//! on campaigns (they hear of finished calls through [`CallListener`]).

pub mod call_log;
#[cfg(test)]
mod call_props;
pub mod calls;
pub mod dial_gate;
pub mod effects;
mod error;
pub mod inbound;
pub mod notifications;
pub mod numbers;
pub mod outbound;
pub mod pace;
pub mod recording;
pub mod single;
mod state;
pub mod transition;

pub use calls::{Dialed, NewCall, PlacedCall};
pub use error::ServiceError;
pub use inbound::{InboundCallEvent, InboundListener};
pub use outbound::{CallInput, OutboundCalls};
pub use state::{AppState, CallListener, DncEntry, TenantSettings};
