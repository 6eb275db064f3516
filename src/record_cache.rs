//! The last version of each record this instance read or wrote. An input whose
//! record is here needs no read: the transition script checks the version, so a
//! stale entry (another instance moved the record on) only costs one retry.
//! That makes the common callback a single Redis round trip.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Records kept at most; past it the cache starts over (entries are only hints).
const CAPACITY: usize = 50_000;

pub struct RecordCache<R> {
    map: Mutex<HashMap<String, (u64, Arc<R>)>>,
}

impl<R> Default for RecordCache<R> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<R> RecordCache<R> {
    pub fn get(&self, id: &str) -> Option<(u64, Arc<R>)> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    pub fn put(&self, id: &str, version: u64, record: R) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CAPACITY && !map.contains_key(id) {
            map.clear();
        }
        map.insert(id.to_string(), (version, Arc::new(record)));
    }

    pub fn forget(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}
