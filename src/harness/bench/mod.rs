//! `callflow bench`: measured speed, not asserted. Starts a private Redis (unless
//! `REDIS_URL` is set), the simulator in this process and the server as a child
//! process (so its memory is its own), then drives complete calls with signed
//! callbacks over real HTTP, loads a large campaign, and measures dispatcher
//! pacing. Prints a table, or one JSON object with `--json`.

mod campaign;
mod report;

use std::collections::HashMap;
use std::time::Duration;

use callflow_bench::callbacks::{self, Instance, Load};
use callflow_bench::stats::RedisInfo;
use callflow_bench::{ACCOUNT_SID, API_TOKEN, AUTH_TOKEN};
use serde_json::{json, Value};
use twilio_sim::{Persona, SimConfig, Simulator};

use super::redis_cluster::RedisCluster;
use crate::redis_server::free_port;

#[derive(Debug, Clone)]
pub struct Options {
    pub duration: Duration,
    pub concurrency: usize,
    /// Target call starts per second; `None`: as fast as `concurrency` allows.
    pub rate: Option<f64>,
    pub json: bool,
    pub contacts: usize,
    pub skip_campaign: bool,
    /// Calls held mid-conversation at the end, to measure memory (0: skip).
    pub in_flight: usize,
    /// Simulated seconds of dialing per pacing rate.
    pub pacing_seconds: u64,
    /// Server instances behind one public address (callbacks spread round-robin).
    pub instances: usize,
    /// Start a private 3-node Redis Cluster instead of one server.
    pub cluster: bool,
}

