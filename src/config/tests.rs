//! Unit tests of the settings.

use super::*;
use std::collections::HashMap;

fn base() -> HashMap<&'static str, &'static str> {
    HashMap::from([
        ("PUBLIC_BASE_URL", "https://calls.example.com/"),
        ("API_TOKEN", "0123456789abcdef"),
        ("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"),
        ("TWILIO_AUTH_TOKEN", "secret-token"),
        ("TWILIO_VOICE_NUMBER", "+15550001111"),
        ("COMPANY_NAME", "Acme"),
        ("CALL_PURPOSE", "about your booking"),
    ])
}

fn load(env: &HashMap<&'static str, &'static str>) -> Result<Settings, ConfigError> {
    from_lookup(|k| env.get(k).map(|v| v.to_string()))
}

#[test]
fn defaults_apply() {
    let s = load(&base()).unwrap();
    assert_eq!(s.port, 3000);
    assert_eq!(s.public_base_url, "https://calls.example.com");
    assert_eq!(s.twilio.api_base_url, "https://api.twilio.com");
    assert_eq!(s.tenant, "default");
    assert!(s.require_recording_consent);
    assert_eq!(s.shutdown_grace, std::time::Duration::from_secs(10));
    assert_eq!(s.data_dir, PathBuf::from("./callflow-data"));
    assert_eq!(
        s.call_log_retention,
        std::time::Duration::from_secs(90 * 86_400)
    );
    assert!(!format!("{s:?}").contains("secret-token"));
    assert!(!format!("{s:?}").contains("0123456789abcdef"));
}

#[test]
fn call_log_retention_takes_decimal_days() {
    let mut env = base();
    env.insert("CALL_LOG_RETENTION_DAYS", "0.5");
    let s = load(&env).unwrap();
    assert_eq!(s.call_log_retention, std::time::Duration::from_secs(43_200));
}

#[test]
fn env_example_is_a_valid_configuration() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example");
    let vars: HashMap<String, String> = dotenvy::from_path_iter(path)
        .expect(".env.example exists")
        .map(|kv| kv.expect("well-formed line"))
        .collect();
    let s = from_lookup(|k| vars.get(k).cloned()).expect(".env.example is valid");
    assert_eq!(s.port, 3000);
    assert!(s.campaign_webhook_secret.is_none());
}

#[test]
fn each_bad_setting_is_named() {
    for (name, value) in [
        ("PORT", "http"),
        ("PUBLIC_BASE_URL", "not a url"),
        ("TWILIO_VOICE_NUMBER", "555"),
        ("TIMEZONE_DEFAULT", "Mars/Olympus"),
        ("FEATURE_REQUIRE_RECORDING_CONSENT", "maybe"),
        ("API_TOKEN", "short"),
        ("REDIS_URL", "http://nope"),
        ("TWILIO_MAX_CPS", "0"),
        ("CALLFLOW_CLOCK_SPEED", "-2"),
        ("CALLFLOW_CLOCK_START", "yesterday"),
        ("DISPATCHER_ENABLED", "perhaps"),
        ("SHUTDOWN_GRACE_SECS", "0"),
        ("SHUTDOWN_GRACE_SECS", "ten"),
        ("CALL_LOG_RETENTION_DAYS", "0"),
        ("CALL_LOG_RETENTION_DAYS", "-1"),
        ("CALL_LOG_RETENTION_DAYS", "forever"),
        ("CALL_LOG_RETENTION_DAYS", "0.000001"),
    ] {
        let mut env = base();
        env.insert(name, value);
        assert_eq!(load(&env).unwrap_err().name, name);
    }
    let mut env = base();
    env.remove("TWILIO_AUTH_TOKEN");
    assert_eq!(load(&env).unwrap_err().name, "TWILIO_AUTH_TOKEN");
    let mut env = base();
    env.insert("TWILIO_API_KEY_SID", "SK1");
    assert_eq!(load(&env).unwrap_err().name, "TWILIO_API_KEY_SECRET");
}

