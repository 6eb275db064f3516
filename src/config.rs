//! Settings from the environment (and `.env` when present). Each bad or missing
//! setting stops startup with one line naming it; secrets never print.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use chrono_tz::Tz;

use crate::clock::Clock;
use crate::phone::E164;

/// A secret value: its Debug and Display never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration: {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub auth_token: Secret,
    /// API key credentials for REST calls, when set (the auth token still signs webhooks).
    pub api_key: Option<(String, Secret)>,
    pub voice_number: E164,
    pub api_base_url: String,
    /// Whole-request timeout of REST calls.
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: IpAddr,
    pub port: u16,
    /// Where Twilio reaches us, without a trailing slash; webhook URLs and
    /// signatures are built from it, never from request headers.
    pub public_base_url: String,
    /// `None`: start a private `redis-server`.
    pub redis_url: Option<String>,
    pub api_token: Secret,
    pub twilio: TwilioSettings,
    pub company_name: String,
    pub call_purpose: String,
    pub require_recording_consent: bool,
    pub timezone_default: Tz,
    pub flows_dir: PathBuf,
    /// The flow used when a request names none.
    pub default_flow: String,
    pub tenant: String,
    /// Account-wide dial rate limit (calls per second) across all instances.
    pub twilio_max_cps: f64,
    /// Signs campaign webhook events (HMAC-SHA256).
    pub campaign_webhook_secret: Option<Secret>,
    /// Run the campaign dispatcher in this process.
    pub dispatcher: bool,
    /// How long a dispatcher's claim on a contact lasts before another instance
    /// may take it over. Always well above the REST timeout.
    pub dispatch_lease: std::time::Duration,
    /// Contacts per campaign shard: a larger campaign spreads its contacts, states
    /// and due queue over several hash tags (Redis Cluster slots).
    pub campaign_shard_contacts: u32,
    pub clock: Clock,
}

