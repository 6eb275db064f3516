//! Campaign persistence: contacts, the due queue, leases, pacing and counters.
//! Every key of one campaign shares the `{<campaign id>}` hash tag.

use std::collections::HashMap;
use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::{Store, StoreError};

static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/claim.lua")));
static PACE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/pace.lua")));
static DIALED: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/dialed.lua")));
static FINISH: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/finish.lua")));
static SET_STATUS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
-- KEYS[1] campaign hash; ARGV[1] new status; ARGV[2..] statuses it may come from
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 'missing' end
for i = 2, #ARGV do
  if cur == ARGV[i] then
    redis.call('HSET', KEYS[1], 'status', ARGV[1])
    return 'ok'
  end
end
return cur
",
    )
});

/// HGETALL, ZCARD, ZCARD, ZCOUNT, ZRANGE WITHSCORES of one campaign.
type SnapshotReply = (HashMap<String, String>, u64, u64, u64, Vec<(String, f64)>);

/// Contacts are written in batches of this many per pipeline.
const LOAD_BATCH: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    Claimed(u32),
    /// Nothing due for this many ms.
    Wait(i64),
    /// Pace: the next dial slot is this many ms away.
    Pace(i64),
    Full,
    Empty,
    /// Not running (paused, canceled, completed or gone).
    Idle(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Stale,
    Retry,
    Final,
    Completed,
}

/// Live numbers of a campaign, read in one round trip.
#[derive(Debug, Clone, Default)]
pub struct CampaignSnapshot {
    pub fields: HashMap<String, String>,
    pub due: u64,
    pub leased: u64,
    pub active: u64,
    pub next_due_ms: Option<i64>,
}

