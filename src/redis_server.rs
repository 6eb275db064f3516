//! A private `redis-server` child on a free local port, for `serve`/`demo`
//! without `REDIS_URL` and for the tests. Stopped when dropped.

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

/// A private Redis Cluster of `n` primaries on free local ports, for tests and
/// benchmarks: `redis-server --cluster-enabled yes` each, joined with
/// `redis-cli --cluster create`. Stopped when dropped.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    dir: std::path::PathBuf,
}

impl RedisCluster {
    pub fn start(n: usize) -> Result<RedisCluster, RedisServerError> {
        let dir = std::env::temp_dir().join(format!(
            "callflow-cluster-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        let mut nodes = Vec::new();
        for i in 0..n {
            let conf = dir.join(format!("nodes-{i}.conf"));
            let conf = conf.to_string_lossy().into_owned();
            nodes.push(RedisServer::start_with(&[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                &conf,
                "--cluster-node-timeout",
                "2000",
            ])?);
        }
        let cluster = RedisCluster { nodes, dir };
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &cluster.nodes {
            create.arg(format!("127.0.0.1:{}", node.port()));
        }
        let out = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => RedisServerError::Missing,
                _ => RedisServerError::Io(e),
            })?;
        if !out.status.success() {
            return Err(RedisServerError::Io(std::io::Error::other(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&out.stdout)
            ))));
        }
        // Every node must agree the cluster is up before it takes commands.
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &cluster.nodes {
            loop {
                let ok = redis::Client::open(node.url())
                    .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
                    .and_then(|mut c| redis::cmd("CLUSTER").arg("INFO").query::<String>(&mut c))
                    .is_ok_and(|info| info.contains("cluster_state:ok"));
                if ok {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(RedisServerError::NoAnswer(node.port()));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(cluster)
    }

    /// `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...`
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    pub fn node_urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
