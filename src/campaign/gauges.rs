//! What `/metrics` reads of campaigns at scrape time: the contacts of the live
//! (running or paused) campaigns by state, summed. Bounded: at most
//! [`MAX_CAMPAIGNS`] campaigns are read, one round trip per shard each.

use futures_util::future::try_join_all;

use crate::app::{AppState, ServiceError};

/// The most live campaigns one scrape reads; any beyond are left out of the sums.
pub const MAX_CAMPAIGNS: usize = 100;

/// Live campaigns and their contacts by state.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LiveContacts {
    pub campaigns: u64,
    /// `(state, contacts)`: `unfinished` (waiting, dialing or in a call),
    /// `dialing`, `in_call`, `waiting_retry`, `done`, `canceled`.
    pub by_state: Vec<(&'static str, u64)>,
}

pub async fn live_contacts(service: &AppState) -> Result<LiveContacts, ServiceError> {
    let ids = service.store.live_campaigns().await?;
    let now = service.clock.now_ms();
    let snapshots = try_join_all(
        ids.iter()
            .take(MAX_CAMPAIGNS)
            .map(|id| service.store.campaign_snapshot(id, now)),
    )
    .await?;
    let counter = |fields: &std::collections::HashMap<String, String>, name: &str| {
        fields
            .get(name)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut sums = [0u64; 6];
    for snap in snapshots.iter().flatten() {
        let row = [
            snap.due,
            snap.leased,
            snap.active,
            snap.waiting_retry,
            counter(&snap.fields, "done"),
            counter(&snap.fields, "canceled"),
        ];
        for (sum, value) in sums.iter_mut().zip(row) {
            *sum += value;
        }
    }
    let names = [
        "unfinished",
        "dialing",
        "in_call",
        "waiting_retry",
        "done",
        "canceled",
    ];
    Ok(LiveContacts {
        campaigns: ids.len() as u64,
        by_state: names.into_iter().zip(sums).collect(),
    })
}