/// Reads settings through `get`, so tests and the demo can supply their own.
pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
    let value = |name: &'static str| {
        get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let required = |name: &'static str| {
        value(name).ok_or_else(|| ConfigError {
            name,
            reason: "is required (see .env.example)".into(),
        })
    };
    let bad = |name: &'static str, reason: String| ConfigError { name, reason };

    let port = match value("PORT") {
        None => 3000,
        Some(v) => v
            .parse::<u16>()
            .map_err(|_| bad("PORT", format!("'{v}' is not a port number (0-65535)")))?,
    };
    let bind = match value("BIND") {
        None => IpAddr::from([127, 0, 0, 1]),
        Some(v) => v
            .parse()
            .map_err(|_| bad("BIND", format!("'{v}' is not an IP address")))?,
    };
    let public_base_url = required("PUBLIC_BASE_URL")?;
    let public_base_url = public_base_url.trim_end_matches('/').to_string();
    let parsed = reqwest::Url::parse(&public_base_url)
        .map_err(|e| bad("PUBLIC_BASE_URL", format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
        return Err(bad(
            "PUBLIC_BASE_URL",
            "must be an http(s) URL without a query, e.g. https://calls.example.com".into(),
        ));
    }
    // A cluster is `REDIS_URL=redis+cluster://h1:p1,h2:p2,...` or `REDIS_CLUSTER_NODES=h1:p1,h2:p2,...`.
    let redis_url = match value("REDIS_CLUSTER_NODES") {
        Some(nodes) => Some(format!("redis+cluster://{nodes}")),
        None => value("REDIS_URL"),
    };
    if let Some(url) = &redis_url {
        let name = if value("REDIS_CLUSTER_NODES").is_some() {
            "REDIS_CLUSTER_NODES"
        } else {
            "REDIS_URL"
        };
        match crate::store::cluster_nodes(url) {
            Some(nodes) if nodes.is_empty() => {
                return Err(bad(name, "names no cluster node".into()))
            }
            Some(nodes) => {
                for node in nodes {
                    redis::Client::open(node.as_str())
                        .map_err(|e| bad(name, format!("'{node}' is not a node address: {e}")))?;
                }
            }
            None => {
                redis::Client::open(url.as_str())
                    .map_err(|e| bad(name, format!("is not a Redis URL: {e}")))?;
            }
        }
    }
    let api_token = required("API_TOKEN")?;
    if api_token.len() < 16 {
        return Err(bad("API_TOKEN", "must be at least 16 characters".into()));
    }
    let account_sid = required("TWILIO_ACCOUNT_SID")?;
    if !account_sid.starts_with("AC")
        || account_sid.len() != 34
        || !account_sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(bad(
            "TWILIO_ACCOUNT_SID",
            "must be 'AC' followed by 32 hexadecimal digits".into(),
        ));
    }
    let auth_token = Secret::new(required("TWILIO_AUTH_TOKEN")?);
    let api_key = match (value("TWILIO_API_KEY_SID"), value("TWILIO_API_KEY_SECRET")) {
        (Some(sid), Some(secret)) => Some((sid, Secret::new(secret))),
        (None, None) => None,
        (Some(_), None) => {
            return Err(bad(
                "TWILIO_API_KEY_SECRET",
                "is required when TWILIO_API_KEY_SID is set".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(bad(
                "TWILIO_API_KEY_SID",
                "is required when TWILIO_API_KEY_SECRET is set".into(),
            ))
        }
    };
    let voice_number = E164::parse(&required("TWILIO_VOICE_NUMBER")?)
        .map_err(|e| bad("TWILIO_VOICE_NUMBER", e.to_string()))?;
    let api_base_url = value("TWILIO_API_BASE_URL")
        .unwrap_or_else(|| "https://api.twilio.com".into())
        .trim_end_matches('/')
        .to_string();
    reqwest::Url::parse(&api_base_url)
        .map_err(|e| bad("TWILIO_API_BASE_URL", format!("is not a URL: {e}")))?;
    let require_recording_consent = match value("FEATURE_REQUIRE_RECORDING_CONSENT").as_deref() {
        None | Some("true" | "1" | "yes") => true,
        Some("false" | "0" | "no") => false,
        Some(v) => {
            return Err(bad(
                "FEATURE_REQUIRE_RECORDING_CONSENT",
                format!("'{v}' is not true or false"),
            ))
        }
    };
    let timezone_default = match value("TIMEZONE_DEFAULT") {
        None => chrono_tz::America::New_York,
        Some(v) => v.parse::<Tz>().map_err(|_| {
            bad(
                "TIMEZONE_DEFAULT",
                format!("'{v}' is not an IANA time zone (e.g. America/Chicago)"),
            )
        })?,
    };
    let tenant = value("TENANT_ID").unwrap_or_else(|| "default".into());
    if !tenant
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        || tenant.len() > 64
    {
        return Err(bad(
            "TENANT_ID",
            "must be 1-64 of a-z, A-Z, 0-9, '_' or '-'".into(),
        ));
    }

    let twilio_max_cps = match value("TWILIO_MAX_CPS") {
        None => 1.0,
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n > 0.0 && n <= 1000.0 => n,
            _ => {
                return Err(bad(
                    "TWILIO_MAX_CPS",
                    format!("'{v}' is not a number of calls per second (0-1000]"),
                ))
            }
        },
    };
    let bool_setting = |name: &'static str, default: bool| match value(name).as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(v) => Err(bad(name, format!("'{v}' is not true or false"))),
    };
    let dispatcher = bool_setting("DISPATCHER_ENABLED", true)?;
    let secs = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| match value(
        name,
    ) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(bad(
                name,
                format!(
                    "'{v}' is not a whole number of seconds in {}..={}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    };
    let twilio_timeout = std::time::Duration::from_secs(secs("TWILIO_TIMEOUT_SECS", 10, 1..=120)?);
    let lease = secs("DISPATCH_LEASE_SECS", 30, 2..=86_400)?;
    let campaign_shard_contacts = match value("CAMPAIGN_SHARD_CONTACTS") {
        None => 10_000,
        Some(v) => match v.parse::<u32>() {
            Ok(n @ 1..=1_000_000) => n,
            _ => {
                return Err(bad(
                    "CAMPAIGN_SHARD_CONTACTS",
                    format!("'{v}' is not a whole number from 1 to 1000000"),
                ))
            }
        },
    };
    let clock = match (value("CALLFLOW_CLOCK_START"), value("CALLFLOW_CLOCK_SPEED")) {
        (None, None) => Clock::system(),
        (start, speed) => {
            let start = match start {
                None => chrono::Utc::now(),
                Some(v) => chrono::DateTime::parse_from_rfc3339(&v)
                    .map_err(|_| {
                        bad(
                            "CALLFLOW_CLOCK_START",
                            format!("'{v}' is not an RFC 3339 time"),
                        )
                    })?
                    .with_timezone(&chrono::Utc),
            };
            let speed = match speed {
                None => 1.0,
                Some(v) => match v.parse::<f64>() {
                    Ok(n) if n > 0.0 && n <= 100_000.0 => n,
                    _ => {
                        return Err(bad(
                            "CALLFLOW_CLOCK_SPEED",
                            format!("'{v}' is not a positive factor"),
                        ))
                    }
                },
            };
            let origin = match value("CALLFLOW_CLOCK_ORIGIN") {
                None => None,
                Some(v) => Some(
                    chrono::DateTime::parse_from_rfc3339(&v)
                        .map_err(|_| {
                            bad(
                                "CALLFLOW_CLOCK_ORIGIN",
                                format!("'{v}' is not an RFC 3339 time"),
                            )
                        })?
                        .with_timezone(&chrono::Utc),
                ),
            };
            Clock::starting_at(start, speed, origin)
        }
    };

    // The lease runs on the service clock, which may run faster than real time.
    if (lease as f64 / clock.speed()) < 2.0 * twilio_timeout.as_secs_f64() {
        return Err(bad(
            "DISPATCH_LEASE_SECS",
            format!(
                "must last at least twice TWILIO_TIMEOUT_SECS ({}s) of real time, so no dial is still in flight when another instance takes over",
                twilio_timeout.as_secs()
            ),
        ));
    }

    Ok(Settings {
        bind,
        port,
        public_base_url,
        redis_url,
        api_token: Secret::new(api_token),
        twilio: TwilioSettings {
            account_sid,
            auth_token,
            api_key,
            voice_number,
            api_base_url,
            timeout: twilio_timeout,
        },
        company_name: required("COMPANY_NAME")?,
        call_purpose: required("CALL_PURPOSE")?,
        require_recording_consent,
        timezone_default,
        flows_dir: PathBuf::from(value("FLOWS_DIR").unwrap_or_else(|| "flows".into())),
        default_flow: value("DEFAULT_FLOW").unwrap_or_else(|| "outbound_booking".into()),
        tenant,
        twilio_max_cps,
        campaign_webhook_secret: value("CAMPAIGN_WEBHOOK_SECRET").map(Secret::new),
        dispatcher,
        dispatch_lease: std::time::Duration::from_secs(lease),
        campaign_shard_contacts,
        clock,
    })
}

/// Reads `.env` (if present) and the process environment.
pub fn from_env() -> Result<Settings, ConfigError> {
    let _ = dotenvy::dotenv();
    from_lookup(|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
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
        assert!(!format!("{s:?}").contains("secret-token"));
        assert!(!format!("{s:?}").contains("0123456789abcdef"));
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
}
