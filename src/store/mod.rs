//! Redis persistence: call records, timelines, idempotency, do-not-call list.
//! Key names are in [`keys`], Lua scripts in `scripts/`.

mod campaign;
mod conn;
pub mod keys;
mod outbox_store;
mod redis_store;

pub use campaign::{Admit, CampaignSnapshot, Finish, StatusRefused, Take};
pub use keys::Keys;
pub use redis_store::{cluster_nodes, Cas, Loaded, Store, StoreError, REPLY_IN_TIMELINE};
