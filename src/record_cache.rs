//! The last version of each call this instance read or wrote. A callback whose
//! call is here needs no read: the transition script checks the version, so a
//! stale entry (another instance moved the call on) only costs one retry. That
//! makes the common callback a single Redis round trip.

use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::call::CallRecord;

/// Calls kept at most. Past it the least useful entries are evicted one by one
/// (entries are only hints); a sharded cache, so workers rarely wait on each other.
const CAPACITY: usize = 50_000;

pub struct RecordCache {
    map: Cache<String, (u64, Arc<CallRecord>)>,
}

impl Default for RecordCache {
    fn default() -> Self {
        Self {
            map: Cache::new(CAPACITY),
        }
    }
}

impl RecordCache {
    pub fn get(&self, call_id: &str) -> Option<(u64, Arc<CallRecord>)> {
        self.map.get(call_id)
    }

    pub fn put(&self, call_id: &str, version: u64, record: CallRecord) {
        self.map
            .insert(call_id.to_string(), (version, Arc::new(record)));
    }

    pub fn forget(&self, call_id: &str) {
        self.map.remove(call_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_its_capacity_without_starting_over() {
        let cache = RecordCache::default();
        // From its stored form, so the test does not spell out every field.
        let record = || -> CallRecord {
            serde_json::from_value(serde_json::json!({
                "call_id": "c1", "tenant": "t", "flow_id": "f", "flow_version": "1",
                "to": "+15551234567", "from": "+15550001111", "status": "queued",
                "state": {"name": "queued"},
                "created_at": "2026-01-14T19:00:00Z", "updated_at": "2026-01-14T19:00:00Z",
            }))
            .expect("a stored call record")
        };
        for i in 0..CAPACITY + 1_000 {
            cache.put(&format!("call-{i}"), 1, record());
        }
        let kept = (0..CAPACITY + 1_000)
            .filter(|i| cache.get(&format!("call-{i}")).is_some())
            .count();
        assert!(kept <= CAPACITY && kept > CAPACITY / 2, "{kept}");
        cache.forget("call-50999");
        assert!(cache.get("call-50999").is_none());
    }
}
