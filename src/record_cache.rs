//! The last version of each call this instance read or wrote. A callback whose
//! call is here needs no read: the transition script checks the version, so a
//! stale entry (another instance moved the call on) only costs one retry. That
//! makes the common callback a single Redis round trip.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::call::CallRecord;

/// Calls kept at most; past it the cache starts over (entries are only hints).
const CAPACITY: usize = 50_000;

#[derive(Default)]
pub struct RecordCache {
    map: Mutex<HashMap<String, (u64, Arc<CallRecord>)>>,
}

impl RecordCache {
    pub fn get(&self, call_id: &str) -> Option<(u64, Arc<CallRecord>)> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(call_id)
            .cloned()
    }

    pub fn put(&self, call_id: &str, version: u64, record: CallRecord) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CAPACITY && !map.contains_key(call_id) {
            map.clear();
        }
        map.insert(call_id.to_string(), (version, Arc::new(record)));
    }

    pub fn forget(&self, call_id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(call_id);
    }
}
