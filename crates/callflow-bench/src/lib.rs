//! callflow's load generator, used by `callflow bench`: it plays Twilio against
//! running callflow instances, posting every callback of complete calls signed
//! as Twilio signs them over lean keep-alive HTTP/1.1 connections, and measures
//! latency, throughput and what each callback costs the server and Redis.
//! Starting the instances is the caller's business: this crate only talks to
//! them over HTTP (and reads `/proc` and Redis' `INFO` for the costs).

pub mod api_client;
pub mod callbacks;
mod caller;
pub mod http1;
mod instance;
pub mod stats;

/// The Twilio account the instances under load are configured with.
pub const ACCOUNT_SID: &str = "ACbe0c40000000000000000000000000be";
/// Its auth token: callbacks are signed with it.
pub const AUTH_TOKEN: &str = "bench-auth-token";
/// The instances' API token (`API_TOKEN`).
pub const API_TOKEN: &str = "bench-api-token-0123456789";
