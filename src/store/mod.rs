//! Redis persistence, split by aggregate: persisted machine records
//! ([`records`]), the tenant's call log and record expiry ([`call_log`]), the do-not-call list ([`dnc`]), the per-number dial cap
//! ([`dial_cap`]), campaigns, the outbox, notifications (texts sent) and
//! incoming-text markers ([`notifications`]) and the answers remembered for
//! idempotency keys ([`idempotency`]); what the server says of its own
//! persistence ([`server_info`]).
//! Every key name is in [`keys`], every Lua script in `scripts/`.

mod call_log;
mod campaign;
mod conn;
mod console;
mod contact_hold;
mod deadline;
mod dial_cap;
mod dnc;
mod effects;
mod idempotency;
mod inbound;
pub mod keys;
mod notifications;
mod numbers;
mod outbox_store;
mod records;
mod scheduled;
mod server_info;
mod tenants;

use std::sync::Arc;

use conn::{Conn, Connector};

pub use call_log::{CallLogEntry, LogStart};
pub use campaign::{
    ceiling, due_in_list_order, spacing_ms, Admit, CampaignSnapshot, CampaignStatus, CancelStep,
    Finish, PaceScope, SendLog, StatusRefused, Take, PACE_MARGIN,
};
pub use deadline::{Deadline, RESPONSE_TIMEOUT};
pub use dial_cap::{CapCheck, CapWindow};
pub use dnc::Lift;
pub use effects::Effect;
pub use idempotency::{sha256_hex, Claim};
pub use keys::{Keys, RecordKeys};
pub use notifications::{NotificationStatus, StatusChange, StatusUpdate};
pub use numbers::{NumberClaim, NumberHeld};
pub use records::{Loaded, Write, WriteOutcome, REPLY_IN_TIMELINE};
pub use server_info::Persistence;
pub use tenants::TokenOwner;

/// The node URLs of a `redis+cluster://h1:p1,h2:p2` URL.
pub fn cluster_nodes(url: &str) -> Option<Vec<String>> {
    let nodes = url.strip_prefix("redis+cluster://")?;
    Some(
        nodes
            .trim_end_matches('/')
            .split(',')
            .filter(|n| !n.trim().is_empty())
            .map(|n| format!("redis://{}/", n.trim()))
            .collect(),
    )
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

#[derive(Clone)]
pub struct Store {
    /// Shared by everything off the callback path.
    conn: Conn,
    connector: Arc<Connector>,
    keys: Keys,
    offset: Arc<deadline::ClockOffset>,
}

impl Store {
    /// Connects to `url`: `redis://host:port/...` for one server, or
    /// `redis+cluster://h1:p1,h2:p2,...` for a Redis Cluster.
    pub async fn connect(url: &str, tenant: &str) -> Result<Store, StoreError> {
        let timeout = RESPONSE_TIMEOUT;
        let connector = match cluster_nodes(url) {
            Some(nodes) => Connector::cluster(
                redis::cluster::ClusterClient::builder(nodes)
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .build()?,
            ),
            None => Connector::single(redis::Client::open(url)?, timeout),
        };
        let store = Store {
            conn: connector.open().await?,
            connector: Arc::new(connector),
            keys: Keys::new(tenant),
            offset: Arc::default(),
        };
        store.measure_clock().await?;
        Ok(store)
    }

    /// The same connection acting for `tenant`: every key it touches is that
    /// tenant's. Cheap (no new connection).
    pub fn for_tenant(&self, tenant: &str) -> Store {
        Store {
            conn: self.conn.clone(),
            connector: self.connector.clone(),
            keys: Keys::new(tenant),
            offset: self.offset.clone(),
        }
    }

    /// The tenant this store acts for.
    pub fn tenant(&self) -> &str {
        self.keys.tenant()
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// A handle on the shared multiplexed connection.
    pub(crate) fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// The connection for the callback path: this worker thread's own.
    async fn worker_conn(&self) -> Conn {
        self.connector.local(&self.conn).await
    }

    /// Round trips to Redis since this store was opened.
    pub fn round_trips(&self) -> u64 {
        self.conn.round_trips()
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut c).await?;
        Ok(())
    }
}
