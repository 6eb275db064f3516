//! The outbound call: a pure, synchronous statig machine plus the events it
//! handles and the effects it asks for. No HTTP, Redis, TwiML or Twilio wire
//! format in here: `twilio::webhook` translates callbacks into [`Input`].

pub mod apply;
pub mod disposition;
pub mod effect;
pub mod event;
pub mod input;
pub mod machine;
pub mod record;
pub mod samples;

pub use disposition::Disposition;
pub use effect::{Effect, Prompt};
pub use event::{CallStatus, Event, Intent};
pub use input::Input;
pub use machine::{advance, CallState, Rules, Step, VoicemailAction};
pub use record::{ApiFailure, CallRecord, CampaignLink, Direction, Heard, TimelineEntry};
