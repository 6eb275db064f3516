//! What the Redis server says of itself: whether it keeps its data across a
//! restart (`callflow doctor`).

use crate::store::{Store, StoreError};

/// Which persistence the server has on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Read from `CONFIG GET`: the append-only file and RDB snapshots.
    Known { aof: bool, rdb: bool },
    /// `CONFIG` is refused (managed Redis often disables it) and `INFO` says
    /// the append-only file is off: RDB may or may not be on.
    Unknown,
}

impl Store {
    pub async fn persistence(&self) -> Result<Persistence, StoreError> {
        let mut c = self.conn();
        let config: Result<(Vec<String>, Vec<String>), _> = redis::pipe()
            .cmd("CONFIG")
            .arg("GET")
            .arg("appendonly")
            .cmd("CONFIG")
            .arg("GET")
            .arg("save")
            .query_async(&mut c)
            .await;
        if let Ok((appendonly, save)) = config {
            let value = |pair: &[String]| pair.get(1).cloned().unwrap_or_default();
            return Ok(Persistence::Known {
                aof: value(&appendonly).eq_ignore_ascii_case("yes"),
                rdb: !value(&save).trim().is_empty(),
            });
        }
        let info: String = redis::cmd("INFO")
            .arg("persistence")
            .query_async(&mut c)
            .await?;
        Ok(if info.lines().any(|l| l.trim() == "aof_enabled:1") {
            Persistence::Known {
                aof: true,
                rdb: false,
            }
        } else {
            Persistence::Unknown
        })
    }
}
