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
//!
//! Here: loading a campaign and reading its contacts. The dial queue (claim,
//! take, leases, settling) is in [`queue`], pacing in [`pace`], settling a
//! canceled campaign in [`cancel`], the counters in
//! [`counters`], the status in [`status`]; key names only in [`super::keys`].

mod cancel;
mod counters;
mod pace;
mod queue;
mod status;

use futures_util::future::try_join_all;
use redis::AsyncCommands;

use super::keys::shard_of;
use super::{Store, StoreError};

pub use cancel::CancelStep;
pub use counters::CampaignSnapshot;
pub use pace::{ceiling, spacing_ms, PaceScope, SendLog, PACE_MARGIN};
pub use queue::{Admit, Finish, Take};
pub use status::{CampaignStatus, StatusRefused};

/// Contacts are written in batches of this many per pipeline.
const LOAD_BATCH: usize = 2_000;

/// The due score of contact `idx` due at `due_ms`: its position in its shard
/// is added in milliseconds, so contacts due at the same instant (all of them
/// at load, every contact held until a window opens) are taken in list order.
/// Equal scores would be taken in the text order of their members (0, 1, 10,
/// 100, ..., 2). Never earlier than `due_ms`, and no later than a campaign's
/// pace (at most 100 dials a second) would reach that contact anyway.
pub fn due_in_list_order(due_ms: i64, idx: u32, shards: u32) -> i64 {
    due_ms + i64::from(idx / shards.max(1))
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
                let scores: Vec<(i64, u32)> = chunk
                    .iter()
                    .map(|(i, _)| (due_in_list_order(now_ms, *i, shards), *i))
                    .collect();
                pipe.zadd_multiple(k.campaign_due(id, shard), &scores)
                    .ignore();
                let _: () = pipe.query_async(&mut c).await?;
            }
        }
        // The campaign becomes visible to dispatchers only once every contact and
        // its settings are in (two commands: the keys live in different slots).
        let _: () = c.hset_multiple(k.campaign(id), fields).await?;
        let _: () = c.sadd(k.campaigns_live(), id).await?;
        let _: () = c.zadd(k.campaign_index(), id, now_ms).await?;
        Ok(())
    }

    pub async fn live_campaigns(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.conn().smembers(self.keys().campaigns_live()).await?)
    }

    pub async fn forget_live_campaign(&self, id: &str) -> Result<(), StoreError> {
        let _: () = self.conn().srem(self.keys().campaigns_live(), id).await?;
        Ok(())
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
