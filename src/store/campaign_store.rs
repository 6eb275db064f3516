//! Campaign persistence: contacts, the due queue, leases, pacing and counters.
//!
//! A campaign's own hash (status, pace, settings) and its leases and calls in
//! progress (campaign-wide, at most `max_concurrent` of each) share the
//! `{<campaign id>}` hash tag. Its contacts are spread over shards by index: each
//! shard's contacts, states, due queue and counters share one tag, so a huge
//! campaign spreads over Redis Cluster slots instead of making one hot. Shard 0
//! shares the campaign's tag. A step that spans the two slots is two writes,
//! ordered so a crash between them over-counts a call for a while (the reaper and
//! lease expiry correct it), never under-counts or loses a contact: every
//! unfinished contact stays in its shard's due set.

use std::collections::HashMap;
use std::sync::LazyLock;

use futures_util::future::try_join_all;
use redis::{AsyncCommands, Script};

use super::keys::shard_of;
use super::{Store, StoreError};

static ADMIT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/admit.lua")));
static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/take.lua")));
static PACE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/pace.lua")));
static DIALED: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/dialed.lua")));
static FINISH: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/finish.lua")));
static SET_STATUS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
-- KEYS[1] campaign hash; ARGV[1] new status; ARGV[2] a field to stamp ('' = none)
-- ARGV[3] its value; ARGV[4..] statuses it may come from
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 'missing' end
for i = 4, #ARGV do
  if cur == ARGV[i] then
    redis.call('HSET', KEYS[1], 'status', ARGV[1])
    if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], ARGV[2], ARGV[3]) end
    return 'ok'
  end
end
return cur
",
    )
});

/// Contacts are written in batches of this many per pipeline.
const LOAD_BATCH: usize = 2_000;

