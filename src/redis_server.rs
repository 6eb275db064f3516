//! A private `redis-server` child on a free local port. `serve` without
//! `REDIS_URL` runs a durable one that keeps its data in `CALLFLOW_DATA_DIR`
//! ([`RedisServer::start_durable`], see `durable`); `demo`, `bench` and the
//! tests run an ephemeral one ([`RedisServer::start`]). Stopped when dropped.
//! (A private Redis Cluster, for the benchmark and tests, is
//! `harness::redis_cluster`.)

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod durable;

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
    #[error("configuration: CALLFLOW_DATA_DIR: cannot use {}: {reason}", dir.display())]
    DataDir { dir: PathBuf, reason: String },
    #[error("configuration: CALLFLOW_DATA_DIR: {} is in use by another callflow process (pid {pid}); give each instance its own directory or set REDIS_URL", dir.display())]
    InUse { dir: PathBuf, pid: String },
    #[error("a redis-server (pid {pid}) left by an earlier run still uses {} and could not be stopped; stop it, then start again", dir.display())]
    Leftover { dir: PathBuf, pid: String },
}

pub struct RedisServer {
    child: Child,
    port: u16,
    /// Set for a durable server: its data directory and the lock on it.
    durable: Option<(PathBuf, File)>,
}

impl RedisServer {
    /// Starts `redis-server` on a free port with persistence off and waits until it answers.
    pub fn start() -> Result<RedisServer, RedisServerError> {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start), with extra `redis-server` arguments.
    pub fn start_with(extra: &[&str]) -> Result<RedisServer, RedisServerError> {
        let port = free_port()?;
        let mut args = vec!["--save", "", "--appendonly", "no"];
        args.extend_from_slice(extra);
        let child = spawn(port, &args, false)?;
        let server = RedisServer {
            child,
            port,
            durable: None,
        };
        wait_until_answering(server, Duration::from_secs(10))
    }

    /// Stops this (non-durable) server and starts a fresh, empty one on the same
    /// port, as a Redis restart looks to its clients.
    pub fn restart(&mut self) -> Result<(), RedisServerError> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.port, &["--save", "", "--appendonly", "no"], false)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(RedisServerError::NoAnswer(self.port))
    }

    /// Stops this server with `SHUTDOWN SAVE` (nothing written is lost) and
    /// starts it again on the same port from the saved data: a restart of a
    /// Redis that keeps its data, as its clients see it. For a server started
    /// with `start_with(&["--dir", dir])` (`dir` existing): `dir` holds the data.
    pub fn restart_keeping_data(&mut self, dir: &Path) -> Result<(), RedisServerError> {
        if let Some(mut c) = connect(self.port) {
            // The connection ends with the server: no answer to wait for.
            let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("SAVE").query(&mut c);
        }
        let _ = self.child.wait();
        let dir_arg = dir.display().to_string();
        let args = ["--save", "", "--appendonly", "no", "--dir", &dir_arg];
        self.child = spawn(self.port, &args, false)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(RedisServerError::NoAnswer(self.port))
    }

    /// Freezes the server (SIGSTOP), as a stalled Redis looks to its clients:
    /// connections stay open, nothing is answered until [`resume`](Self::resume).
    pub fn pause(&self) -> Result<(), RedisServerError> {
        self.signal("-STOP")
    }

    /// Lets a [`pause`](Self::pause)d server go on (SIGCONT): it then runs
    /// what its clients sent meanwhile.
    pub fn resume(&self) -> Result<(), RedisServerError> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> Result<(), RedisServerError> {
        let status = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill {signal} failed")).into())
        }
    }

    /// Starts `redis-server` keeping its data in `dir` (created if missing):
    /// append-only file fsynced every second, reloaded on the next start. A
    /// redis-server an earlier, killed callflow left running on `dir` is
    /// stopped first; a second callflow on the same `dir` is refused.
    pub fn start_durable(dir: &Path) -> Result<RedisServer, RedisServerError> {
        let dir = durable::prepare(dir)?;
        let lock = durable::lock(&dir)?;
        durable::stop_leftover(&dir)?;
        let port = free_port()?;
        let dir_arg = dir.display().to_string();
        let pidfile = dir.join(durable::PID_FILE).display().to_string();
        let logfile = dir.join(durable::LOG_FILE).display().to_string();
        let args = [
            "--dir",
            &dir_arg,
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--pidfile",
            &pidfile,
            "--logfile",
            &logfile,
        ];
        let child = spawn(port, &args, true)?;
        durable::record_port(&dir, port)?;
        let server = RedisServer {
            child,
            port,
            durable: Some((dir, lock)),
        };
        // Replaying a large append-only file takes a while; PING answers LOADING until done.
        wait_until_answering(server, Duration::from_secs(120))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The data directory of a durable server (absolute).
    pub fn data_dir(&self) -> Option<&Path> {
        self.durable.as_ref().map(|(dir, _)| dir.as_path())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // SHUTDOWN flushes the append-only file; a kill would lose the last second.
        let flushed = self.durable.is_some() && durable::shutdown(self.port, &mut self.child);
        if !flushed {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some((dir, _lock)) = &self.durable {
            durable::forget_port(dir);
        }
    }
}

/// `own_group`: out of the caller's process group, so a Ctrl-C in a terminal
/// (SIGINT to the whole group) does not stop Redis while callflow is still
/// shutting down and writing to it; callflow stops it itself, last.
fn spawn(port: u16, args: &[&str], own_group: bool) -> Result<Child, RedisServerError> {
    let mut cmd = Command::new("redis-server");
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    if own_group {
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    }
    #[cfg(not(unix))]
    let _ = own_group;
    match cmd.spawn() {
        Ok(child) => Ok(child),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(RedisServerError::Missing),
        Err(e) => Err(e.into()),
    }
}

fn wait_until_answering(
    mut server: RedisServer,
    patience: Duration,
) -> Result<RedisServer, RedisServerError> {
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        if ping(server.port) {
            return Ok(server);
        }
        if let Ok(Some(_)) = server.child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(RedisServerError::NoAnswer(server.port))
}

/// A connection to the local server on `port`, if one answers quickly.
fn connect(port: u16) -> Option<redis::Connection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).ok()?;
    let conn = client
        .get_connection_with_timeout(Duration::from_millis(200))
        .ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    Some(conn)
}

fn ping(port: u16) -> bool {
    connect(port).is_some_and(|mut c| redis::cmd("PING").query::<String>(&mut c).is_ok())
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
