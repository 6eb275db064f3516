//! What `/metrics` reads of campaigns at scrape time: the contacts of the live
//! (running or paused) campaigns by state, summed over every tenant. Bounded:
//! at most [`MAX_CAMPAIGNS`] campaigns are read per scrape, one round trip per
//! shard each, plus one per tenant.

use futures_util::future::try_join_all;

use crate::app::{AppState, ServiceError};

/// The most live campaigns one scrape reads; any beyond are left out of the sums.
pub const MAX_CAMPAIGNS: usize = 100;

const STATES: [&str; 6] = [
    "unfinished",
    "dialing",
    "in_call",
    "waiting_retry",
    "done",
    "canceled",
];

/// Live campaigns and their contacts by state.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LiveContacts {
    pub campaigns: u64,
    /// Contacts by state, in the order of [`LiveContacts::by_state`].
    sums: [u64; 6],
}

impl LiveContacts {
    /// `(state, contacts)`: `unfinished` (waiting, dialing or in a call),
    /// `dialing`, `in_call`, `waiting_retry`, `done`, `canceled`.
    pub fn by_state(&self) -> Vec<(&'static str, u64)> {
        STATES.into_iter().zip(self.sums).collect()
    }
}

/// Sums the live campaigns of each of `tenants` (their application views),
/// reading at most [`MAX_CAMPAIGNS`] campaigns in all.
pub async fn live_contacts<'a>(
    tenants: impl IntoIterator<Item = &'a AppState>,
) -> Result<LiveContacts, ServiceError> {
    let mut live = LiveContacts::default();
    let mut budget = MAX_CAMPAIGNS;
    for service in tenants {
        add_tenant(service, &mut live, &mut budget).await?;
    }
    Ok(live)
}

async fn add_tenant(
    service: &AppState,
    live: &mut LiveContacts,
    budget: &mut usize,
) -> Result<(), ServiceError> {
    let ids = service.store.live_campaigns().await?;
    live.campaigns += ids.len() as u64;
    let now = service.clock.now_ms();
    let read = ids.len().min(*budget);
    *budget -= read;
    let snapshots = try_join_all(
        ids.iter()
            .take(read)
            .map(|id| service.store.campaign_snapshot(id, now)),
    )
    .await?;
    let counter = |fields: &std::collections::HashMap<String, String>, name: &str| {
        fields
            .get(name)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    for snap in snapshots.iter().flatten() {
        let row = [
            snap.due,
            snap.leased,
            snap.active,
            snap.waiting_retry,
            counter(&snap.fields, "done"),
            counter(&snap.fields, "canceled"),
        ];
        for (sum, value) in live.sums.iter_mut().zip(row) {
            *sum += value;
        }
    }
    Ok(())
}