/// Counters kept per shard and summed for the campaign.
fn is_counter(field: &str) -> bool {
    matches!(field, "attempts" | "retries" | "done" | "errors") || field.starts_with("disp:")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit {
    /// A dial may start now (check only).
    Open,
    /// The pace slot and the lease are this contact's.
    Claimed(u32),
    /// Pace: the next dial slot is this many ms away.
    Pace(i64),
    Full,
    /// Not running (paused, canceled, completed or gone).
    Idle(String),
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

/// Live numbers of a campaign, read in one round trip per shard.
#[derive(Debug, Clone, Default)]
pub struct CampaignSnapshot {
    /// The campaign hash, with the counters summed over its shards.
    pub fields: HashMap<String, String>,
    /// Unfinished contacts (waiting, dialing or in progress).
    pub due: u64,
    pub leased: u64,
    pub active: u64,
    pub next_due_ms: Option<i64>,
}

/// Shard `s` of `shards` as (its index, its contacts): request order is kept.
fn by_shard<T: Clone>(items: &[(u32, T)], shards: u32) -> Vec<Vec<(u32, T)>> {
    let mut out = vec![Vec::new(); shards.max(1) as usize];
    for (idx, item) in items {
        out[shard_of(*idx, shards) as usize].push((*idx, item.clone()));
    }
    out
}

impl Store {
    /// Writes a new campaign: contacts into their shards in pipelined batches,
    /// then its hash, then marks it live. `contacts` are (index, contact JSON);
    /// all start due at `now_ms`.
    pub async fn create_campaign(
        &self,
        id: &str,
        shards: u32,
        fields: &[(&str, String)],
        contacts: &[(u32, String)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let k = self.keys();
        let mut c = self.conn();
        for (shard, members) in by_shard(contacts, shards).iter().enumerate() {
            let shard = shard as u32;
            for chunk in members.chunks(LOAD_BATCH) {
                let mut pipe = redis::pipe();
                let pairs: Vec<(u32, &str)> = chunk.iter().map(|(i, j)| (*i, j.as_str())).collect();
                pipe.hset_multiple(k.campaign_contacts(id, shard), &pairs)
                    .ignore();
                let scores: Vec<(i64, u32)> = chunk.iter().map(|(i, _)| (now_ms, *i)).collect();
                pipe.zadd_multiple(k.campaign_due(id, shard), &scores)
                    .ignore();
                let _: () = pipe.query_async(&mut c).await?;
            }
        }
        // The campaign becomes visible to dispatchers only once every contact and
        // its settings are in (two commands: the keys live in different slots).
        let _: () = c.hset_multiple(k.campaign(id), fields).await?;
        let _: () = c.sadd(k.campaigns_live(), id).await?;
        Ok(())
    }

    pub async fn live_campaigns(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.conn().smembers(self.keys().campaigns_live()).await?)
    }

    pub async fn forget_live_campaign(&self, id: &str) -> Result<(), StoreError> {
        let _: () = self.conn().srem(self.keys().campaigns_live(), id).await?;
        Ok(())
    }

    /// Status, concurrency and pace (see `scripts/admit.lua`). With `contact`,
    /// also reserves the pace slot and a lease until `now_ms + lease_ms` for it.
    pub async fn admit(
        &self,
        id: &str,
        now_ms: i64,
        lease_ms: i64,
        max_concurrent: u32,
        interval_ms: f64,
        contact: Option<u32>,
    ) -> Result<Admit, StoreError> {
        let k = self.keys();
        let (tag, value): (String, String) = ADMIT
            .key(k.campaign(id))
            .key(k.campaign_leases(id))
            .key(k.campaign_active(id))
            .arg(now_ms)
            .arg(max_concurrent)
            .arg(interval_ms)
            .arg(lease_ms)
            .arg(contact.map(|c| c.to_string()).unwrap_or_default())
            .invoke_async(&mut self.conn())
            .await?;
        let num = || {
            value
                .parse::<i64>()
                .map_err(|_| StoreError::Corrupt(format!("admit answered {tag} {value}")))
        };
        Ok(match tag.as_str() {
            "open" => Admit::Open,
            "claimed" => Admit::Claimed(num()? as u32),
            "pace" => Admit::Pace(num()?),
            "full" => Admit::Full,
            _ => Admit::Idle(value),
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

    /// Reserves an account-wide dial slot at most `max_wait_ms` away.
    /// `Ok(Some(wait))`: dial after `wait` ms; `Ok(None)`: no slot that soon.
    pub async fn reserve_account_slot(
        &self,
        now_ms: i64,
        interval_ms: f64,
        max_wait_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let wait: i64 = PACE
            .key(self.keys().account_pace())
            .arg(now_ms)
            .arg(interval_ms)
            .arg(max_wait_ms)
            .invoke_async(&mut self.conn())
            .await?;
        Ok((wait >= 0).then_some(wait))
    }

    /// A contact's static data and its state (None: fresh).
    pub async fn contact(
        &self,
        id: &str,
        shards: u32,
        idx: u32,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let k = self.keys();
        let shard = shard_of(idx, shards);
        let (contact, state): (Option<String>, Option<String>) = redis::pipe()
            .hget(k.campaign_contacts(id, shard), idx)
            .hget(k.campaign_states(id, shard), idx)
            .query_async(&mut self.conn())
            .await?;
        Ok((contact, state))
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

    /// Marks a running or paused campaign completed once every contact is done.
    /// True only for the one caller that made it so.
    pub async fn complete_if_done(
        &self,
        id: &str,
        shards: u32,
        now_rfc3339: &str,
    ) -> Result<bool, StoreError> {
        let total: Option<u64> = self.conn().hget(self.keys().campaign(id), "total").await?;
        let Some(total) = total else {
            return Ok(false);
        };
        let done = self.shard_sum(id, shards, "done").await?;
        if done < total {
            return Ok(false);
        }
        Ok(self
            .set_campaign_status(
                id,
                "completed",
                &["running", "paused"],
                Some(("completed_at", now_rfc3339)),
            )
            .await?
            .is_ok())
    }

    /// One counter summed over every shard.
    async fn shard_sum(&self, id: &str, shards: u32, field: &str) -> Result<u64, StoreError> {
        let k = self.keys();
        let counts = try_join_all((0..shards.max(1)).map(|s| {
            let key = k.campaign_shard(id, s);
            let mut c = self.conn();
            async move { c.hget::<_, _, Option<u64>>(key, field).await }
        }))
        .await?;
        Ok(counts.into_iter().flatten().sum())
    }

    /// Moves a campaign to `to` if its status is one of `from`, stamping `stamp`
    /// (field, value) with it; returns the status it had otherwise.
    pub async fn set_campaign_status(
        &self,
        id: &str,
        to: &str,
        from: &[&str],
        stamp: Option<(&str, &str)>,
    ) -> Result<Result<(), String>, StoreError> {
        let mut inv = SET_STATUS.key(self.keys().campaign(id));
        let (field, value) = stamp.unwrap_or(("", ""));
        inv.arg(to).arg(field).arg(value);
        for f in from {
            inv.arg(*f);
        }
        let answer: String = inv.invoke_async(&mut self.conn()).await?;
        Ok(if answer == "ok" { Ok(()) } else { Err(answer) })
    }

    pub async fn campaign_status(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn().hget(self.keys().campaign(id), "status").await?)
    }

    /// The stored settings of a campaign (JSON), if it exists.
    pub async fn campaign_config(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn().hget(self.keys().campaign(id), "config").await?)
    }

    /// Everything `GET /api/campaigns/{id}` shows: one round trip for the
    /// campaign (and shard 0), one per further shard, concurrently.
    pub async fn campaign_snapshot(
        &self,
        id: &str,
        now_ms: i64,
    ) -> Result<Option<CampaignSnapshot>, StoreError> {
        let k = self.keys();
        type Head = (HashMap<String, String>, u64, u64, u64, Vec<(String, f64)>);
        let (mut fields, leased, active, due0, next0): Head = redis::pipe()
            .hgetall(k.campaign(id))
            .zcard(k.campaign_leases(id))
            .zcount(k.campaign_active(id), now_ms, "+inf")
            .zcard(k.campaign_due(id, 0))
            .zrange_withscores(k.campaign_due(id, 0), 0, 0)
            .query_async(&mut self.conn())
            .await?;
        if fields.is_empty() {
            return Ok(None);
        }
        let shards: u32 = fields
            .get("shards")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        type Shard = (HashMap<String, String>, u64, Vec<(String, f64)>);
        let rest: Vec<Shard> = try_join_all((1..shards.max(1)).map(|s| {
            let mut c = self.conn();
            let mut pipe = redis::pipe();
            pipe.hgetall(k.campaign_shard(id, s))
                .zcard(k.campaign_due(id, s))
                .zrange_withscores(k.campaign_due(id, s), 0, 0);
            async move { pipe.query_async::<Shard>(&mut c).await }
        }))
        .await?;
        let mut due = due0;
        let mut next = next0.first().map(|(_, s)| *s as i64);
        for (counters, shard_due, shard_next) in rest {
            due += shard_due;
            if let Some((_, s)) = shard_next.first() {
                next = Some(next.map_or(*s as i64, |n| n.min(*s as i64)));
            }
            for (name, value) in counters.into_iter().filter(|(n, _)| is_counter(n)) {
                let sum = fields
                    .get(&name)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
                    + value.parse::<u64>().unwrap_or(0);
                fields.insert(name, sum.to_string());
            }
        }
        Ok(Some(CampaignSnapshot {
            fields,
            due,
            leased,
            active,
            next_due_ms: next,
        }))
    }

    /// Contacts `start..start+count` with their states, for paging.
    pub async fn contacts_range(
        &self,
        id: &str,
        shards: u32,
        start: u32,
        count: u32,
    ) -> Result<Vec<(u32, Option<String>, Option<String>)>, StoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let k = self.keys();
        let idxs: Vec<(u32, ())> = (start..start.saturating_add(count))
            .map(|i| (i, ()))
            .collect();
        type Page = (Vec<Option<String>>, Vec<Option<String>>);
        let pages: Vec<(Vec<u32>, Page)> = try_join_all(
            by_shard(&idxs, shards)
                .into_iter()
                .enumerate()
                .filter(|(_, members)| !members.is_empty())
                .map(|(shard, members)| {
                    let shard = shard as u32;
                    let idxs: Vec<u32> = members.into_iter().map(|(i, _)| i).collect();
                    let mut pipe = redis::pipe();
                    pipe.cmd("HMGET")
                        .arg(k.campaign_contacts(id, shard))
                        .arg(&idxs)
                        .cmd("HMGET")
                        .arg(k.campaign_states(id, shard))
                        .arg(&idxs);
                    let mut c = self.conn();
                    async move {
                        let page: Page = pipe.query_async(&mut c).await?;
                        Ok::<_, redis::RedisError>((idxs, page))
                    }
                }),
        )
        .await?;
        let mut out: Vec<(u32, Option<String>, Option<String>)> = pages
            .into_iter()
            .flat_map(|(idxs, (contacts, states))| {
                idxs.into_iter()
                    .zip(contacts)
                    .zip(states)
                    .map(|((i, c), s)| (i, c, s))
            })
            .collect();
        out.sort_by_key(|(i, _, _)| *i);
        Ok(out)
    }

    /// Numbers on the do-not-call list among `numbers`, in one round trip.
    pub async fn dnc_many(&self, numbers: &[&str]) -> Result<Vec<bool>, StoreError> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.keys().dnc())
            .arg(numbers)
            .query_async(&mut self.conn())
            .await?;
        Ok(found.into_iter().map(|f| f.is_some()).collect())
    }
}

/// A call in progress, as counted: the attempt's call id keeps a late cleanup
/// of one attempt from uncounting the next.
fn active_member(idx: u32, call_id: &str) -> String {
    format!("{idx}:{call_id}")
}
