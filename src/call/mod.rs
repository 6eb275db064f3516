//! The outbound call: a pure, synchronous statig machine plus the events it
//! handles and the effects it asks for. No HTTP, Redis or TwiML in here.

pub mod apply;
pub mod disposition;
pub mod effect;
pub mod event;
pub mod machine;
pub mod record;

pub use disposition::Disposition;
pub use effect::{Effect, Prompt};
pub use event::{CallStatus, Event, Intent};
pub use machine::{advance, CallState, Rules, Step, VoicemailAction};
pub use record::{ApiFailure, CallRecord, CampaignLink, TimelineEntry};
