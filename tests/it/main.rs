//! Integration tests: a real redis-server per test, the Twilio simulator over
//! real HTTP, and the server started on a free port.

mod helpers;
mod snapshots;
