//! Twilio's wire formats: request signatures, typed webhook forms and the REST client.

pub mod rest;
pub mod signature;
pub mod webhook;
