//! The console in a real browser: headless Chromium (Debian's `chromium`)
//! driven by `tests/console/console.spec.mjs` (playwright-core, installed by
//! `scripts/ensure-browser.sh`, which `scripts/test.sh` runs). The server runs
//! here with real Redis and the simulator; the script logs in, starts a small
//! campaign, watches it live, pauses and resumes it, opens a call's timeline,
//! uses the call log and the do-not-call list, checks that another tenant
//! sees none of it, and saves screenshots under `target/console-screenshots/`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use twilio_sim::Persona;

use crate::console::{ACME_NUMBER, BOLT_NUMBER};
use crate::tenants::{create_tenant, spawn};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the script needs, or a panic that says how to get it.
fn prerequisites() -> (PathBuf, PathBuf) {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let playwright = root().join("tests/console/node_modules/playwright-core");
    assert!(
        chromium.exists() && playwright.exists(),
        "the console's browser test needs Chromium ({}) and playwright-core ({}): \
         run `bash scripts/ensure-browser.sh` (scripts/test.sh does)",
        chromium.display(),
        playwright.display()
    );
    (chromium, root().join("tests/console/console.spec.mjs"))
}

#[tokio::test]
async fn console_in_a_browser() {
    let (chromium, script) = prerequisites();
    // A browser loads the machine: not beside the tests that measure time.
    let _turn = crate::helpers::TIMING.lock().await;
    let app = spawn().await;
    let (acme, _) = create_tenant(
        &app,
        json!({"id": "acme", "name": "Acme", "company_name": "Acme Dental",
               "call_purpose": "about your cleaning", "numbers": [ACME_NUMBER]}),
    )
    .await;
    let (bolt, _) = create_tenant(
        &app,
        json!({"id": "bolt", "name": "Bolt", "company_name": "Bolt Plumbing",
               "call_purpose": "about your pipes", "numbers": [BOLT_NUMBER]}),
    )
    .await;
    // Conversations long enough to be seen in progress.
    app.sim.set_think_time(Duration::from_millis(700));
    let contacts = [
        ("+15557773001", Persona::Interested),
        ("+15557773002", Persona::Declines),
        ("+15557773003", Persona::Voicemail),
        ("+15557773004", Persona::Interested),
        ("+15557773005", Persona::Busy),
        ("+15557773006", Persona::OptsOutMidPitch),
    ];
    for (to, persona) in &contacts {
        app.sim.set_persona(to, persona.clone());
    }
    let numbers: Vec<&str> = contacts.iter().map(|(to, _)| *to).collect();
    let shots = root().join("target/console-screenshots");
    let child = tokio::process::Command::new("node")
        .arg(&script)
        .env("CONSOLE_BASE_URL", &app.base_url)
        .env("ACME_TOKEN", &acme.token)
        .env("BOLT_TOKEN", &bolt.token)
        .env("CONTACTS", numbers.join(","))
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (is Node.js installed? scripts/ensure-browser.sh installs it)");
    let out = tokio::time::timeout(Duration::from_secs(240), child.wait_with_output())
        .await
        .expect("the browser test finishes within 4 minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("console browser test: ok"), "{stdout}");
    for shot in [
        "campaign.png",
        "live-calls.png",
        "call.png",
        "call-log.png",
        "dnc.png",
    ] {
        assert!(shots.join(shot).exists(), "{shot} saved");
    }
}
