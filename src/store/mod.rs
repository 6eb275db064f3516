//! Redis persistence: call records, timelines, idempotency, do-not-call list.
//! Key names are in [`keys`], Lua scripts in `scripts/`.

mod campaign_store;
mod outbox_store;
pub mod keys;
mod redis_store;

pub use keys::Keys;
pub use campaign_store::{CampaignSnapshot, Claim, Finish};
pub use redis_store::{Cas, Loaded, Store, StoreError};
