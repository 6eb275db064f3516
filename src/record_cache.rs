//! The last version of each record this instance read or wrote. An input whose
//! record is here needs no read: the transition script checks the version, so a
//! stale entry (another instance moved the record on) only costs one retry.
//! That makes the common callback a single Redis round trip.

use std::sync::Arc;

use quick_cache::sync::Cache;

/// Records kept at most. Past it the least useful entries are evicted one by
/// one (entries are only hints); a sharded cache, so workers rarely wait on
/// each other.
const CAPACITY: usize = 50_000;

pub struct RecordCache<R> {
    map: Cache<String, (u64, Arc<R>)>,
}

impl<R> Default for RecordCache<R> {
    fn default() -> Self {
        Self {
            map: Cache::new(CAPACITY),
        }
    }
}

impl<R> RecordCache<R> {
    pub fn get(&self, id: &str) -> Option<(u64, Arc<R>)> {
        self.map.get(id)
    }

    pub fn put(&self, id: &str, version: u64, record: R) {
        self.map.insert(id.to_string(), (version, Arc::new(record)));
    }

    pub fn forget(&self, id: &str) {
        self.map.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_its_capacity_without_starting_over() {
        let cache = RecordCache::<u32>::default();
        for i in 0..CAPACITY + 1_000 {
            cache.put(&format!("call-{i}"), 1, 7);
        }
        let kept = (0..CAPACITY + 1_000)
            .filter(|i| cache.get(&format!("call-{i}")).is_some())
            .count();
        assert!(kept <= CAPACITY && kept > CAPACITY / 2, "{kept}");
        cache.forget("call-50999");
        assert!(cache.get("call-50999").is_none());
    }
}
