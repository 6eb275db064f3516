//! The Redis connection the store uses: one server (reconnecting) or a Redis
//! Cluster, counting its round trips (one per command or pipeline sent), so
//! `/api/stats` and the benchmark can show what a callback costs.
//!
//! Each HTTP worker thread gets its own multiplexed connection for the callback
//! path ([`Connector::local`], see `per_thread`); everything else shares one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::per_thread::{on_worker_thread, PerThread};

/// One Redis server, or a Redis Cluster (commands routed by their keys' slot).
#[derive(Clone)]
enum Inner {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

#[derive(Clone)]
pub struct Conn {
    inner: Inner,
    round_trips: Arc<AtomicU64>,
    /// How long each round trip took (`callflow_redis_round_trip_seconds`).
    latency: metrics::Histogram,
    /// Whether a command that met a failed connection may be sent again
    /// (see [`is_connection_failure`]); `false` for commands that must run at
    /// most once (see [`Conn::sent_once`]).
    resend: bool,
}

impl Conn {
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// This connection for a command that must not run twice and must not run
    /// late: sent again only when the connection was refused (nothing was
    /// sent). A connection that dropped after the command went out may have
    /// run it: the failure is the caller's answer.
    pub fn sent_once(mut self) -> Self {
        self.resend = false;
        self
    }

    /// Whether `e` leaves the command safe to send once more on this connection.
    fn may_resend(&self, e: &redis::RedisError) -> bool {
        if self.resend {
            is_connection_failure(e)
        } else {
            e.is_connection_refusal()
        }
    }
}

/// How to open connections to one Redis deployment.
pub struct Connector {
    kind: Kind,
    round_trips: Arc<AtomicU64>,
    latency: metrics::Histogram,
    local: PerThread<Conn>,
}

enum Kind {
    Single(redis::Client, ConnectionManagerConfig),
    Cluster(redis::cluster::ClusterClient),
}

impl Connector {
    pub fn single(client: redis::Client, timeout: Duration) -> Self {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2);
        Self::new(Kind::Single(client, config))
    }

    pub fn cluster(client: redis::cluster::ClusterClient) -> Self {
        Self::new(Kind::Cluster(client))
    }

    fn new(kind: Kind) -> Self {
        Self {
            kind,
            round_trips: Arc::default(),
            latency: crate::observe::redis_round_trips(),
            local: PerThread::default(),
        }
    }

    /// Opens a connection whose I/O runs on the current runtime.
    pub async fn open(&self) -> Result<Conn, redis::RedisError> {
        let inner = match &self.kind {
            Kind::Single(client, config) => Inner::Single(
                ConnectionManager::new_with_config(client.clone(), config.clone()).await?,
            ),
            Kind::Cluster(client) => Inner::Cluster(client.get_async_connection().await?),
        };
        Ok(Conn {
            inner,
            round_trips: self.round_trips.clone(),
            latency: self.latency.clone(),
            resend: true,
        })
    }

    /// This thread's own connection when it runs a single-threaded runtime (an
    /// HTTP worker), opened on first use; otherwise, or if it cannot be opened,
    /// `shared`.
    pub async fn local(&self, shared: &Conn) -> Conn {
        if !on_worker_thread() {
            return shared.clone();
        }
        if let Some(conn) = self.local.get() {
            return conn;
        }
        match self.open().await {
            Ok(conn) => {
                self.local.put(conn.clone());
                conn
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot open this worker's own Redis connection; sharing one");
                shared.clone()
            }
        }
    }
}

/// A failure of the connection itself, not an answer from Redis: after a
/// restart of Redis the first command on each connection meets the old socket.
/// The connection reconnects on its own; the command is sent once more.
///
/// Sending again is safe for every command the store sends on a plain
/// connection: each write adds a named member, sets a key only if absent, or
/// reserves a pace slot (a repeat reserves one more, which can only lower the
/// rate). A transition for a callback is one too: a repeat of one that ran
/// finds the callback seen and answers as the first did (the script looks at
/// that before its deadline). Other transitions go through
/// [`Conn::sent_once`]: a repeat of one that ran would meet its own write.
/// A timeout is not one: Redis may be slow rather than gone, and the caller's
/// wait must stay bounded.
fn is_connection_failure(e: &redis::RedisError) -> bool {
    !e.is_timeout() && (e.is_connection_dropped() || e.is_connection_refusal() || e.is_io_error())
}

impl Conn {
    async fn send(&mut self, cmd: &Cmd) -> redis::RedisResult<Value> {
        let started = Instant::now();
        let answer = self.send_once_more_if_dropped(cmd).await;
        self.latency.record(started.elapsed().as_secs_f64());
        answer
    }

    async fn send_once_more_if_dropped(&mut self, cmd: &Cmd) -> redis::RedisResult<Value> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let first = match &mut self.inner {
            Inner::Single(c) => c.req_packed_command(cmd).await,
            Inner::Cluster(c) => c.req_packed_command(cmd).await,
        };
        match first {
            Err(e) if self.may_resend(&e) => {
                tracing::debug!(error = %e, "redis connection failed; sending once more");
                self.round_trips.fetch_add(1, Ordering::Relaxed);
                match &mut self.inner {
                    Inner::Single(c) => c.req_packed_command(cmd).await,
                    Inner::Cluster(c) => c.req_packed_command(cmd).await,
                }
            }
            other => other,
        }
    }

    async fn send_all(
        &mut self,
        pipeline: &Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<Value>> {
        let started = Instant::now();
        let answer = self
            .send_all_once_more_if_dropped(pipeline, offset, count)
            .await;
        self.latency.record(started.elapsed().as_secs_f64());
        answer
    }

    async fn send_all_once_more_if_dropped(
        &mut self,
        pipeline: &Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<Value>> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let first = match &mut self.inner {
            Inner::Single(c) => c.req_packed_commands(pipeline, offset, count).await,
            Inner::Cluster(c) => c.req_packed_commands(pipeline, offset, count).await,
        };
        match first {
            Err(e) if self.may_resend(&e) => {
                self.round_trips.fetch_add(1, Ordering::Relaxed);
                match &mut self.inner {
                    Inner::Single(c) => c.req_packed_commands(pipeline, offset, count).await,
                    Inner::Cluster(c) => c.req_packed_commands(pipeline, offset, count).await,
                }
            }
            other => other,
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(self.send(cmd))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(self.send_all(pipeline, offset, count))
    }

    fn get_db(&self) -> i64 {
        match &self.inner {
            Inner::Single(c) => c.get_db(),
            Inner::Cluster(c) => c.get_db(),
        }
    }
}
