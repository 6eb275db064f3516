//! Settings from the environment (and `.env` when present). Each bad or missing
//! setting stops startup with one line naming it; secrets never print.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use chrono_tz::Tz;

use crate::clock::Clock;
use crate::phone::E164;

pub mod duration;
pub mod tenants_file;
mod vars;
pub use tenants_file::{FileTenant, TenantsFile};
use vars::{bad, Vars};

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
    /// A second auth token accepted on webhook signatures while the auth token
    /// is rotated (`TWILIO_AUTH_TOKEN_SECONDARY`).
    pub auth_token_secondary: Option<Secret>,
    /// API key credentials for REST calls, when set (the auth token still signs webhooks).
    pub api_key: Option<(String, Secret)>,
    pub voice_number: E164,
    pub api_base_url: String,
    /// Whole-request timeout of REST calls.
    pub timeout: std::time::Duration,
}

/// How logs are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines (the default).
    Text,
    /// One JSON object a line, with the fields of the enclosing spans.
    Json,
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
    /// Where `serve`'s private `redis-server` keeps its data (AOF) when
    /// `redis_url` is `None`; unused otherwise.
    pub data_dir: PathBuf,
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
    /// Let webhook URLs point at private, loopback and link-local addresses
    /// (local development only).
    pub allow_private_webhooks: bool,
    /// Dial premium-rate and other high-cost ranges (off: refused as toll fraud).
    pub allow_premium_numbers: bool,
    /// Only these country codes may be dialed, when set.
    pub allowed_country_codes: Option<Vec<u16>>,
    /// Run the campaign dispatcher in this process.
    pub dispatcher: bool,
    /// How long a dispatcher's claim on a contact lasts before another instance
    /// may take it over. Always well above the REST timeout.
    pub dispatch_lease: std::time::Duration,
    /// Contacts per campaign shard: a larger campaign spreads its contacts, states
    /// and due queue over several hash tags (Redis Cluster slots).
    pub campaign_shard_contacts: u32,
    /// How long `serve` may take to stop after SIGTERM/SIGINT: dials already
    /// sent are seen through, requests in flight finish, then it exits.
    pub shutdown_grace: std::time::Duration,
    /// Dial attempts allowed to one number in any rolling 24 hours (service
    /// clock), across campaigns and single calls.
    pub max_dials_per_number_24h: u32,
    /// How long call records, their timelines and call log entries are kept
    /// (service clock; do-not-call entries are kept for good).
    pub call_log_retention: std::time::Duration,
    /// When set, `GET /metrics` requires `Authorization: Bearer <token>`.
    pub metrics_token: Option<Secret>,
    pub log_format: LogFormat,
    /// How long a call holds its number at most (real time): a second dial of
    /// the number waits while it does; the claim is released when the call is
    /// over and lapses after this if its end is never heard of.
    pub call_in_progress_lease: std::time::Duration,
    pub clock: Clock,
    /// Signs admin API requests (`/api/admin`); unset: the admin API answers 401.
    pub admin_token: Option<Secret>,
    /// Verifies HS256 JWTs given as bearer tokens; unset: JWTs are refused.
    pub jwt_secret: Option<Secret>,
    /// Tenants loaded at startup (`TENANTS_FILE`).
    pub tenants_file: Option<TenantsFile>,
    pub api_rate: ApiRate,
    /// A sender gets the tenant's `sms_auto_reply` at most once per this long
    /// (`SMS_AUTO_REPLY_COOLDOWN`, e.g. `24h`, `90s`; service clock).
    pub sms_auto_reply_cooldown: std::time::Duration,
    /// A missed caller gets the tenant's missed-call text at most once per
    /// this long (service clock): `MISSED_CALL_SMS_COOLDOWN`, e.g. `24h`, `90s`.
    pub missed_call_sms_cooldown: std::time::Duration,
}

/// API rate limits, shared by every instance (kept in Redis).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRate {
    /// Requests per second per token (a tenant's record may set its own); 0: off.
    pub per_token_per_s: f64,
    /// Requests a token may make at once before the rate applies.
    pub burst: u32,
    /// Requests per second per client address (the TCP peer, or the client a
    /// trusted proxy names); 0: off.
    pub per_ip_per_s: f64,
    /// Balancers whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`, IPs
    /// or CIDR blocks); empty: the TCP peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Reads settings through `get`, so tests and the demo can supply their own.
