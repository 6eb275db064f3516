//! The figures: latency percentiles, CPU time of a process, and what Redis
//! says about itself (commands run, memory, CPU).

use serde_json::{json, Value};

/// Callback latencies in milliseconds, by kind of callback.
#[derive(Default)]
pub struct Latencies {
    pub answer: Vec<f64>,
    pub gather: Vec<f64>,
    pub status: Vec<f64>,
}

/// p50, p95, p99, max and count of `v` (sorted in place); null when empty.
pub fn percentiles(v: &mut [f64]) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    json!({"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": v[v.len() - 1], "count": v.len()})
}

/// CPU time (user + system) of process `pid` ("self": this one) so far, in
/// seconds, from `/proc` (Linux only).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// What `INFO` says: total commands run (scripts' inner commands included) and memory.
pub struct RedisInfo {
    pub commands: u64,
    pub used_memory: u64,
    /// CPU seconds (user + system) the server processes have used.
    pub cpu_s: f64,
}

/// Summed over `nodes` (`redis://` URLs: one server, or every node of a cluster).
pub async fn redis_info(nodes: &[String]) -> Result<RedisInfo, String> {
    let mut total = RedisInfo {
        commands: 0,
        used_memory: 0,
        cpu_s: 0.0,
    };
    for node in nodes {
        let one = node_info(node).await?;
        total.commands += one.commands;
        total.used_memory += one.used_memory;
        total.cpu_s += one.cpu_s;
    }
    Ok(total)
}

async fn node_info(url: &str) -> Result<RedisInfo, String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut c = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut c)
        .await
        .map_err(|e| e.to_string())?;
    let memory: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut c)
        .await
        .map_err(|e| e.to_string())?;
    let cpu: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(&mut c)
        .await
        .map_err(|e| e.to_string())?;
    let cpu_s = cpu
        .lines()
        .filter_map(|l| {
            l.strip_prefix("used_cpu_sys:")
                .or_else(|| l.strip_prefix("used_cpu_user:"))
        })
        .filter_map(|v| v.trim().parse::<f64>().ok())
        .sum();
    let commands = stats
        .lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    let used_memory = memory
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok(RedisInfo {
        commands,
        used_memory,
        cpu_s,
    })
}
