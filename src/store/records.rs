//! Records of persisted machines (a call today): one hash holding the version,
//! the record's JSON and the reply given to each handled callback, plus a
//! timeline list, both under the record's hash tag. Also the CallSid index and
//! the flow versions calls started with.

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::{Deadline, RecordKeys, Store, StoreError};

/// Tells the transition script the reply is the last timeline entry's TwiML.
pub const REPLY_IN_TIMELINE: &str = "=timeline";

static TRANSITION: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/transition.lua")));

/// The record-hash field that remembers the reply to one callback.
fn seen_field(idem_key: &str) -> String {
    format!("s:{idem_key}")
}

/// A record as read: its version, JSON and, if the callback was seen, the reply given then.
#[derive(Debug)]
pub struct Loaded {
    pub version: u64,
    pub record: Option<String>,
    pub seen: Option<String>,
}

/// What the compare-and-set script did.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    Written {
        version: u64,
    },
    /// The same callback was already handled; this is the reply given then.
    AlreadyHandled(String),
    /// Someone else moved the record on: retry from `current` (its version and
    /// JSON, as the script saw them; `None` if the record does not exist).
    Conflict {
        current: Option<(u64, String)>,
    },
    /// The deadline had passed when the script ran: nothing was written.
    Late,
}

/// One compare-and-set of a record, as [`Store::transition`] sends it.
#[derive(Debug, Default)]
pub struct Write<'a> {
    /// The version the record must still have (0: create it).
    pub expected_version: u64,
    /// The new record JSON; empty: unchanged, only confirm the version and
    /// that the callback was not seen.
    pub record_json: &'a str,
    /// The callback's idempotency key and the reply to remember for it.
    pub idem: Option<(&'a str, &'a str)>,
    pub timeline: &'a [String],
    /// Past this nothing is written (see [`Deadline`]).
    pub deadline: Option<Deadline>,
    /// A side effect the write owes, kept in the record until performed
    /// (see [`Store::pending_effect`]).
    pub effect: Option<&'a str>,
}

impl Store {
    /// One round trip: the record, its version and the reply to `idem_key` if
    /// seen (a second one when that reply is kept in the timeline: retries only).
    pub async fn load(&self, keys: &RecordKeys, idem_key: &str) -> Result<Loaded, StoreError> {
        let mut c = self.worker_conn().await;
        let (version, record, seen): (Option<u64>, Option<String>, Option<String>) =
            redis::cmd("HMGET")
                .arg(&keys.record)
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
                let entry: Option<String> = c.lindex(&keys.timeline, index).await?;
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
    /// Sent again after a connection failure only when that is surely
    /// harmless: with an idempotency key (a repeat of a transition that ran
    /// finds the callback seen and gets the first reply, however late), or
    /// when the connection was refused (nothing was sent). A dropped
    /// connection may have run the script, so other transitions are not resent.
    pub async fn transition(
        &self,
        keys: &RecordKeys,
        write: Write<'_>,
    ) -> Result<WriteOutcome, StoreError> {
        let (idem_key, reply) = write.idem.unwrap_or(("", ""));
        let mut inv = TRANSITION.prepare_invoke();
        inv.key(&keys.record)
            .key(&keys.timeline)
            .arg(write.expected_version)
            .arg(write.record_json)
            .arg(if idem_key.is_empty() {
                String::new()
            } else {
                seen_field(idem_key)
            })
            .arg(reply)
            .arg(write.deadline.map(|d| d.0.to_string()).unwrap_or_default())
            .arg(write.effect.unwrap_or_default());
        for entry in write.timeline {
            inv.arg(entry);
        }
        let c = self.worker_conn().await;
        let mut c = if idem_key.is_empty() {
            c.sent_once()
        } else {
            c
        };
        let reply: Vec<String> = inv.invoke_async(&mut c).await?;
        let corrupt = || StoreError::Corrupt(format!("script answered {reply:?}"));
        let version = |v: &String| v.parse::<u64>().map_err(|_| corrupt());
        match (
            reply.first().map(String::as_str),
            reply.get(1),
            reply.get(2),
        ) {
            (Some("ok"), Some(v), _) => Ok(WriteOutcome::Written {
                version: version(v)?,
            }),
            (Some("seen"), Some(previous), _) => Ok(WriteOutcome::AlreadyHandled(previous.clone())),
            (Some("late"), _, _) => Ok(WriteOutcome::Late),
            (Some("conflict"), Some(v), Some(record)) => Ok(WriteOutcome::Conflict {
                current: if record.is_empty() {
                    None
                } else {
                    Some((version(v)?, record.clone()))
                },
            }),
            _ => Err(corrupt()),
        }
    }

    pub async fn timeline(&self, keys: &RecordKeys) -> Result<Vec<String>, StoreError> {
        let mut c = self.worker_conn().await;
        Ok(c.lrange(&keys.timeline, 0, -1).await?)
    }

    /// CallSid -> call id, kept for `ttl` (the call's retention; same one command).
    pub async fn index_call_sid(
        &self,
        call_sid: &str,
        call_id: &str,
        ttl: std::time::Duration,
    ) -> Result<(), StoreError> {
        let mut c = self.worker_conn().await;
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let options = redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(ms));
        let _: () = c
            .set_options(self.keys.call_sid(call_sid), call_id, options)
            .await?;
        Ok(())
    }

    pub async fn call_id_for_sid(&self, call_sid: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.worker_conn().await;
        Ok(c.get(self.keys.call_sid(call_sid)).await?)
    }

    /// Saves a flow version once; calls in flight load it after the file changes.
    pub async fn save_flow(
        &self,
        flow_id: &str,
        version: &str,
        source: &str,
    ) -> Result<(), StoreError> {
        let mut c = self.worker_conn().await;
        let _: bool = c.set_nx(self.keys.flow(flow_id, version), source).await?;
        Ok(())
    }

    pub async fn load_flow(
        &self,
        flow_id: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut c = self.worker_conn().await;
        Ok(c.get(self.keys.flow(flow_id, version)).await?)
    }
}
