//! callflow: outbound phone calls on Twilio, each one a persisted state machine.
//!
//! The road of one callback: `http::webhooks` (signature, form) ->
//! `twilio::webhook` (form -> `call::Input`) -> `app::outbound` ->
//! `app::transition` (load, decide, compare-and-set) with `app::outbound`
//! (the call machine: `call::apply` + `render`) -> `store::records`.
//! `ARCHITECTURE.md` maps every module and the direction of dependencies.

pub mod app;
pub mod call;
pub mod campaign;
pub mod clock;
pub mod compliance;
pub mod config;
pub mod doctor;
pub mod egress;
pub mod flow;
pub mod graph;
#[cfg(any(feature = "demo", feature = "bench"))]
pub mod harness;
pub mod healthcheck;
pub mod http;
pub mod inbound;
pub mod messaging;
pub mod observe;
pub mod outage;
pub mod outbox;
pub mod per_thread;
pub mod phone;
pub mod record_cache;
pub mod redis_server;
pub mod render;
pub mod render_inbound;
pub mod shutdown;
pub mod sms;
pub mod startup;
pub mod store;
pub mod tenant;
pub mod twilio;
pub mod twiml;

/// Installs the TLS crypto provider once (reqwest is built without a default one).
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
