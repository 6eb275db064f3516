//! Text messages for a tenant, at the application level: sending through the
//! outbox ([`send`]), an incoming text's keywords, auto-reply and relay
//! ([`incoming`]) and the statuses Twilio reports for texts sent
//! ([`status`]). The pure parts (keywords, templates) are `messaging`; the
//! notification records are `app::notifications`.

pub mod follow_up;
pub mod inbound_calls;
pub mod incoming;
pub mod send;
pub mod status;

pub use send::{enqueue_sms, Outgoing, Queued, SmsError};
