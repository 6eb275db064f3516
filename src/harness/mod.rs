//! What runs callflow for show and for measurement rather than in production:
//! `callflow demo` (feature `demo`) and `callflow bench` (feature `bench`),
//! both against the Twilio simulator (the `twilio-sim` crate). A production
//! build (`--no-default-features`) leaves all of it out.

#[cfg(feature = "bench")]
pub mod bench;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "demo")]
mod demo_campaign;
mod demo_inbound;
#[cfg(feature = "bench")]
pub mod redis_cluster;
#[cfg(feature = "demo")]
mod table;
