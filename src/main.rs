//! The `callflow` command: thin; everything lives in the library.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use callflow::{config, doctor, graph, observe, redis_server::RedisServer, startup};

#[derive(Parser)]
#[command(
    name = "callflow",
    version,
    about = "Outbound phone calls on Twilio as persisted state machines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (API and Twilio webhooks).
    Serve,
    /// Check the setup (settings, Redis, flows, Twilio account and number) and say how to fix what is wrong.
    Doctor,
    /// Exit 0 when the local server (on PORT) answers /ready with 200: for container health checks.
    Healthcheck,
    /// Run a self-contained demo: private Redis, a simulated Twilio and a handful of calls.
    #[cfg(feature = "demo")]
    Demo {
        /// Run a 50-contact campaign across time zones on an accelerated clock instead.
        #[arg(long)]
        campaign: bool,
    },
    /// Measure throughput, latency, Redis cost and pacing (prints figures; not a test).
    #[cfg(feature = "bench")]
    Bench {
        /// Seconds of callback load.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Calls driven at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Target new calls per second (default: as fast as the concurrency allows).
        #[arg(long)]
        rate: Option<f64>,
        /// Contacts in the campaign-load measurement.
        #[arg(long, default_value_t = 100_000)]
        contacts: usize,
        /// Skip the campaign load and pacing measurements.
        #[arg(long)]
        skip_campaign: bool,
        /// Calls held mid-conversation at the end to measure server memory (0 skips).
        #[arg(long, default_value_t = 10_000)]
        in_flight: usize,
        /// Simulated seconds of dialing for each pacing rate (1, 10, 30 calls/s).
        #[arg(long, default_value_t = 60)]
        pacing_seconds: u64,
        /// Server instances behind one address; callbacks are spread round-robin.
        #[arg(long, default_value_t = 1)]
        instances: usize,
        /// Run against a private 3-node Redis Cluster.
        #[arg(long)]
        cluster: bool,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Work with flow files.
    Flows {
        #[command(subcommand)]
        command: FlowsCommand,
    },
}

#[derive(Subcommand)]
enum FlowsCommand {
    /// Validate every flow in FLOWS_DIR (default `flows`).
    Check,
    /// Print the call state machine as a Mermaid diagram.
    Graph,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    callflow::install_crypto();
    let result = match cli.command {
        Command::Flows {
            command: FlowsCommand::Graph,
        } => {
            print!("{}", graph::mermaid());
            Ok(())
        }
        Command::Flows {
            command: FlowsCommand::Check,
        } => flows_check(),
        Command::Serve => match config::from_env() {
            Ok(settings) => {
                observe::init_logs(settings.log_format);
                let runtime = runtime();
                let result = runtime.block_on(serve(settings));
                // Tasks still running past the shutdown grace are abandoned, not awaited.
                runtime.shutdown_timeout(std::time::Duration::from_millis(500));
                result
            }
            Err(e) => Err(e.to_string()),
        },
        Command::Healthcheck => {
            callflow::healthcheck::port_from_env().and_then(callflow::healthcheck::check)
        }
        Command::Doctor => {
            let healthy = runtime().block_on(doctor::run(&mut std::io::stdout()));
            if healthy {
                Ok(())
            } else {
                Err("the setup has problems: see the lines marked FAIL above".into())
            }
        }
        #[cfg(feature = "demo")]
        Command::Demo { campaign } => runtime().block_on(callflow::harness::demo::run(campaign)),
        #[cfg(feature = "bench")]
        Command::Bench {
            duration,
            concurrency,
            rate,
            contacts,
            skip_campaign,
            in_flight,
            pacing_seconds,
            instances,
            cluster,
            json,
        } => runtime().block_on(callflow::harness::bench::run(
            callflow::harness::bench::Options {
                duration: std::time::Duration::from_secs(duration),
                concurrency: concurrency.max(1),
                rate,
                json,
                contacts: contacts.max(1),
                skip_campaign,
                in_flight,
                pacing_seconds: pacing_seconds.max(10),
                instances,
                cluster,
            },
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn flows_check() -> Result<(), String> {
    let _ = dotenvy::dotenv();
    let dir = std::env::var("FLOWS_DIR").unwrap_or_else(|_| "flows".into());
    let flows =
        callflow::flow::FlowRegistry::load_dir(dir.as_ref()).map_err(|e| format!("flow {e}"))?;
    for id in flows.ids() {
        let flow = flows.current(&id).expect("listed flow exists");
        println!("ok  {id}  (version {})  {}", flow.version, flow.description);
    }
    for id in flows.inbound_ids() {
        let flow = flows.inbound(&id).expect("listed flow exists");
        println!(
            "ok  {id}  (inbound, version {})  {}",
            flow.version, flow.description
        );
    }
    Ok(())
}

async fn serve(settings: config::Settings) -> Result<(), String> {
    // Without REDIS_URL, a private redis-server lives as long as this process
    // and keeps its data in CALLFLOW_DATA_DIR for the next start.
    let (_private, redis_url) = match settings.redis_url.clone() {
        Some(url) => (None, url),
        None => {
            let server =
                RedisServer::start_durable(&settings.data_dir).map_err(|e| e.to_string())?;
            let data_dir = server.data_dir().unwrap_or(&settings.data_dir).display();
            tracing::info!(
                port = server.port(),
                data_dir = %data_dir,
                "started a private redis-server keeping its data in {data_dir} (append-only file, fsync every second); in production set REDIS_URL to a managed, persistent Redis"
            );
            let url = server.url();
            (Some(server), url)
        }
    };
    let listener = TcpListener::bind((settings.bind, settings.port))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", settings.bind, settings.port))?;
    let grace = settings.shutdown_grace;
    let app = startup::Application::build(settings, &redis_url, listener)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(port = app.port, "callflow listening");
    callflow::shutdown::serve_until_signal(app, grace)
        .await
        .map_err(|e| e.to_string())
}

// glibc's malloc was a tenth of the server's time on the callback path
// (`perf record` during `callflow bench`); mimalloc's thread-local free lists
// suit actix's per-worker threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
