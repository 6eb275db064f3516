use std::sync::{Arc, LazyLock};

use redis::{AsyncCommands, Script};

use super::conn::{Conn, Connector};

use super::Keys;

/// Tells the transition script the reply is the last timeline entry's TwiML.
pub const REPLY_IN_TIMELINE: &str = "=timeline";

static TRANSITION: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/transition.lua")));

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

/// The call-hash field that remembers the reply to one callback.
fn seen_field(idem_key: &str) -> String {
    format!("s:{idem_key}")
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A call as read: its version, record JSON and, if the callback was seen, the reply given then.
#[derive(Debug)]
pub struct Loaded {
    pub version: u64,
    pub record: Option<String>,
    pub seen: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Cas {
    Written {
        version: u64,
    },
    /// The same callback was already handled; this is the reply given then.
    Seen(String),
    /// Someone else moved the call on: retry from `current` (its version and
    /// record JSON, as the script saw them; `None` if the call does not exist).
    Conflict {
        current: Option<(u64, String)>,
    },
}

#[derive(Clone)]
pub struct Store {
    /// Shared by everything off the callback path.
    conn: Conn,
    connector: Arc<Connector>,
    keys: Keys,
}

impl Store {
    /// Connects to `url`: `redis://host:port/...` for one server, or
    /// `redis+cluster://h1:p1,h2:p2,...` for a Redis Cluster.
    pub async fn connect(url: &str, tenant: &str) -> Result<Store, StoreError> {
        let timeout = std::time::Duration::from_secs(2);
        let connector = match cluster_nodes(url) {
            Some(nodes) => Connector::cluster(
                redis::cluster::ClusterClient::builder(nodes)
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .build()?,
            ),
            None => Connector::single(redis::Client::open(url)?, timeout),
        };
        Ok(Store {
            conn: connector.open().await?,
            connector: Arc::new(connector),
            keys: Keys::new(tenant),
        })
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// A handle on the shared multiplexed connection.
    pub(crate) fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// The connection for the callback path: this worker thread's own.
    async fn hot(&self) -> Conn {
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

    /// One round trip: the record, its version and the reply to `idem_key` if
    /// seen (a second one when that reply is kept in the timeline: retries only).
    pub async fn load(&self, call_id: &str, idem_key: &str) -> Result<Loaded, StoreError> {
        let mut c = self.hot().await;
        let (version, record, seen): (Option<u64>, Option<String>, Option<String>) =
            redis::cmd("HMGET")
                .arg(self.keys.call(call_id))
                .arg("v")
                .arg("d")
                .arg(seen_field(idem_key))
                .query_async(&mut c)
                .await?;
        let seen = match seen {
            Some(pointer) if pointer.starts_with('#') => {
                let index: isize = pointer[1..]
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("seen pointer '{pointer}'")))?;
                let entry: Option<String> = c.lindex(self.keys.timeline(call_id), index).await?;
                let twiml = entry
                    .and_then(|e| serde_json::from_str::<serde_json::Value>(&e).ok())
                    .and_then(|e| e["twiml"].as_str().map(str::to_owned));
                Some(twiml.unwrap_or_default())
            }
            other => other,
        };
        Ok(Loaded {
            version: version.unwrap_or(0),
            record,
            seen: seen.filter(|_| !idem_key.is_empty()),
        })
    }

    /// The atomic transition (see `scripts/transition.lua`). A reply of
    /// [`REPLY_IN_TIMELINE`] is the `twiml` of the timeline entry written with it.
    pub async fn transition(
        &self,
        call_id: &str,
        expected_version: u64,
        record_json: &str,
        idem: Option<(&str, &str)>,
        timeline: &[String],
    ) -> Result<Cas, StoreError> {
        let (idem_key, reply) = idem.unwrap_or(("", ""));
        let mut inv = TRANSITION.prepare_invoke();
        inv.key(self.keys.call(call_id))
            .key(self.keys.timeline(call_id))
            .arg(expected_version)
            .arg(record_json)
            .arg(if idem_key.is_empty() {
                String::new()
            } else {
                seen_field(idem_key)
            })
            .arg(reply);
        for entry in timeline {
            inv.arg(entry);
        }
        let mut c = self.hot().await;
        let reply: Vec<String> = inv.invoke_async(&mut c).await?;
        let corrupt = || StoreError::Corrupt(format!("script answered {reply:?}"));
        let version = |v: &String| v.parse::<u64>().map_err(|_| corrupt());
        match (
            reply.first().map(String::as_str),
            reply.get(1),
            reply.get(2),
        ) {
            (Some("ok"), Some(v), _) => Ok(Cas::Written {
                version: version(v)?,
            }),
            (Some("seen"), Some(previous), _) => Ok(Cas::Seen(previous.clone())),
            (Some("conflict"), Some(v), Some(record)) => Ok(Cas::Conflict {
                current: if record.is_empty() {
                    None
                } else {
                    Some((version(v)?, record.clone()))
                },
            }),
            _ => Err(corrupt()),
        }
    }

    pub async fn timeline(&self, call_id: &str) -> Result<Vec<String>, StoreError> {
        let mut c = self.hot().await;
        Ok(c.lrange(self.keys.timeline(call_id), 0, -1).await?)
    }

    pub async fn index_call_sid(&self, call_sid: &str, call_id: &str) -> Result<(), StoreError> {
        let mut c = self.hot().await;
        let _: () = c.set(self.keys.call_sid(call_sid), call_id).await?;
        Ok(())
    }

    pub async fn call_id_for_sid(&self, call_sid: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.hot().await;
        Ok(c.get(self.keys.call_sid(call_sid)).await?)
    }

    pub async fn dnc_add(&self, number: &str, entry_json: &str) -> Result<bool, StoreError> {
        let mut c = self.hot().await;
        let added: bool = c.hset_nx(self.keys.dnc(), number, entry_json).await?;
        Ok(added)
    }

    pub async fn dnc_remove(&self, number: &str) -> Result<bool, StoreError> {
        let mut c = self.hot().await;
        let removed: u32 = c.hdel(self.keys.dnc(), number).await?;
        Ok(removed > 0)
    }

    pub async fn dnc_get(&self, number: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.hot().await;
        Ok(c.hget(self.keys.dnc(), number).await?)
    }

    /// Saves a flow version once; calls in flight load it after the file changes.
    pub async fn save_flow(
        &self,
        flow_id: &str,
        version: &str,
        source: &str,
    ) -> Result<(), StoreError> {
        let mut c = self.hot().await;
        let _: bool = c.set_nx(self.keys.flow(flow_id, version), source).await?;
        Ok(())
    }

    pub async fn load_flow(
        &self,
        flow_id: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut c = self.hot().await;
        Ok(c.get(self.keys.flow(flow_id, version)).await?)
    }
}
