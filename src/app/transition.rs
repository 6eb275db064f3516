//! The one transition loop every persisted machine uses: load the record (or
//! take this instance's cached copy), decide (pure), write with one atomic
//! compare-and-set, follow up. A machine brings its record, inputs, decision
//! and follow-ups by implementing [`Machine`]; it never writes its own loop.

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::ServiceError;
use crate::record_cache::RecordCache;
use crate::store::{Deadline, Effect, RecordKeys, Store, StoreError, Write, WriteOutcome};

/// How often a transition is retried when another writer wins the race.
const MAX_ATTEMPTS: usize = 8;

/// What a machine decided for one input against one version of its record.
pub struct Decision<R, N> {
    pub next: R,
    /// Whether anything worth writing changed.
    pub changed: bool,
    /// The timeline entry (JSON) written with the change.
    pub entry: Option<String>,
    /// What the sender of the input is answered.
    pub reply: String,
    /// What the store keeps for a retry of the same input (idempotent inputs only).
    pub remember: String,
    /// A side effect outside the record (an opt-out's do-not-call entry) that
    /// must happen if and only if this change is stored (see `store::effects`).
    pub effect: Option<Effect>,
    /// Whatever the machine's follow-ups need to know of the decision.
    pub note: N,
}

/// A persisted machine as the transition loop sees it.
pub trait Machine: Sync {
    /// The machine's name in metrics (`callflow_transitions_total{machine}`).
    const NAME: &'static str;
    type Record: Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static;
    type Input: Sync;
    /// What deciding needs besides the record and the input (e.g. a flow version).
    type Context: Send + Sync;
    type Note: Send + Sync;

    fn store(&self) -> &Store;
    fn keys(&self, id: &str) -> RecordKeys;
    fn cache(&self) -> &RecordCache<Self::Record>;
    /// The key a retry of the same input is recognised by; `None`: not a retryable delivery.
    fn idempotency_key(input: &Self::Input) -> Option<String>;
    fn context(
        &self,
        record: &Self::Record,
    ) -> impl Future<Output = Result<Self::Context, ServiceError>> + Send;
    fn decide(
        &self,
        context: &Self::Context,
        record: &Self::Record,
        input: &Self::Input,
    ) -> Decision<Self::Record, Self::Note>;
    /// Writes that must land before the transition is stored (each harmless if repeated).
    fn before_write(
        &self,
        before: &Self::Record,
        decision: &Decision<Self::Record, Self::Note>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
    /// Follow-ups once the transition is stored.
    fn after_write(
        &self,
        before: &Self::Record,
        decision: &Decision<Self::Record, Self::Note>,
        input: &Self::Input,
    ) -> impl Future<Output = ()> + Send;
    /// A remembered reply as it is sent again.
    fn replay(&self, remembered: String) -> String;
    /// Over for good: no longer worth caching.
    fn is_finished(record: &Self::Record) -> bool;
    /// The record's state, as metrics name it.
    fn state_name(record: &Self::Record) -> &'static str;
}

/// The result of one input: the reply, and the record as it now stands
/// (`None` when the input was a retry answered from memory).
pub struct Outcome<R> {
    pub reply: String,
    pub record: Option<R>,
}

fn parse<R: DeserializeOwned>(json: &str) -> Result<R, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("record: {e}")))
}

