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
mod dial_gate;
mod dry_run;
mod durable_redis;
mod egress;
mod fault_suite;
mod helpers;
mod limits;
mod numbers;
mod one_call_per_number;
mod personas;
mod redis_faults;
mod redis_restart;
mod replays;
mod restart;
mod shutdown;
mod signatures;
mod single_call_rules;
mod single_calls;
mod snapshots;
mod snapshots_inbound;
mod twilio_rest;
mod unreadable_state;
mod webhooks;
