//! A campaign's counters (attempts, retries, done, canceled, dispositions), kept
//! per shard and summed on read.

use std::collections::{HashMap, HashSet};

use futures_util::future::{try_join, try_join_all};
use redis::AsyncCommands;

use crate::store::{Store, StoreError};

/// The first members of shard 0's due set read with the campaign: enough to
/// pass the contacts being dialed in the usual case.
const NEXT_PEEK: isize = 16;

/// Counters kept per shard and summed for the campaign.
fn is_counter(field: &str) -> bool {
    matches!(
        field,
        "attempts" | "retries" | "done" | "errors" | "canceled"
    ) || field.starts_with("disp:")
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
    /// Contacts waiting for a retry (in the shards' retry sets).
    pub waiting_retry: u64,
    pub next_due_ms: Option<i64>,
}

impl Store {
    /// One counter summed over every shard.
    pub(super) async fn shard_sum(
        &self,
        id: &str,
        shards: u32,
        field: &str,
    ) -> Result<u64, StoreError> {
        let k = self.keys();
        let counts = try_join_all((0..shards.max(1)).map(|s| {
            let key = k.campaign_shard(id, s);
            let mut c = self.conn();
            async move { c.hget::<_, _, Option<u64>>(key, field).await }
        }))
        .await?;
        Ok(counts.into_iter().flatten().sum())
    }

    /// Everything `GET /api/campaigns/{id}` shows: one round trip for the
    /// campaign (and shard 0), one per further shard, concurrently.
    pub async fn campaign_snapshot(
        &self,
        id: &str,
        now_ms: i64,
    ) -> Result<Option<CampaignSnapshot>, StoreError> {
        let k = self.keys();
        type Head = (
            HashMap<String, String>,
            u64,
            Vec<String>,
            Vec<String>,
            u64,
            Vec<(String, f64)>,
            u64,
        );
        let (mut fields, leased, leases, calls, due0, head0, retrying0): Head = redis::pipe()
            .hgetall(k.campaign(id))
            .zcard(k.campaign_leases(id))
            .zrangebyscore(k.campaign_leases(id), now_ms, "+inf")
            .zrangebyscore(k.campaign_active(id), now_ms, "+inf")
            .zcard(k.campaign_due(id, 0))
            .zrange_withscores(k.campaign_due(id, 0), 0, NEXT_PEEK - 1)
            .scard(k.campaign_retrying(id, 0))
            .query_async(&mut self.conn())
            .await?;
        if fields.is_empty() {
            return Ok(None);
        }
        let shards: u32 = fields
            .get("shards")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let active = calls.len() as u64;
        // A contact being dialed or in a call stays in its due set under its
        // lease's or its call's end: not a dial to come. Among the first
        // `held + 1` of a shard there is one that is neither, if the shard has any.
        let held: HashSet<String> = leases
            .into_iter()
            .chain(
                calls
                    .iter()
                    .filter_map(|m| m.split_once(':').map(|(idx, _)| idx.to_string())),
            )
            .collect();
        let peek = held.len() as isize;
        let first_unleased = |members: &[(String, f64)]| {
            members
                .iter()
                .find(|(m, _)| !held.contains(m))
                .map(|(_, s)| *s as i64)
        };
        // Shard 0's head again, further, only when every member read was leased.
        let head0_again = async {
            if head0.len() as u64 >= due0 || first_unleased(&head0).is_some() {
                return Ok(head0.clone());
            }
            let mut c = self.conn();
            c.zrange_withscores(k.campaign_due(id, 0), 0, peek).await
        };
        type Shard = (HashMap<String, String>, u64, Vec<(String, f64)>, u64);
        let rest = try_join_all((1..shards.max(1)).map(|s| {
            let mut c = self.conn();
            let mut pipe = redis::pipe();
            pipe.hgetall(k.campaign_shard(id, s))
                .zcard(k.campaign_due(id, s))
                .zrange_withscores(k.campaign_due(id, s), 0, peek)
                .scard(k.campaign_retrying(id, s));
            async move { pipe.query_async::<Shard>(&mut c).await }
        }));
        let (head0, rest): (Vec<(String, f64)>, Vec<Shard>) = try_join(head0_again, rest).await?;
        let mut due = due0;
        let mut waiting_retry = retrying0;
        let mut next = first_unleased(&head0);
        for (counters, shard_due, shard_next, retrying) in rest {
            due += shard_due;
            waiting_retry += retrying;
            if let Some(s) = first_unleased(&shard_next) {
                next = Some(next.map_or(s, |n| n.min(s)));
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
            waiting_retry,
            next_due_ms: next,
        }))
    }
}