/// Runs `input` through the machine for record `id`: load -> decide ->
/// compare-and-set -> follow up, retried from the current version on conflict.
/// A retry of a handled input gets the first reply and changes nothing.
/// Past `deadline` (by Redis's clock) nothing is written: the sender has been
/// answered without this change ([`ServiceError::TooLate`]).
// Long on purpose: the whole loop (read, decide, write, retry) reads top to bottom in one place.
pub async fn run<M: Machine>(
    machine: &M,
    id: &str,
    input: &M::Input,
    deadline: Option<Deadline>,
) -> Result<Outcome<M::Record>, ServiceError> {
    let keys = machine.keys(id);
    let idem = M::idempotency_key(input);
    let mut cached = machine.cache().get(id);
    // The record as a failed compare-and-set found it: current, like a read.
    let mut fresh: Option<(u64, Arc<M::Record>)> = None;
    for _ in 0..MAX_ATTEMPTS {
        // The record as this instance last saw it, else one read.
        let from_cache = fresh.is_none() && cached.is_some();
        let (version, record) = match (fresh.take(), cached.take()) {
            (Some(current), _) => current,
            (None, Some(hint)) => hint,
            (None, None) => match read(machine, &keys, idem.as_deref()).await? {
                Read::Record(version, record) => (version, record),
                Read::Seen(reply) => return Ok(replayed(machine, reply)),
            },
        };
        let context = machine.context(&record).await?;
        let decision = machine.decide(&context, &record, input);
        if !decision.changed {
            if !from_cache {
                return Ok(Outcome {
                    reply: decision.reply,
                    record: Some(decision.next),
                });
            }
            if idem.is_none() {
                // Nothing to write is only believed of the stored record.
                continue;
            }
            // Else the script still confirms the version (and that this input
            // was not seen) before the cached answer counts.
        }
        let effect = decision.effect.as_ref().filter(|_| decision.changed);
        if decision.changed {
            machine.before_write(&record, &decision).await?;
            if effect.is_some() {
                machine.store().expect_effect(&keys.record).await?;
            }
        }
        let json = if decision.changed {
            serde_json::to_string(&decision.next).expect("records serialize")
        } else {
            String::new()
        };
        let seen = idem.as_deref().map(|k| (k, decision.remember.as_str()));
        let effect_json = effect.map(Effect::to_json);
        let write = Write {
            expected_version: version,
            record_json: &json,
            idem: seen,
            timeline: decision.entry.as_slice(),
            deadline,
            effect: effect_json.as_deref(),
        };
        match machine.store().transition(&keys, write).await? {
            WriteOutcome::Written { version } => {
                if let Some(effect) = effect {
                    perform(machine.store(), &keys, effect).await;
                }
                if decision.changed {
                    crate::observe::transition(M::NAME, M::state_name(&decision.next));
                    machine.after_write(&record, &decision, input).await;
                }
                if M::is_finished(&decision.next) {
                    machine.cache().forget(id);
                } else {
                    machine.cache().put(id, version, decision.next.clone());
                }
                return Ok(Outcome {
                    reply: decision.reply,
                    record: Some(decision.next),
                });
            }
            WriteOutcome::AlreadyHandled(previous) => return Ok(replayed(machine, previous)),
            WriteOutcome::Late => return Err(ServiceError::TooLate),
            WriteOutcome::Conflict { current } => {
                machine.cache().forget(id);
                let (version, json) = current.ok_or(ServiceError::NotFound)?;
                fresh = Some((version, Arc::new(parse(&json)?)));
            }
        }
    }
    Err(ServiceError::Contended)
}

/// Performs the effect a stored transition owes; one that fails is left
/// pending for the reaper (`app::effects`).
async fn perform(store: &Store, keys: &RecordKeys, effect: &Effect) {
    match store.perform_effect(&keys.record, effect).await {
        Ok(added) => super::effects::performed(effect, added, "transition"),
        Err(e) => {
            tracing::warn!(error = %e, "side effect of a stored transition left for the reaper")
        }
    }
}

enum Read<R> {
    Record(u64, Arc<R>),
    /// The input was handled before: the reply given then.
    Seen(String),
}

/// One read of the stored record and, for an idempotent input, its remembered reply.
async fn read<M: Machine>(
    machine: &M,
    keys: &RecordKeys,
    idem: Option<&str>,
) -> Result<Read<M::Record>, ServiceError> {
    let loaded = machine.store().load(keys, idem.unwrap_or("")).await?;
    if let Some(reply) = loaded.seen {
        return Ok(Read::Seen(reply));
    }
    let json = loaded.record.ok_or(ServiceError::NotFound)?;
    Ok(Read::Record(loaded.version, Arc::new(parse(&json)?)))
}

fn replayed<M: Machine>(machine: &M, reply: String) -> Outcome<M::Record> {
    Outcome {
        reply: machine.replay(reply),
        record: None,
    }
}

/// Stores a new record as version 1 with its first timeline entry.
pub async fn create<M: Machine>(
    machine: &M,
    id: &str,
    record: &M::Record,
    entry: String,
) -> Result<(), ServiceError> {
    let json = serde_json::to_string(record).expect("records serialize");
    let write = Write {
        record_json: &json,
        timeline: std::slice::from_ref(&entry),
        ..Write::default()
    };
    let written = machine.store().transition(&machine.keys(id), write).await?;
    if written != (WriteOutcome::Written { version: 1 }) {
        return Err(StoreError::Corrupt(format!("record {id} already exists")).into());
    }
    machine.cache().put(id, 1, record.clone());
    Ok(())
}
