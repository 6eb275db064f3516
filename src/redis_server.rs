//! A private `redis-server` child on a free local port, for `serve`/`demo`
//! without `REDIS_URL` and for the tests. Stopped when dropped. (A private
//! Redis Cluster, for the benchmark and tests, is `harness::redis_cluster`.)

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RedisServerError {
    #[error(
        "redis-server is not installed: install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL"
    )]
    Missing,
    #[error("redis-server: {0}")]
    Io(#[from] std::io::Error),
    #[error("redis-server did not answer on port {0}")]
    NoAnswer(u16),
}

pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts `redis-server` on a free port with persistence off and waits until it answers.
    pub fn start() -> Result<RedisServer, RedisServerError> {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start), with extra `redis-server` arguments.
    pub fn start_with(extra: &[&str]) -> Result<RedisServer, RedisServerError> {
        let port = free_port()?;
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RedisServerError::Missing)
            }
            Err(e) => return Err(e.into()),
        };
        let server = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(client) = redis::Client::open(server.url()) {
                if let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(200))
                {
                    if redis::cmd("PING").query::<String>(&mut conn).is_ok() {
                        return Ok(server);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(RedisServerError::NoAnswer(port))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `REDIS_URL` if set, else a private server: (the server to keep alive, URL, label).
pub fn from_env_or_private() -> Result<(Option<RedisServer>, String, String), RedisServerError> {
    match std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => Ok((None, url, "REDIS_URL".into())),
        None => {
            let server = RedisServer::start()?;
            let label = format!("private redis-server on port {}", server.port());
            let url = server.url();
            Ok((Some(server), url, label))
        }
    }
}

/// A port that was free a moment ago (the OS picks it).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