// Long on purpose: one short statement per setting, in the order of the README's table.
pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
    let vars = Vars { get };
    let (bind, port, public_base_url) = server(&vars)?;
    let redis_url = redis_url(&vars)?;
    let api_token = vars.required("API_TOKEN")?;
    if api_token.len() < 16 {
        return Err(bad("API_TOKEN", "must be at least 16 characters"));
    }
    let twilio = twilio(&vars)?;
    let require_recording_consent = vars.boolean("FEATURE_REQUIRE_RECORDING_CONSENT", true)?;
    let timezone_default = vars.parsed(
        "TIMEZONE_DEFAULT",
        chrono_tz::America::New_York,
        |v| v.parse::<Tz>().ok(),
        |v| format!("'{v}' is not an IANA time zone (e.g. America/Chicago)"),
    )?;
    let tenant = vars.value("TENANT_ID").unwrap_or_else(|| "default".into());
    if !tenant
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        || tenant.len() > 64
    {
        return Err(bad(
            "TENANT_ID",
            "must be 1-64 of a-z, A-Z, 0-9, '_' or '-'",
        ));
    }
    let twilio_max_cps = vars.parsed(
        "TWILIO_MAX_CPS",
        1.0,
        |v| {
            v.parse::<f64>()
                .ok()
                .filter(|n| *n > 0.0 && *n <= 100_000.0)
        },
        |v| format!("'{v}' is not a number of calls per second (0-100000]"),
    )?;
    let dispatcher = vars.boolean("DISPATCHER_ENABLED", true)?;
    let lease = vars.secs("DISPATCH_LEASE_SECS", 30, 2..=86_400)?;
    let campaign_shard_contacts = vars.parsed(
        "CAMPAIGN_SHARD_CONTACTS",
        10_000,
        |v| {
            v.parse::<u32>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
        },
        |v| format!("'{v}' is not a whole number from 1 to 1000000"),
    )?;
    let shutdown_grace = vars.secs("SHUTDOWN_GRACE_SECS", 10, 1..=600)?;
    let data_dir = PathBuf::from(
        vars.value("CALLFLOW_DATA_DIR")
            .unwrap_or_else(|| "./callflow-data".into()),
    );
    let max_dials_per_number_24h = vars.parsed(
        "MAX_DIALS_PER_NUMBER_24H",
        3,
        |v| v.parse::<u32>().ok().filter(|n| (1..=100).contains(n)),
        |v| format!("'{v}' is not a whole number of dials from 1 to 100"),
    )?;
    let call_log_retention = vars.parsed(
        "CALL_LOG_RETENTION_DAYS",
        std::time::Duration::from_secs(90 * 86_400),
        |v| {
            v.parse::<f64>()
                .ok()
                .filter(|d| *d > 0.0 && *d <= 36_500.0)
                .map(|d| std::time::Duration::from_secs_f64(d * 86_400.0))
                .filter(|d| d.as_millis() >= 1_000)
        },
        |v| format!("'{v}' is not a number of days from 0.00002 (about 2 s) to 36500 (decimals allowed)"),
    )?;
    let metrics_token = vars.value("METRICS_TOKEN").map(Secret::new);
    if metrics_token
        .as_ref()
        .is_some_and(|t| t.expose().len() < 16)
    {
        return Err(bad("METRICS_TOKEN", "must be at least 16 characters"));
    }
    let log_format = vars.parsed(
        "LOG_FORMAT",
        LogFormat::Text,
        |v| match v {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        },
        |v| format!("'{v}' is not a log format: text or json"),
    )?;
    let call_in_progress_lease = vars.secs("CALL_IN_PROGRESS_LEASE_SECS", 14_400, 60..=86_400)?;
    let clock = clock(&vars)?;
    let admin_token = secret(&vars, "ADMIN_TOKEN", 16)?;
    let jwt_secret = secret(&vars, "JWT_SECRET", 32)?;
    let tenants_file = match vars.value("TENANTS_FILE") {
        Some(path) => Some(tenants_file::read(std::path::Path::new(&path), |k| {
            (vars.get)(k)
        })?),
        None => None,
    };
    let api_rate = api_rate(&vars)?;
    let cooldown = |name| {
        vars.parsed(
            name,
            std::time::Duration::from_secs(24 * 3600),
            |v| duration::parse(v).ok().filter(|d| d.as_secs() >= 1),
            |v| match duration::parse(v) {
                Err(reason) => reason,
                Ok(_) => format!("'{v}' must be at least 1s"),
            },
        )
    };
    let sms_auto_reply_cooldown = cooldown("SMS_AUTO_REPLY_COOLDOWN")?;
    let missed_call_sms_cooldown = cooldown("MISSED_CALL_SMS_COOLDOWN")?;
    // The lease runs on the service clock, which may run faster than real time.
    if (lease as f64 / clock.speed()) < 2.0 * twilio.timeout.as_secs_f64() {
        return Err(bad(
            "DISPATCH_LEASE_SECS",
            format!(
                "must last at least twice TWILIO_TIMEOUT_SECS ({}s) of real time, so no dial is still in flight when another instance takes over",
                twilio.timeout.as_secs()
            ),
        ));
    }
    Ok(Settings {
        bind,
        port,
        public_base_url,
        redis_url,
        data_dir,
        api_token: Secret::new(api_token),
        twilio,
        company_name: vars.required("COMPANY_NAME")?,
        call_purpose: vars.required("CALL_PURPOSE")?,
        require_recording_consent,
        timezone_default,
        flows_dir: PathBuf::from(vars.value("FLOWS_DIR").unwrap_or_else(|| "flows".into())),
        default_flow: vars
            .value("DEFAULT_FLOW")
            .unwrap_or_else(|| "outbound_booking".into()),
        tenant,
        twilio_max_cps,
        campaign_webhook_secret: vars.parsed(
            "CAMPAIGN_WEBHOOK_SECRET",
            None,
            |v| {
                // A `whsec_` secret is the Standard Webhooks format: base64 after the prefix.
                let ok = v.strip_prefix("whsec_").is_none_or(|b64| {
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
                        .is_ok_and(|k| !k.is_empty())
                });
                ok.then(|| Some(Secret::new(v.to_string())))
            },
            |_| "a secret starting with whsec_ must continue with base64 (the Standard Webhooks format)".into(),
        )?,
        allow_private_webhooks: vars.boolean("ALLOW_PRIVATE_WEBHOOKS", false)?,
        allow_premium_numbers: vars.boolean("ALLOW_PREMIUM_NUMBERS", false)?,
        allowed_country_codes: vars.parsed(
            "ALLOWED_COUNTRY_CODES",
            None,
            |v| {
                v.split(',')
                    .map(|cc| cc.trim().trim_start_matches('+').parse::<u16>().ok())
                    .filter(|cc| cc.is_some_and(|n| (1..=999).contains(&n)))
                    .collect::<Option<Vec<u16>>>()
                    .filter(|ccs| !ccs.is_empty())
                    .map(Some)
            },
            |v| format!("'{v}' is not a comma-separated list of country codes, e.g. 1,44"),
        )?,
        dispatcher,
        dispatch_lease: std::time::Duration::from_secs(lease),
        campaign_shard_contacts,
        shutdown_grace: std::time::Duration::from_secs(shutdown_grace),
        max_dials_per_number_24h,
        call_log_retention,
        metrics_token,
        log_format,
        call_in_progress_lease: std::time::Duration::from_secs(call_in_progress_lease),
        clock,
        admin_token,
        jwt_secret,
        tenants_file,
        api_rate,
        sms_auto_reply_cooldown,
        missed_call_sms_cooldown,
    })
}

