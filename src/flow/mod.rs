//! Flows: the words, voice, intent patterns and rules of a call, in `flows/*.toml`.
//! A file's `kind` says which machine it drives: `outbound` (the default) or
//! `inbound` (calls to the business's numbers: greeting, menu, voicemail).
//!
//! A flow is validated when loaded (bad regex, unknown placeholder, missing
//! prompt all fail with the file, field and reason) and versioned by a hash of
//! its text, so a call keeps the flow it started with while the file changes.

mod file;
mod inbound;
mod registry;
mod schema;
mod validate;

pub use file::{try_fill, Flow};
pub use inbound::{InboundFlow, MenuOption, OptionAction, INBOUND_PLACEHOLDERS};
pub use registry::FlowRegistry;
pub use schema::{placeholders, FlowError, Intents, RecordingConsent};
