//! What the operator console reads and keeps beyond the API's aggregates: its
//! sessions, the tenant's campaigns by creation time, a campaign's recent
//! dials and a page of the do-not-call list.

use redis::AsyncCommands;

use super::keys;
use super::{Store, StoreError};

impl Store {
    /// Stores a session for `ttl_secs` (replacing one of the same id).
    pub async fn save_console_session(
        &self,
        id: &str,
        json: &str,
        ttl_secs: u64,
    ) -> Result<(), StoreError> {
        let mut c = self.worker_conn().await;
        let _: () = c
            .set_ex(keys::console_session(id), json, ttl_secs.max(1))
            .await?;
        Ok(())
    }

    /// A session's JSON; `None` once it has expired or was ended.
    pub async fn console_session(&self, id: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.worker_conn().await;
        Ok(c.get(keys::console_session(id)).await?)
    }

    pub async fn end_console_session(&self, id: &str) -> Result<(), StoreError> {
        let mut c = self.worker_conn().await;
        let _: () = c.del(keys::console_session(id)).await?;
        Ok(())
    }

    /// The ids of the `count` newest campaigns, newest first.
    pub async fn newest_campaigns(&self, count: usize) -> Result<Vec<String>, StoreError> {
        let mut c = self.worker_conn().await;
        let stop = count.max(1) as isize - 1;
        Ok(c.zrevrange(self.keys().campaign_index(), 0, stop).await?)
    }

    /// Dials of a campaign sent at or after `since_ms` that its pace log still
    /// holds (it keeps two pacing windows, see `scripts/sent.lua`).
    pub async fn campaign_sends_since(&self, id: &str, since_ms: i64) -> Result<u64, StoreError> {
        let mut c = self.worker_conn().await;
        Ok(c.zcount(self.keys().campaign_sent(id), since_ms, "+inf")
            .await?)
    }

    /// About `count` entries of the do-not-call list from `cursor` (an `HSCAN`
    /// cursor, 0 to start): (number, entry JSON) and the cursor to go on
    /// from (0: the end).
    pub async fn dnc_page(
        &self,
        cursor: u64,
        count: usize,
    ) -> Result<(u64, Vec<(String, String)>), StoreError> {
        let mut c = self.worker_conn().await;
        let (next, flat): (u64, Vec<String>) = redis::cmd("HSCAN")
            .arg(self.keys().dnc())
            .arg(cursor)
            .arg("COUNT")
            .arg(count.max(1))
            .query_async(&mut c)
            .await?;
        let mut pairs = Vec::with_capacity(flat.len() / 2);
        let mut it = flat.into_iter();
        while let (Some(number), Some(json)) = (it.next(), it.next()) {
            pairs.push((number, json));
        }
        Ok((next, pairs))
    }
}