/// An optional secret of at least `min` characters.
fn secret<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
    name: &'static str,
    min: usize,
) -> Result<Option<Secret>, ConfigError> {
    match vars.value(name) {
        None => Ok(None),
        Some(v) if v.len() < min => Err(bad(name, format!("must be at least {min} characters"))),
        Some(v) => Ok(Some(Secret::new(v))),
    }
}

fn api_rate<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<ApiRate, ConfigError> {
    let rate = |name, default| {
        vars.parsed(
            name,
            default,
            |v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| (0.0..=100_000.0).contains(n))
            },
            |v| format!("'{v}' is not a number of requests per second from 0 (off) to 100000"),
        )
    };
    Ok(ApiRate {
        per_token_per_s: rate("API_RATE_LIMIT_PER_S", 200.0)?,
        burst: vars.parsed(
            "API_RATE_LIMIT_BURST",
            2000,
            |v| v.parse::<u32>().ok().filter(|n| (1..=100_000).contains(n)),
            |v| format!("'{v}' is not a whole number of requests from 1 to 100000"),
        )?,
        per_ip_per_s: rate("API_IP_RATE_LIMIT_PER_S", 500.0)?,
        trusted_proxies: vars.parsed(
            "TRUSTED_PROXIES",
            Vec::new(),
            |v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        p.parse::<ipnet::IpNet>()
                            .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                            .ok()
                    })
                    .collect()
            },
            |v| format!("'{v}' is not a comma-separated list of IP addresses or CIDR blocks"),
        )?,
    })
}

