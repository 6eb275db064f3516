//! Flows: the words, voice, intent patterns and rules of a call, in `flows/*.toml`.
//!
//! A flow is validated when loaded (bad regex, unknown placeholder, missing
//! prompt all fail with the file, field and reason) and versioned by a hash of
//! its text, so a call keeps the flow it started with while the file changes.

mod file;
mod registry;
mod schema;
mod validate;

pub use file::Flow;
pub use registry::FlowRegistry;
pub use schema::{FlowError, Intents, RecordingConsent};
