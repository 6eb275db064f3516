//! Integration tests: a real redis-server per test, the Twilio simulator over
//! real HTTP, and the server started on a free port.

mod api;
mod bench;
mod campaign_cancel;
mod campaign_pacing;
mod campaign_scale;
mod campaign_windows;
mod campaigns;
mod cluster;
mod demo;
mod helpers;
mod personas;
mod restart;
mod snapshots;
mod twilio_rest;
mod webhooks;
