//! Redis persistence: call records, timelines, idempotency, do-not-call list.
//! Key names are in [`keys`], Lua scripts in `scripts/`.

pub mod keys;
mod redis_store;

pub use keys::Keys;
pub use redis_store::{Cas, Loaded, Store, StoreError};