impl Store {
    /// Writes a new campaign: its hash, then contacts in pipelined batches, then
    /// marks it live. `contacts` are (index, contact JSON); all start due at `now_ms`.
    pub async fn create_campaign(
        &self,
        id: &str,
        fields: &[(&str, String)],
        contacts: &[(u32, String)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let k = self.keys();
        let mut c = self.conn();
        for chunk in contacts.chunks(LOAD_BATCH) {
            let mut pipe = redis::pipe();
            let pairs: Vec<(u32, &str)> = chunk.iter().map(|(i, j)| (*i, j.as_str())).collect();
            pipe.hset_multiple(k.campaign_contacts(id), &pairs).ignore();
            let scores: Vec<(i64, u32)> = chunk.iter().map(|(i, _)| (now_ms, *i)).collect();
            pipe.zadd_multiple(k.campaign_due(id), &scores).ignore();
            let _: () = pipe.query_async(&mut c).await?;
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

    pub async fn claim(
        &self,
        id: &str,
        now_ms: i64,
        lease_ms: i64,
        max_concurrent: u32,
        interval_ms: u64,
    ) -> Result<Claim, StoreError> {
        let k = self.keys();
        let (tag, value): (String, String) = CLAIM
            .key(k.campaign(id))
            .key(k.campaign_due(id))
            .key(k.campaign_leases(id))
            .key(k.campaign_active(id))
            .arg(now_ms)
            .arg(lease_ms)
            .arg(max_concurrent)
            .arg(interval_ms)
            .invoke_async(&mut self.conn())
            .await?;
        let num = || {
            value
                .parse::<i64>()
                .map_err(|_| StoreError::Corrupt(format!("claim answered {tag} {value}")))
        };
        Ok(match tag.as_str() {
            "claimed" => Claim::Claimed(num()? as u32),
            "wait" => Claim::Wait(num()?),
            "pace" => Claim::Pace(num()?),
            "full" => Claim::Full,
            "empty" => Claim::Empty,
            _ => Claim::Idle(value),
        })
    }

    /// Reserves an account-wide dial slot at most `max_wait_ms` away.
    /// `Ok(Some(wait))`: dial after `wait` ms; `Ok(None)`: no slot that soon.
    pub async fn reserve_account_slot(
        &self,
        now_ms: i64,
        interval_ms: u64,
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
        idx: u32,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let k = self.keys();
        let (contact, state): (Option<String>, Option<String>) = redis::pipe()
            .hget(k.campaign_contacts(id), idx)
            .hget(k.campaign_states(id), idx)
            .query_async(&mut self.conn())
            .await?;
        Ok((contact, state))
    }

    /// Records a dial about to happen and extends the lease to cover it.
    pub async fn mark_dialing(
        &self,
        id: &str,
        idx: u32,
        state_json: &str,
        lease_until_ms: i64,
    ) -> Result<(), StoreError> {
        let k = self.keys();
        let _: () = redis::pipe()
            .atomic()
            .hset(k.campaign_states(id), idx, state_json)
            .ignore()
            .zadd(k.campaign_leases(id), idx, lease_until_ms)
            .ignore()
            .hincr(k.campaign(id), "attempts", 1)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Twilio accepted the call: the contact counts as active until it finishes
    /// (see `scripts/dialed.lua`). False when its callbacks already settled it.
    pub async fn mark_in_progress(
        &self,
        id: &str,
        idx: u32,
        call_id: &str,
        state_json: &str,
        active_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let k = self.keys();
        let done: i64 = DIALED
            .key(k.campaign_states(id))
            .key(k.campaign_leases(id))
            .key(k.campaign_active(id))
            .arg(idx)
            .arg(call_id)
            .arg(state_json)
            .arg(active_until_ms)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(done == 1)
    }

    /// Moves a lease's expiry (e.g. to reconcile an uncertain dial sooner).
    pub async fn set_lease(&self, id: &str, idx: u32, until_ms: i64) -> Result<(), StoreError> {
        let _: () = self
            .conn()
            .zadd(self.keys().campaign_leases(id), idx, until_ms)
            .await?;
        Ok(())
    }

    /// Contacts counted as in progress.
    pub async fn active_contacts(&self, id: &str) -> Result<Vec<u32>, StoreError> {
        Ok(self
            .conn()
            .zrange(self.keys().campaign_active(id), 0, -1)
            .await?)
    }

    /// Gives a claimed contact back to the queue, due at `due_ms`.
    pub async fn release(
        &self,
        id: &str,
        idx: u32,
        state_json: Option<&str>,
        due_ms: i64,
    ) -> Result<(), StoreError> {
        let k = self.keys();
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Some(json) = state_json {
            pipe.hset(k.campaign_states(id), idx, json).ignore();
        }
        let _: () = pipe
            .zrem(k.campaign_leases(id), idx)
            .ignore()
            .zadd(k.campaign_due(id), idx, due_ms)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Settles an attempt (see `scripts/finish.lua`).
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_contact(
        &self,
        id: &str,
        idx: u32,
        call_id: &str,
        disposition: &str,
        retry_at_ms: Option<i64>,
        state_json: &str,
        now_rfc3339: &str,
    ) -> Result<Finish, StoreError> {
        let k = self.keys();
        let tag: String = FINISH
            .key(k.campaign(id))
            .key(k.campaign_states(id))
            .key(k.campaign_due(id))
            .key(k.campaign_active(id))
            .key(k.campaign_leases(id))
            .arg(idx)
            .arg(call_id)
            .arg(disposition)
            .arg(retry_at_ms.map(|t| t.to_string()).unwrap_or_default())
            .arg(state_json)
            .arg(now_rfc3339)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(match tag.as_str() {
            "retry" => Finish::Retry,
            "final" => Finish::Final,
            "completed" => Finish::Completed,
            _ => Finish::Stale,
        })
    }

    /// Moves a campaign to `to` if its status is one of `from`; returns the status it had otherwise.
    pub async fn set_campaign_status(
        &self,
        id: &str,
        to: &str,
        from: &[&str],
    ) -> Result<Result<(), String>, StoreError> {
        let mut inv = SET_STATUS.key(self.keys().campaign(id));
        inv.arg(to);
        for f in from {
            inv.arg(*f);
        }
        let answer: String = inv.invoke_async(&mut self.conn()).await?;
        Ok(if answer == "ok" { Ok(()) } else { Err(answer) })
    }

    pub async fn campaign_status(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn().hget(self.keys().campaign(id), "status").await?)
    }

    pub async fn set_campaign_fields(
        &self,
        id: &str,
        fields: &[(&str, String)],
    ) -> Result<(), StoreError> {
        let _: () = self
            .conn()
            .hset_multiple(self.keys().campaign(id), fields)
            .await?;
        Ok(())
    }

    /// Everything `GET /api/campaigns/{id}` shows, in one round trip.
    pub async fn campaign_snapshot(
        &self,
        id: &str,
        now_ms: i64,
    ) -> Result<Option<CampaignSnapshot>, StoreError> {
        let k = self.keys();
        let (fields, due, leased, active, next): SnapshotReply = redis::pipe()
            .hgetall(k.campaign(id))
            .zcard(k.campaign_due(id))
            .zcard(k.campaign_leases(id))
            .zcount(k.campaign_active(id), now_ms, "+inf")
            .zrange_withscores(k.campaign_due(id), 0, 0)
            .query_async(&mut self.conn())
            .await?;
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(CampaignSnapshot {
            fields,
            due,
            leased,
            active,
            next_due_ms: next.first().map(|(_, s)| *s as i64),
        }))
    }

    /// Contacts `start..start+count` with their states, for paging.
    pub async fn contacts_range(
        &self,
        id: &str,
        start: u32,
        count: u32,
    ) -> Result<Vec<(u32, Option<String>, Option<String>)>, StoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let k = self.keys();
        let idxs: Vec<u32> = (start..start.saturating_add(count)).collect();
        let (contacts, states): (Vec<Option<String>>, Vec<Option<String>>) = redis::pipe()
            .cmd("HMGET")
            .arg(k.campaign_contacts(id))
            .arg(&idxs)
            .cmd("HMGET")
            .arg(k.campaign_states(id))
            .arg(&idxs)
            .query_async(&mut self.conn())
            .await?;
        Ok(idxs
            .into_iter()
            .zip(contacts)
            .zip(states)
            .map(|((i, c), s)| (i, c, s))
            .collect())
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
