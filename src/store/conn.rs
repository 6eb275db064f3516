//! The Redis connection the store uses: reconnecting, shared, and counting its
//! round trips (one per command or pipeline sent), so `/api/stats` and the
//! benchmark can show what a callback costs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Cmd, Pipeline, RedisFuture, Value};

#[derive(Clone)]
pub struct Conn {
    inner: ConnectionManager,
    round_trips: Arc<AtomicU64>,
}

impl Conn {
    pub fn new(inner: ConnectionManager) -> Self {
        Self {
            inner,
            round_trips: Arc::default(),
        }
    }

    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.inner.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.inner.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}
