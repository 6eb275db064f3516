//! `callflow doctor`, the real binary, against the simulator and real Redis
//! servers: a good setup passes; each broken part fails on its own line.

use std::collections::HashMap;

use callflow::redis_server::RedisServer;
use twilio_sim::{SimNumber, Simulator};

use crate::helpers::*;

const PUBLIC: &str = "https://calls.example.test";

struct Setup {
    redis: RedisServer,
    sim: Simulator,
}

/// A Redis with RDB snapshots on (nothing is written before an hour), and an
/// account owning the voice number with its webhooks under `PUBLIC`.
async fn good_setup() -> Setup {
    let redis = RedisServer::start_with(&["--save", "3600 1"]).unwrap();
    let sim = start_sim().await;
    sim.add_number(SimNumber {
        voice_url: Some(format!("{PUBLIC}/twilio/voice/inbound")),
        ..SimNumber::new(VOICE_NUMBER)
    });
    Setup { redis, sim }
}

impl Setup {
    fn env(&self) -> HashMap<&'static str, String> {
        let mut env = env_for(&self.redis.url(), &self.sim.base_url(), 0);
        env.insert("PUBLIC_BASE_URL", PUBLIC.into());
        env
    }
}

/// Runs `callflow doctor` with exactly `env`: (succeeded, stdout). Awaited,
/// so the simulator (on this test's runtime) can answer it.
async fn doctor(env: &HashMap<&'static str, String>) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("callflow-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
        .arg("doctor")
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .expect("callflow doctor runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.success(), stdout)
}

/// The line of check `name`.
fn line<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| {
            l.get(6..)
                .is_some_and(|rest| rest.starts_with(&format!("{name}:")))
        })
        .unwrap_or_else(|| panic!("no line for {name}:\n{stdout}"))
}

const CHECKS: [&str; 6] = [
    "settings",
    "public URL",
    "redis",
    "flows",
    "twilio account",
    "voice number",
];

#[tokio::test]
async fn a_good_setup_passes_every_check() {
    let setup = good_setup().await;
    let (ok, stdout) = doctor(&setup.env()).await;
    assert!(ok, "{stdout}");
    for name in CHECKS {
        assert!(line(&stdout, name).starts_with("ok  "), "{stdout}");
    }
    assert!(line(&stdout, "redis").contains("RDB snapshots"), "{stdout}");
    // The number is masked, the token never printed.
    assert!(!stdout.contains(VOICE_NUMBER), "{stdout}");
    assert!(!stdout.contains(AUTH_TOKEN), "{stdout}");
    // The account and the number were read as Twilio's description says.
    let reqs = setup.sim.requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    assert!(paths.contains(&format!("/2010-04-01/Accounts/{ACCOUNT_SID}.json").as_str()));
    assert!(reqs.iter().all(|r| r.error.is_none()), "{reqs:?}");
}

