//! Text messages: the keywords people send (opt-out, opt-in, help) and the
//! templates callflow sends. Pure: no HTTP, Redis or Twilio wire format.

pub mod keywords;
pub mod templates;

pub use keywords::{Keyword, Reply};
pub use templates::{SmsTemplate, TemplateError, Templates};