/// Where the server listens and the URL Twilio reaches it at.
fn server<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
) -> Result<(IpAddr, u16, String), ConfigError> {
    let port = vars.parsed(
        "PORT",
        3000,
        |v| v.parse::<u16>().ok(),
        |v| format!("'{v}' is not a port number (0-65535)"),
    )?;
    let bind = vars.parsed(
        "BIND",
        IpAddr::from([127, 0, 0, 1]),
        |v| v.parse().ok(),
        |v| format!("'{v}' is not an IP address"),
    )?;
    let public_base_url = vars.required("PUBLIC_BASE_URL")?;
    let public_base_url = public_base_url.trim_end_matches('/').to_string();
    let parsed = reqwest::Url::parse(&public_base_url)
        .map_err(|e| bad("PUBLIC_BASE_URL", format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
        return Err(bad(
            "PUBLIC_BASE_URL",
            "must be an http(s) URL without a query, e.g. https://calls.example.com",
        ));
    }
    Ok((bind, port, public_base_url))
}

/// A cluster is `REDIS_URL=redis+cluster://h1:p1,h2:p2,...` or
/// `REDIS_CLUSTER_NODES=h1:p1,h2:p2,...`; unset: a private server.
fn redis_url<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Option<String>, ConfigError> {
    let (name, url) = match vars.value("REDIS_CLUSTER_NODES") {
        Some(nodes) => ("REDIS_CLUSTER_NODES", format!("redis+cluster://{nodes}")),
        None => match vars.value("REDIS_URL") {
            Some(url) => ("REDIS_URL", url),
            None => return Ok(None),
        },
    };
    match crate::store::cluster_nodes(&url) {
        Some(nodes) if nodes.is_empty() => return Err(bad(name, "names no cluster node")),
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
    Ok(Some(url))
}

fn twilio<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<TwilioSettings, ConfigError> {
    let account_sid = vars.required("TWILIO_ACCOUNT_SID")?;
    if !account_sid.starts_with("AC")
        || account_sid.len() != 34
        || !account_sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(bad(
            "TWILIO_ACCOUNT_SID",
            "must be 'AC' followed by 32 hexadecimal digits",
        ));
    }
    let auth_token = Secret::new(vars.required("TWILIO_AUTH_TOKEN")?);
    let api_key = match (
        vars.value("TWILIO_API_KEY_SID"),
        vars.value("TWILIO_API_KEY_SECRET"),
    ) {
        (Some(sid), Some(secret)) => Some((sid, Secret::new(secret))),
        (None, None) => None,
        (Some(_), None) => {
            return Err(bad(
                "TWILIO_API_KEY_SECRET",
                "is required when TWILIO_API_KEY_SID is set",
            ))
        }
        (None, Some(_)) => {
            return Err(bad(
                "TWILIO_API_KEY_SID",
                "is required when TWILIO_API_KEY_SECRET is set",
            ))
        }
    };
    let voice_number = E164::parse(&vars.required("TWILIO_VOICE_NUMBER")?)
        .map_err(|e| bad("TWILIO_VOICE_NUMBER", e.to_string()))?;
    let api_base_url = vars
        .value("TWILIO_API_BASE_URL")
        .unwrap_or_else(|| "https://api.twilio.com".into())
        .trim_end_matches('/')
        .to_string();
    reqwest::Url::parse(&api_base_url)
        .map_err(|e| bad("TWILIO_API_BASE_URL", format!("is not a URL: {e}")))?;
    let timeout = vars.secs("TWILIO_TIMEOUT_SECS", 10, 1..=120)?;
    Ok(TwilioSettings {
        account_sid,
        auth_token,
        auth_token_secondary: vars.value("TWILIO_AUTH_TOKEN_SECONDARY").map(Secret::new),
        api_key,
        voice_number,
        api_base_url,
        timeout: std::time::Duration::from_secs(timeout),
    })
}

/// The wall clock, or (demo and tests) one that starts at a given instant and
/// may run faster.
fn clock<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Clock, ConfigError> {
    let start = vars.instant("CALLFLOW_CLOCK_START")?;
    let speed = vars.parsed(
        "CALLFLOW_CLOCK_SPEED",
        None,
        |v| {
            v.parse::<f64>()
                .ok()
                .filter(|n| *n > 0.0 && *n <= 100_000.0)
                .map(Some)
        },
        |v| format!("'{v}' is not a positive factor"),
    )?;
    if start.is_none() && speed.is_none() {
        return Ok(Clock::system());
    }
    let origin = vars.instant("CALLFLOW_CLOCK_ORIGIN")?;
    Ok(Clock::starting_at(
        start.unwrap_or_else(chrono::Utc::now),
        speed.unwrap_or(1.0),
        origin,
    ))
}

/// Reads `.env` (if present) and the process environment.
pub fn from_env() -> Result<Settings, ConfigError> {
    let _ = dotenvy::dotenv();
    from_lookup(|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests;