#[test]
fn log_format_and_metrics_token() {
    let s = load(&base()).unwrap();
    assert_eq!(s.log_format, LogFormat::Text);
    assert!(s.metrics_token.is_none());
    let mut env = base();
    env.insert("LOG_FORMAT", "json");
    env.insert("METRICS_TOKEN", "scrape-token-0123456789");
    let s = load(&env).unwrap();
    assert_eq!(s.log_format, LogFormat::Json);
    assert_eq!(
        s.metrics_token.as_ref().map(Secret::expose),
        Some("scrape-token-0123456789")
    );
    assert!(!format!("{s:?}").contains("scrape-token"));
    env.insert("LOG_FORMAT", "xml");
    assert_eq!(load(&env).unwrap_err().name, "LOG_FORMAT");
    env.insert("LOG_FORMAT", "json");
    env.insert("METRICS_TOKEN", "short");
    assert_eq!(load(&env).unwrap_err().name, "METRICS_TOKEN");
}

#[test]
fn a_whsec_webhook_secret_must_be_base64() {
    let with = |secret: &'static str| {
        let mut env = base();
        env.insert("CAMPAIGN_WEBHOOK_SECRET", secret);
        load(&env)
    };
    let bad = with("whsec_not base64!").unwrap_err();
    assert_eq!(bad.name, "CAMPAIGN_WEBHOOK_SECRET");
    assert!(
        !bad.to_string().contains("not base64!"),
        "the secret is never echoed"
    );
    assert!(with("whsec_aG9vay1zZWNyZXQ=")
        .unwrap()
        .campaign_webhook_secret
        .is_some());
    assert!(with("anything at all")
        .unwrap()
        .campaign_webhook_secret
        .is_some());
}

#[test]
fn tenant_settings_are_checked() {
    let s = load(&base()).unwrap();
    assert!(s.admin_token.is_none() && s.jwt_secret.is_none() && s.tenants_file.is_none());
    assert_eq!(s.api_rate.per_token_per_s, 200.0);
    assert_eq!(s.api_rate.burst, 2000);
    assert_eq!(s.api_rate.per_ip_per_s, 500.0);
    for (name, value) in [
        ("ADMIN_TOKEN", "short"),
        ("JWT_SECRET", "not-32-characters"),
        ("API_RATE_LIMIT_PER_S", "-1"),
        ("API_RATE_LIMIT_BURST", "0"),
        ("API_IP_RATE_LIMIT_PER_S", "many"),
        ("TENANTS_FILE", "/nonexistent/tenants.toml"),
    ] {
        let mut env = base();
        env.insert(name, value);
        let e = load(&env).unwrap_err();
        assert_eq!(e.name, name, "{e}");
        assert!(
            !e.to_string().contains("not-32-characters"),
            "secrets are never echoed: {e}"
        );
    }
    let mut env = base();
    env.insert("API_RATE_LIMIT_PER_S", "0");
    assert_eq!(load(&env).unwrap().api_rate.per_token_per_s, 0.0);
}

#[test]
fn missed_call_sms_cooldown_takes_the_campaign_notation() {
    let s = load(&base()).unwrap();
    assert_eq!(
        s.missed_call_sms_cooldown,
        std::time::Duration::from_secs(86_400)
    );
    let mut env = base();
    env.insert("MISSED_CALL_SMS_COOLDOWN", "90s");
    let s = load(&env).unwrap();
    assert_eq!(
        s.missed_call_sms_cooldown,
        std::time::Duration::from_secs(90)
    );
    for bad in ["90", "1.5h", "0s", "soon"] {
        env.insert("MISSED_CALL_SMS_COOLDOWN", bad);
        let e = load(&env).unwrap_err();
        assert_eq!(e.name, "MISSED_CALL_SMS_COOLDOWN", "{bad}");
    }
}
