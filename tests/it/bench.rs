//! `callflow bench` runs end to end and reports every figure it promises
//! (tiny run; the figures themselves are not asserted: speed is measured, not tested).

#[tokio::test]
async fn bench_reports_every_figure_as_json() {
    let _turn = crate::helpers::TIMING.lock().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args([
            "bench",
            "--duration",
            "1",
            "--concurrency",
            "2",
            "--contacts",
            "500",
        ])
        .args(["--in-flight", "20", "--pacing-seconds", "10", "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .await
        .expect("bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    for key in [
        "callbacks_per_s",
        "calls_per_s",
        "redis_roundtrips_per_callback",
        "redis_bytes_per_call",
        "server_peak_rss_mib",
        "contacts_load_s",
        "redis_bytes_per_contact",
    ] {
        assert!(r[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {r}");
    }
    for kind in ["answer", "gather", "status"] {
        for p in ["p50", "p95", "p99", "max"] {
            assert!(r["latency_ms"][kind][p].is_number(), "{kind} {p}: {r}");
        }
    }
    assert_eq!(r["errors"], 0);
    assert_eq!(r["in_flight_calls"], 20);
    // The transition is one script; reads are skipped when the instance holds the call.
    assert!(
        r["redis_roundtrips_per_callback"].as_f64().unwrap() <= 1.2,
        "{r}"
    );
    let pacing = r["pacing"].as_array().unwrap();
    assert_eq!(pacing.len(), 3);
    for p in pacing {
        assert!(
            p["target_cps"].is_number()
                && p["mean_cps"].as_f64().unwrap() > 0.0
                && p["max_deviation_pct"].is_number()
        );
    }
}

#[tokio::test]
async fn bench_runs_two_instances_on_a_cluster() {
    let _turn = crate::helpers::TIMING.lock().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args([
            "bench",
            "--duration",
            "1",
            "--concurrency",
            "4",
            "--instances",
            "2",
            "--cluster",
        ])
        .args(["--skip-campaign", "--in-flight", "0", "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .await
        .expect("bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(r["instances"], 2);
    assert_eq!(r["errors"], 0);
    assert!(r["callbacks_per_s"].as_f64().unwrap() > 0.0);
    assert!(r["redis"].as_str().unwrap().contains("Cluster"));
}
