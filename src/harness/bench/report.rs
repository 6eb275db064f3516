//! The benchmark's table, printed from its JSON report.

use serde_json::Value;

// Long on purpose: one line per printed figure, in the order of the table.
pub fn print(r: &Value) {
    let f = |v: &Value| {
        v.as_f64()
            .map(|x| format!("{x:.2}"))
            .unwrap_or_else(|| "-".into())
    };
    println!(
        "\ncallflow bench ({} build, {} s, concurrency {})",
        r["build"].as_str().unwrap_or("?"),
        f(&r["duration_s"]),
        r["concurrency"]
    );
    println!("  completed calls/s           {}", f(&r["calls_per_s"]));
    println!("  callbacks/s                 {}", f(&r["callbacks_per_s"]));
    println!("  latency (ms)                p50      p95      p99      max");
    for kind in ["answer", "gather", "status"] {
        let l = &r["latency_ms"][kind];
        println!(
            "    {kind:<24}  {:>7}  {:>7}  {:>7}  {:>7}",
            f(&l["p50"]),
            f(&l["p95"]),
            f(&l["p99"]),
            f(&l["max"])
        );
    }
    println!(
        "  Redis round trips/callback  {}",
        f(&r["redis_roundtrips_per_callback"])
    );
    println!(
        "  Redis commands/callback     {}",
        f(&r["redis_commands_per_callback"])
    );
    println!(
        "  Redis bytes per call        {}",
        f(&r["redis_bytes_per_call"])
    );
    println!(
        "  CPU per callback (us)       server {}, Redis {}, load generator {} (placing calls included)",
        f(&r["server_cpu_us_per_callback"]),
        f(&r["redis_cpu_us_per_callback"]),
        f(&r["load_generator_cpu_us_per_callback"])
    );
    println!(
        "  server peak RSS (MiB)       {}",
        f(&r["server_peak_rss_mib"])
    );
    if r["in_flight_calls"].as_u64().unwrap_or(0) > 0 {
        println!(
            "  ... with {} calls in flight  {}",
            r["in_flight_calls"],
            f(&r["server_peak_rss_mib_in_flight"])
        );
    }
    println!("  errors                      {}", r["errors"]);
    if !r["contacts_load_s"].is_null() {
        println!(
            "  {} contacts loaded in     {} s",
            r["contacts_loaded"],
            f(&r["contacts_load_s"])
        );
        println!(
            "  Redis bytes per contact     {}",
            f(&r["redis_bytes_per_contact"])
        );
        println!("  pacing                      target   mean     max deviation (10 s windows)   busiest 1 s window");
        for p in r["pacing"].as_array().into_iter().flatten() {
            println!(
                "                              {:>6}   {:>6}   {:>6} %                      {} of {}   (clock x{})",
                f(&p["target_cps"]),
                f(&p["mean_cps"]),
                f(&p["max_deviation_pct"]),
                p["busiest_window"],
                p["window_limit"],
                p["clock_speed"]
            );
        }
    }
}
