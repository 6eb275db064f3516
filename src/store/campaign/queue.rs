//! A campaign's dial queue: admission (status, concurrency, pace), taking due
//! contacts from their shard, leases, calls in progress and settling attempts.

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::CampaignStatus;
use crate::store::keys::shard_of;
use crate::store::{Store, StoreError};

static ADMIT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/admit.lua")));
static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../scripts/take.lua")));
static DIALED: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/dialed.lua")));
static FINISH: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/finish.lua")));

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit {
    /// A dial may start now (check only).
    Open,
    /// The pace slot (epoch ms, at most the lookahead away) and the lease are
    /// this contact's: (contact index, slot).
    Claimed(u32, i64),
    /// Pace: the next dial slot is this many ms away.
    Pace(i64),
    Full,
    /// Not running: paused, canceled or completed (`None`: gone).
    NotRunning(Option<CampaignStatus>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// Contact index and the due time it had (to give it back unchanged).
    Took(u32, i64),
    /// Nothing due in this shard for this many ms.
    Wait(i64),
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Stale,
    Retry,
    Final,
    /// Final, and the contact's shard has no contact left.
    Drained,
    Completed,
}

impl Store {
    /// Status, concurrency and pace (see `scripts/admit.lua`). With `contact`,
    /// also reserves the pace slot and a lease until `slot + lease_ms` for it.
    /// `interval_ms` is `1000 / calls_per_second`; the margin is added here
    /// (see [`super::pace`]). A slot up to `lookahead_ms` ahead may be taken.
    #[allow(clippy::too_many_arguments)]
    pub async fn admit(
        &self,
        id: &str,
        now_ms: i64,
        lease_ms: i64,
        max_concurrent: u32,
        interval_ms: f64,
        lookahead_ms: f64,
        contact: Option<u32>,
    ) -> Result<Admit, StoreError> {
        let k = self.keys();
        let reply: Vec<String> = ADMIT
            .key(k.campaign(id))
            .key(k.campaign_leases(id))
            .key(k.campaign_active(id))
            .arg(now_ms)
            .arg(max_concurrent)
            .arg(super::pace::spacing_ms(interval_ms))
            .arg(lease_ms)
            .arg(contact.map(|c| c.to_string()).unwrap_or_default())
            .arg(lookahead_ms)
            .invoke_async(&mut self.conn())
            .await?;
        let bad = || StoreError::Corrupt(format!("admit answered {reply:?}"));
        let num = |i: usize| -> Result<i64, StoreError> {
            reply.get(i).and_then(|v| v.parse().ok()).ok_or_else(bad)
        };
        let value = reply.get(1).map(String::as_str).unwrap_or("");
        Ok(match reply.first().map(String::as_str) {
            Some("open") => Admit::Open,
            Some("claimed") => Admit::Claimed(num(1)? as u32, num(2)?),
            Some("pace") => Admit::Pace(num(1)?),
            Some("full") => Admit::Full,
            Some("idle") if value == "missing" => Admit::NotRunning(None),
            Some("idle") => Admit::NotRunning(Some(super::status::parse_status(value)?)),
            _ => return Err(bad()),
        })
    }

    /// Takes the earliest due contact of one shard, holding it until `hold_until_ms`.
    pub async fn take(
        &self,
        id: &str,
        shard: u32,
        now_ms: i64,
        hold_until_ms: i64,
    ) -> Result<Take, StoreError> {
        let reply: Vec<String> = TAKE
            .key(self.keys().campaign_due(id, shard))
            .arg(now_ms)
            .arg(hold_until_ms)
            .invoke_async(&mut self.conn())
            .await?;
        let bad = || StoreError::Corrupt(format!("take answered {reply:?}"));
        let num = |i: usize| -> Result<i64, StoreError> {
            let v = reply.get(i).ok_or_else(bad)?;
            v.parse::<f64>().map(|f| f as i64).map_err(|_| bad())
        };
        Ok(match reply.first().map(String::as_str) {
            Some("took") => Take::Took(num(1)? as u32, num(2)?),
            Some("wait") => Take::Wait(num(1)?),
            Some("empty") => Take::Empty,
            _ => return Err(bad()),
        })
    }

    /// Puts a taken contact back as it was, if it is still unfinished.
    pub async fn give_back(
        &self,
        id: &str,
        shards: u32,
        idx: u32,
        due_ms: i64,
    ) -> Result<(), StoreError> {
        let due = self.keys().campaign_due(id, shard_of(idx, shards));
        let _: () = redis::cmd("ZADD")
            .arg(due)
            .arg("XX")
            .arg(due_ms)
            .arg(idx)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Records a dial about to happen and holds the contact (lease and due time)
    /// until `lease_until_ms`.
    pub async fn mark_dialing(
        &self,
        id: &str,
        shards: u32,
        idx: u32,
        state_json: &str,
        lease_until_ms: i64,
    ) -> Result<(), StoreError> {
        let k = self.keys();
        let shard = shard_of(idx, shards);
        let mut c = self.conn();
        let _: () = c.zadd(k.campaign_leases(id), idx, lease_until_ms).await?;
        let _: () = redis::pipe()
            .atomic()
            .hset(k.campaign_states(id, shard), idx, state_json)
            .ignore()
            .cmd("ZADD")
            .arg(k.campaign_due(id, shard))
            .arg("XX")
            .arg(lease_until_ms)
            .arg(idx)
            .ignore()
            .hincr(k.campaign_shard(id, shard), "attempts", 1)
            .ignore()
            // Dialed again: no longer waiting for its retry.
            .srem(k.campaign_retrying(id, shard), idx)
            .ignore()
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    /// Twilio accepted the call: the contact counts as in progress until it
    /// finishes or `active_until_ms` (see `scripts/dialed.lua`). False when its
    /// callbacks already settled it.
    pub async fn mark_in_progress(
        &self,
        id: &str,
        shards: u32,
        idx: u32,
        call_id: &str,
        state_json: &str,
        active_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let k = self.keys();
        let shard = shard_of(idx, shards);
        let member = active_member(idx, call_id);
        let mut c = self.conn();
        // Counted first: a crash after this over-counts until the reaper looks.
        let _: () = c
            .zadd(k.campaign_active(id), &member, active_until_ms)
            .await?;
        let tracked: i64 = DIALED
            .key(k.campaign_states(id, shard))
            .key(k.campaign_due(id, shard))
            .arg(idx)
            .arg(call_id)
            .arg(state_json)
            .arg(active_until_ms)
            .invoke_async(&mut c)
            .await?;
        if tracked == 1 {
            let _: () = c.zrem(k.campaign_leases(id), idx).await?;
        } else {
            let _: () = c.zrem(k.campaign_active(id), &member).await?;
        }
        Ok(tracked == 1)
    }

    /// Moves a held contact's lease and due time (e.g. to reconcile an uncertain dial sooner).
    pub async fn set_lease(
        &self,
        id: &str,
        shards: u32,
        idx: u32,
        until_ms: i64,
    ) -> Result<(), StoreError> {
        let mut c = self.conn();
        let _: () = c
            .zadd(self.keys().campaign_leases(id), idx, until_ms)
            .await?;
        self.give_back(id, shards, idx, until_ms).await
    }

    /// Calls in progress as (contact index, call id).
    pub async fn active_contacts(&self, id: &str) -> Result<Vec<(u32, String)>, StoreError> {
        let members: Vec<String> = self
            .conn()
            .zrange(self.keys().campaign_active(id), 0, -1)
            .await?;
        Ok(members
            .iter()
            .filter_map(|m| {
                let (idx, call_id) = m.split_once(':')?;
                Some((idx.parse().ok()?, call_id.to_string()))
            })
            .collect())
    }

    /// Stops counting a call as in progress.
    pub async fn forget_active(&self, id: &str, idx: u32, call_id: &str) -> Result<(), StoreError> {
        let _: () = self
            .conn()
            .zrem(self.keys().campaign_active(id), active_member(idx, call_id))
            .await?;
        Ok(())
    }

    /// Gives a claimed contact back to the queue, due at `due_ms`.
    pub async fn release(
        &self,
        id: &str,
        shards: u32,
        idx: u32,
        state_json: Option<&str>,
        due_ms: i64,
    ) -> Result<(), StoreError> {
        let k = self.keys();
        let shard = shard_of(idx, shards);
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Some(json) = state_json {
            pipe.hset(k.campaign_states(id, shard), idx, json).ignore();
        }
        let mut c = self.conn();
        let _: () = pipe
            .cmd("ZADD")
            .arg(k.campaign_due(id, shard))
            .arg("XX")
            .arg(due_ms)
            .arg(idx)
            .ignore()
            .query_async(&mut c)
            .await?;
        let _: () = c.zrem(k.campaign_leases(id), idx).await?;
        Ok(())
    }

    /// Settles an attempt in its shard (see `scripts/finish.lua`), then stops
    /// counting it. `Drained` (never `Completed`) says the campaign may be
    /// complete: see [`Store::complete_if_done`].
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_contact(
        &self,
        id: &str,
        shards: u32,
        idx: u32,
        call_id: &str,
        disposition: &str,
        retry_at_ms: Option<i64>,
        state_json: &str,
    ) -> Result<Finish, StoreError> {
        let k = self.keys();
        let shard = shard_of(idx, shards);
        let mut c = self.conn();
        let tag: String = FINISH
            .key(k.campaign_shard(id, shard))
            .key(k.campaign_states(id, shard))
            .key(k.campaign_due(id, shard))
            .key(k.campaign_retrying(id, shard))
            .arg(idx)
            .arg(call_id)
            .arg(disposition)
            .arg(retry_at_ms.map(|t| t.to_string()).unwrap_or_default())
            .arg(state_json)
            .invoke_async(&mut c)
            .await?;
        let finish = match tag.as_str() {
            "retry" => Finish::Retry,
            "final" => Finish::Final,
            "drained" => Finish::Drained,
            _ => Finish::Stale,
        };
        if finish != Finish::Stale {
            let mut pipe = redis::pipe();
            pipe.zrem(k.campaign_leases(id), idx).ignore();
            if !call_id.is_empty() {
                pipe.zrem(k.campaign_active(id), active_member(idx, call_id))
                    .ignore();
            }
            let _: () = pipe.query_async(&mut c).await?;
        }
        Ok(finish)
    }
}

/// A call in progress, as counted: the attempt's call id keeps a late cleanup
/// of one attempt from uncounting the next.
fn active_member(idx: u32, call_id: &str) -> String {
    format!("{idx}:{call_id}")
}