/// A `callflow serve` child process of this same binary.
pub struct Server {
    child: std::process::Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub async fn start(
        redis_url: &str,
        sim: &Simulator,
        extra: &[(&str, String)],
    ) -> Result<Server, String> {
        let port = free_port().map_err(|e| e.to_string())?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut env: HashMap<&str, String> = HashMap::from([
            ("PORT", port.to_string()),
            ("PUBLIC_BASE_URL", format!("http://127.0.0.1:{port}")),
            ("REDIS_URL", redis_url.to_string()),
            ("API_TOKEN", API_TOKEN.into()),
            ("TWILIO_ACCOUNT_SID", ACCOUNT_SID.into()),
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.into()),
            ("TWILIO_VOICE_NUMBER", "+15550009999".into()),
            ("TWILIO_API_BASE_URL", sim.base_url()),
            ("COMPANY_NAME", "Bench & Co".into()),
            ("CALL_PURPOSE", "about your booking".into()),
            (
                "FLOWS_DIR",
                std::env::var("FLOWS_DIR").unwrap_or_else(|_| "flows".into()),
            ),
            ("RUST_LOG", "warn".into()),
            ("DISPATCHER_ENABLED", "false".into()),
            // Single calls take account pacing slots too: far above the load, so
            // the bench measures the service, not the pace it is told to keep.
            ("TWILIO_MAX_CPS", "100000".into()),
            // Every dial obeys the callee's calling hours: a weekday afternoon in
            // New York (where the load's callees are), whenever the bench runs.
            ("CALLFLOW_CLOCK_START", "2026-01-14T19:00:00Z".into()),
            ("MAX_DIALS_PER_NUMBER_24H", "100".into()),
        ]);
        for (k, v) in extra {
            env.insert(k, v.clone());
        }
        // A number belongs to one tenant: benches that share a Redis under
        // several tenants give each its own caller ID.
        if let Some(tenant) = env.get("TENANT_ID") {
            let n = tenant
                .bytes()
                .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
                % 9_000;
            env.insert("TWILIO_VOICE_NUMBER", format!("+1555000{n:04}"));
        }
        // The load generator is one client sending as fast as it can.
        env.insert("API_RATE_LIMIT_PER_S", "0".into());
        env.insert("API_IP_RATE_LIMIT_PER_S", "0".into());
        let child = std::process::Command::new(exe)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let server = Server { child, port };
        let http = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{port}/ready"))
                .send()
                .await
            {
                if r.status() == 200 {
                    return Ok(server);
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err("the server did not become ready".into())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What the load generator needs to know of it.
    pub fn instance(&self) -> Instance {
        Instance {
            url: self.url(""),
            pid: Some(self.child.id()),
        }
    }

    /// Peak resident memory (VmHWM) in MiB, on Linux.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }
}

/// What Redis says about itself, summed over every node when `url` names a cluster.
pub async fn redis_info(url: &str) -> Result<RedisInfo, String> {
    let nodes = crate::store::cluster_nodes(url).unwrap_or_else(|| vec![url.to_string()]);
    callflow_bench::stats::redis_info(&nodes).await
}

/// Runs every measurement and prints the report.
pub async fn run(options: Options) -> Result<(), String> {
    crate::install_crypto();
    let mut _cluster = None;
    let (_private, redis_url, redis_label) = if options.cluster {
        let cluster = RedisCluster::start(3).map_err(|e| e.to_string())?;
        let url = cluster.url();
        _cluster = Some(cluster);
        (None, url, "private 3-node Redis Cluster".to_string())
    } else {
        crate::redis_server::from_env_or_private().map_err(|e| e.to_string())?
    };
    let sim = Simulator::start(SimConfig::new(ACCOUNT_SID, AUTH_TOKEN))
        .await
        .map_err(|e| e.to_string())?;
    // Callbacks come from the load generator, not from simulated callees.
    sim.set_default_persona(Persona::Manual);
    let say = |s: &str| {
        if !options.json {
            eprintln!("{s}");
        }
    };
    say(&format!(
        "callflow bench: {} build, {} cores, Redis: {redis_label}; server, Redis and load generator share this machine",
        if cfg!(debug_assertions) { "debug (use --release for real figures)" } else { "release" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    ));
    let mut report = callback_figures(&options, &redis_url, &sim, &say).await?;
    report["redis"] = json!(redis_label);
    if !options.skip_campaign {
        campaign::figures(&redis_url, &sim, &options, &mut report, &say).await?;
    }
    sim.stop();

    if options.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("reports serialize")
        );
    } else {
        report::print(&report);
    }
    Ok(())
}

/// The callback load and the memory held by calls in flight, against
/// `options.instances` servers behind one address: the report's first part.
// Long on purpose: one measurement, set up, run and read in sequence.
async fn callback_figures(
    options: &Options,
    redis_url: &str,
    sim: &Simulator,
    say: &impl Fn(&str),
) -> Result<Value, String> {
    // Every instance answers to one public address, as behind a load balancer.
    let public = format!(
        "http://127.0.0.1:{}",
        free_port().map_err(|e| e.to_string())?
    );
    let mut servers = Vec::new();
    for _ in 0..options.instances.max(1) {
        let extra = [
            ("TENANT_ID", "bench".to_string()),
            ("PUBLIC_BASE_URL", public.clone()),
        ];
        servers.push(Server::start(redis_url, sim, &extra).await?);
    }
    let peak_rss = |servers: &[Server]| {
        servers
            .iter()
            .filter_map(Server::peak_rss_mib)
            .reduce(f64::max)
    };
    say(&format!(
        "  callbacks: {} concurrent calls for {:?}...",
        options.concurrency, options.duration
    ));
    let instances: Vec<Instance> = servers.iter().map(Server::instance).collect();
    let nodes = crate::store::cluster_nodes(redis_url).unwrap_or_else(|| vec![redis_url.into()]);
    let load = Load {
        duration: options.duration,
        concurrency: options.concurrency,
        rate: options.rate,
    };
    let cb = callbacks::run(&instances, &public, &nodes, &load).await?;
    let rss = peak_rss(&servers);
    let mut held = 0;
    let mut rss_held = None;
    if options.in_flight > 0 {
        say(&format!(
            "  memory: holding {} calls in flight...",
            options.in_flight
        ));
        held =
            callbacks::hold_in_flight(&instances, &public, options.in_flight, options.concurrency)
                .await?;
        rss_held = peak_rss(&servers);
    }
    Ok(json!({
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "duration_s": options.duration.as_secs_f64(),
        "concurrency": options.concurrency,
        "instances": options.instances.max(1),
        "redis": null,
        "calls_per_s": cb.calls_per_s,
        "callbacks_per_s": cb.callbacks_per_s,
        "latency_ms": cb.latency_ms,
        "redis_roundtrips_per_callback": cb.roundtrips_per_callback,
        "redis_commands_per_callback": cb.commands_per_callback,
        "redis_bytes_per_call": cb.bytes_per_call,
        "server_cpu_us_per_callback": cb.server_cpu_us_per_callback,
        "redis_cpu_us_per_callback": cb.redis_cpu_us_per_callback,
        "load_generator_cpu_us_per_callback": cb.load_cpu_us_per_callback,
        "server_peak_rss_mib": rss,
        "in_flight_calls": held,
        "server_peak_rss_mib_in_flight": rss_held,
        "calls_completed": cb.calls,
        "callbacks": cb.callbacks,
        "errors": cb.errors,
    }))
}