#[tokio::test]
async fn the_append_only_file_counts_as_persistence() {
    let dir = std::env::temp_dir().join(format!("callflow-doctor-aof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let redis =
        RedisServer::start_with(&["--appendonly", "yes", "--dir", dir.to_str().unwrap()]).unwrap();
    let mut setup = good_setup().await;
    setup.redis = redis;
    let (ok, stdout) = doctor(&setup.env()).await;
    assert!(ok, "{stdout}");
    assert!(
        line(&stdout, "redis").contains("append-only file"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_bad_token_fails_the_account_and_skips_the_number() {
    let setup = good_setup().await;
    let mut env = setup.env();
    env.insert("TWILIO_AUTH_TOKEN", "not-the-token".into());
    let (ok, stdout) = doctor(&env).await;
    assert!(!ok, "{stdout}");
    let account = line(&stdout, "twilio account");
    assert!(account.starts_with("FAIL"), "{stdout}");
    assert!(account.contains("refused the credentials"), "{stdout}");
    assert!(account.contains("fix: "), "{stdout}");
    assert!(
        line(&stdout, "voice number").starts_with("skip"),
        "{stdout}"
    );
    assert!(!stdout.contains("not-the-token"), "{stdout}");
    for name in ["settings", "public URL", "redis", "flows"] {
        assert!(line(&stdout, name).starts_with("ok  "), "{stdout}");
    }
}

#[tokio::test]
async fn a_base_url_without_https_fails() {
    let setup = good_setup().await;
    let mut env = setup.env();
    env.insert("PUBLIC_BASE_URL", "http://calls.example.test".into());
    let (ok, stdout) = doctor(&env).await;
    assert!(!ok, "{stdout}");
    let public = line(&stdout, "public URL");
    assert!(
        public.starts_with("FAIL") && public.contains("not https"),
        "{stdout}"
    );
    assert!(public.contains("fix: "), "{stdout}");
    // Its webhooks are under https://..., not under the http base.
    assert!(
        line(&stdout, "voice number").starts_with("FAIL"),
        "{stdout}"
    );
}

#[tokio::test]
async fn redis_without_persistence_fails() {
    let setup = good_setup().await;
    let volatile = RedisServer::start().unwrap();
    let mut env = setup.env();
    env.insert("REDIS_URL", volatile.url());
    let (ok, stdout) = doctor(&env).await;
    assert!(!ok, "{stdout}");
    let redis = line(&stdout, "redis");
    assert!(
        redis.starts_with("FAIL") && redis.contains("persistence is off"),
        "{stdout}"
    );
    assert!(redis.contains("appendonly yes"), "{stdout}");
    assert!(
        line(&stdout, "twilio account").starts_with("ok  "),
        "{stdout}"
    );
}

#[tokio::test]
async fn unreachable_redis_fails() {
    let setup = good_setup().await;
    let mut env = setup.env();
    let port = callflow::redis_server::free_port().unwrap();
    env.insert("REDIS_URL", format!("redis://127.0.0.1:{port}/"));
    let (ok, stdout) = doctor(&env).await;
    assert!(!ok, "{stdout}");
    assert!(line(&stdout, "redis").starts_with("FAIL"), "{stdout}");
}

#[tokio::test]
async fn without_redis_url_the_private_server_is_explained() {
    let setup = good_setup().await;
    let mut env = setup.env();
    env.remove("REDIS_URL");
    let (ok, stdout) = doctor(&env).await;
    assert!(ok, "{stdout}");
    let redis = line(&stdout, "redis");
    assert!(
        redis.starts_with("note") && redis.contains("append-only file"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_number_the_account_does_not_own_fails() {
    let setup = good_setup().await;
    let mut env = setup.env();
    env.insert("TWILIO_VOICE_NUMBER", "+15550002222".into());
    let (ok, stdout) = doctor(&env).await;
    assert!(!ok, "{stdout}");
    let number = line(&stdout, "voice number");
    assert!(number.starts_with("FAIL"), "{stdout}");
    assert!(
        number.contains("is not a number of this account"),
        "{stdout}"
    );
    assert!(!number.contains("+15550002222"), "masked: {stdout}");
    assert!(
        line(&stdout, "twilio account").starts_with("ok  "),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_number_whose_webhooks_point_elsewhere_fails() {
    let setup = good_setup().await;
    setup.sim.add_number(SimNumber {
        voice_url: Some("https://old-host.example.test/voice".into()),
        status_callback: Some("https://old-host.example.test/status".into()),
        ..SimNumber::new("+15550003333")
    });
    let mut env = setup.env();
    env.insert("TWILIO_VOICE_NUMBER", "+15550003333".into());
    let (ok, stdout) = doctor(&env).await;
    assert!(!ok, "{stdout}");
    let number = line(&stdout, "voice number");
    assert!(number.starts_with("FAIL"), "{stdout}");
    assert!(
        number
            .contains("Voice URL https://old-host.example.test/voice is not under PUBLIC_BASE_URL"),
        "{stdout}"
    );
    assert!(
        number.contains(&format!("{PUBLIC}/twilio/voice/inbound")),
        "{stdout}"
    );
}

#[tokio::test]
async fn invalid_settings_fail_first_and_skip_the_rest() {
    let setup = good_setup().await;
    let mut env = setup.env();
    env.remove("API_TOKEN");
    let (ok, stdout) = doctor(&env).await;
    assert!(!ok, "{stdout}");
    let settings = line(&stdout, "settings");
    assert!(
        settings.starts_with("FAIL") && settings.contains("API_TOKEN"),
        "{stdout}"
    );
    for name in &CHECKS[1..] {
        assert!(line(&stdout, name).starts_with("skip"), "{stdout}");
    }
}
