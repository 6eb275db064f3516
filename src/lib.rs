//! callflow: outbound phone calls on Twilio, each one a persisted state machine.

pub mod call;
pub mod config;
pub mod flow;
pub mod graph;
pub mod http;
pub mod phone;
pub mod redis_server;
pub mod render;
pub mod service;
pub mod sim;
pub mod startup;
pub mod store;
pub mod twilio;
pub mod twiml;
