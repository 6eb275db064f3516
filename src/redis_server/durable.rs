//! The data directory of `serve`'s durable private Redis: checked writable,
//! locked for one callflow process at a time, and cleared of a redis-server
//! that a killed callflow left running on it.
//!
//! Why not have the kernel stop the child with its parent
//! (`prctl(PR_SET_PDEATHSIG)`): it is Linux-only, it fires when the spawning
//! *thread* exits rather than the process, and a restart would still race a
//! child that is still shutting down. Instead the directory records the
//! child's port (`redis-server.port`) and pid (Redis's own pidfile); the next
//! start asks the server on that port which directory it serves and, only if
//! it is this one, stops it with `SHUTDOWN` (which flushes the append-only
//! file) before starting its own. Until then the orphan keeps the data safe.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use super::{connect, ping, RedisServerError};

/// Redis's own pidfile, removed by Redis on a clean shutdown.
pub(super) const PID_FILE: &str = "redis-server.pid";
pub(super) const LOG_FILE: &str = "redis-server.log";
/// The port of the server running on this directory, written by callflow.
const PORT_FILE: &str = "redis-server.port";
/// Held (flock) by the callflow process using this directory; the kernel
/// drops it when that process dies, however it dies.
const LOCK_FILE: &str = "callflow.lock";
/// How long a leftover server may take to flush and exit.
const LEFTOVER_PATIENCE: Duration = Duration::from_secs(30);

/// Creates `dir` if missing, checks it is writable, and returns it absolute.
pub(super) fn prepare(dir: &Path) -> Result<PathBuf, RedisServerError> {
    let refuse = |e: std::io::Error| RedisServerError::DataDir {
        dir: dir.to_path_buf(),
        reason: e.to_string(),
    };
    fs::create_dir_all(dir).map_err(refuse)?;
    let dir = fs::canonicalize(dir).map_err(refuse)?;
    let probe = dir.join(".callflow-write-test");
    File::create(&probe)
        .and_then(|mut f| f.write_all(b"ok"))
        .map_err(|e| RedisServerError::DataDir {
            dir: dir.clone(),
            reason: format!("not writable: {e}"),
        })?;
    let _ = fs::remove_file(probe);
    Ok(dir)
}

/// Takes the directory's lock, or says which process holds it.
pub(super) fn lock(dir: &Path) -> Result<File, RedisServerError> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            return Err(RedisServerError::InUse {
                dir: dir.to_path_buf(),
                pid: fs::read_to_string(&path)
                    .map(|p| p.trim().to_string())
                    .unwrap_or_default(),
            })
        }
        Err(fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    file.set_len(0)?;
    writeln!(file, "{}", std::process::id())?;
    Ok(file)
}

/// Stops a redis-server that an earlier callflow, killed before it could
/// stop it, left running on `dir`; refuses to go on if one cannot be stopped.
pub(super) fn stop_leftover(dir: &Path) -> Result<(), RedisServerError> {
    if let Some(port) = fs::read_to_string(dir.join(PORT_FILE))
        .ok()
        .and_then(|p| p.trim().parse::<u16>().ok())
    {
        if serves_dir(port, dir) {
            tracing::warn!(
                port,
                data_dir = %dir.display(),
                "a redis-server left running by an earlier callflow uses this data directory: stopping it"
            );
            if let Some(mut conn) = connect(port) {
                // The server closes the connection: no answer to read.
                let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").query(&mut conn);
            }
            let deadline = Instant::now() + LEFTOVER_PATIENCE;
            while ping(port) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    forget_port(dir);
    // A server that no longer answers on its port may still be flushing.
    if let Some(pid) = running_pid(dir) {
        let deadline = Instant::now() + LEFTOVER_PATIENCE;
        while running_pid(dir).is_some() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if running_pid(dir).is_some() {
            return Err(RedisServerError::Leftover {
                dir: dir.to_path_buf(),
                pid: pid.to_string(),
            });
        }
    }
    Ok(())
}

/// Whether the server on `port` keeps its data in `dir` (so it is ours to stop).
fn serves_dir(port: u16, dir: &Path) -> bool {
    let Some(mut conn) = connect(port) else {
        return false;
    };
    let answer: redis::RedisResult<Vec<String>> =
        redis::cmd("CONFIG").arg("GET").arg("dir").query(&mut conn);
    answer.is_ok_and(|v| v.get(1).is_some_and(|d| Path::new(d) == dir))
}

/// The pid in Redis's pidfile, if that process is alive and is a redis-server
/// (a pid may have been reused since).
fn running_pid(dir: &Path) -> Option<u32> {
    let pid: u32 = fs::read_to_string(dir.join(PID_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    is_redis_server(pid).then_some(pid)
}

#[cfg(target_os = "linux")]
fn is_redis_server(pid: u32) -> bool {
    // Empty for a zombie, which no longer writes anything.
    fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).contains("redis-server"))
}

#[cfg(not(target_os = "linux"))]
fn is_redis_server(_pid: u32) -> bool {
    // Elsewhere the port check above is the only one.
    false
}

pub(super) fn record_port(dir: &Path, port: u16) -> std::io::Result<()> {
    fs::write(dir.join(PORT_FILE), format!("{port}\n"))
}

pub(super) fn forget_port(dir: &Path) {
    let _ = fs::remove_file(dir.join(PORT_FILE));
}

/// Asks our child to flush and exit; true once it has exited (bounded).
pub(super) fn shutdown(port: u16, child: &mut Child) -> bool {
    let Some(mut conn) = connect(port) else {
        return false;
    };
    let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").query(&mut conn);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("callflow-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_directory_that_cannot_be_created_is_refused_by_name() {
        let base = scratch("data-dir-file");
        fs::create_dir_all(&base).unwrap();
        let file = base.join("a-file");
        fs::write(&file, "x").unwrap();
        let err = prepare(&file.join("data")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("configuration: CALLFLOW_DATA_DIR: cannot use"),
            "{err}"
        );
        let _ = fs::remove_dir_all(base);
    }

    #[test]
    fn one_process_at_a_time_holds_a_data_directory() {
        let dir = prepare(&scratch("data-dir-lock")).unwrap();
        assert!(dir.is_absolute());
        let held = lock(&dir).unwrap();
        let err = lock(&dir).unwrap_err();
        assert!(
            err.to_string().contains(&std::process::id().to_string()),
            "names the holder: {err}"
        );
        drop(held);
        lock(&dir).expect("free again once released");
        let _ = fs::remove_dir_all(dir);
    }
}
