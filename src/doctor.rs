//! `callflow doctor`: checks the setup `serve` would run with and prints one
//! line per check, each failure with its fix. Reads the configuration exactly
//! as `serve` does (`.env`, then the environment); changes nothing anywhere.

use std::io::Write;
use std::time::Duration;

use crate::config::{self, Settings};
use crate::store::{Persistence, Store};
use crate::twilio::rest::{TwilioClient, TwilioError};

/// How long any one check may wait on Redis or Twilio.
const CHECK_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    /// Works, but worth knowing (not a failure).
    Note,
    Fail,
    /// Not checked: an earlier check it depends on failed.
    Skip,
}

struct Check {
    name: &'static str,
    status: Status,
    detail: String,
    fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }
    fn note(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status: Status::Note,
            ..Self::ok(name, detail)
        }
    }
    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            status: Status::Fail,
            fix: Some(fix.into()),
            ..Self::ok(name, detail)
        }
    }
    fn skip(name: &'static str, because: &str) -> Self {
        Self {
            status: Status::Skip,
            ..Self::ok(name, format!("not checked: {because}"))
        }
    }

    fn line(&self) -> String {
        let mark = match self.status {
            Status::Ok => "ok  ",
            Status::Note => "note",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        match &self.fix {
            Some(fix) => format!("{mark}  {}: {}; fix: {fix}", self.name, self.detail),
            None => format!("{mark}  {}: {}", self.name, self.detail),
        }
    }
}

/// Runs every check, printing each line to `out` as it is known; `true` when
/// nothing failed.
pub async fn run(out: &mut impl Write) -> bool {
    let mut healthy = true;
    let mut report = |check: Check| {
        healthy &= check.status != Status::Fail;
        let _ = writeln!(out, "{}", check.line());
    };
    let settings = match config::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            report(Check::fail(
                "settings",
                e.to_string(),
                format!(
                    "set {} in the environment or .env (README: Settings)",
                    e.name
                ),
            ));
            for name in [
                "public URL",
                "redis",
                "flows",
                "twilio account",
                "voice number",
            ] {
                report(Check::skip(name, "the settings are invalid"));
            }
            return false;
        }
    };
    report(Check::ok("settings", "every setting is valid"));
    report(public_url(&settings));
    report(redis(&settings).await);
    report(flows(&settings));
    let twilio = TwilioClient::new(&settings.twilio);
    let account = account(&twilio, &settings).await;
    let accepted = account.status == Status::Ok;
    report(account);
    report(if accepted {
        number(&twilio, &settings).await
    } else {
        Check::skip("voice number", "the Twilio credentials were not accepted")
    });
    healthy
}

fn public_url(settings: &Settings) -> Check {
    let url = &settings.public_base_url;
    if url.starts_with("https://") {
        Check::ok("public URL", format!("PUBLIC_BASE_URL {url} is https"))
    } else {
        Check::fail(
            "public URL",
            format!("PUBLIC_BASE_URL {url} is not https: Twilio would send callbacks (and their signatures) in the clear"),
            "serve callflow behind TLS and set PUBLIC_BASE_URL=https://<your host>",
        )
    }
}

async fn redis(settings: &Settings) -> Check {
    const NAME: &str = "redis";
    let Some(url) = &settings.redis_url else {
        return Check::note(
            NAME,
            format!(
                "REDIS_URL is unset: serve starts a private redis-server keeping an append-only file (fsync every second) in CALLFLOW_DATA_DIR ({}); data survives restarts of this machine's process but lives on this disk only and cannot be shared by a second instance; for production set REDIS_URL to a managed, persistent Redis",
                settings.data_dir.display()
            ),
        );
    };
    let checked = tokio::time::timeout(CHECK_LIMIT, async {
        let store = Store::connect(url, &settings.tenant).await?;
        store.ping().await?;
        store.persistence().await
    })
    .await;
    match checked {
        Err(_) => Check::fail(
            NAME,
            "Redis did not answer in time",
            "check REDIS_URL (host, port, password, TLS) and that Redis is running",
        ),
        Ok(Err(e)) => Check::fail(
            NAME,
            format!("cannot reach Redis: {e}"),
            "check REDIS_URL (host, port, password, TLS) and that Redis is running",
        ),
        Ok(Ok(Persistence::Known { aof, rdb })) if aof || rdb => {
            let kind = match (aof, rdb) {
                (true, true) => "append-only file and RDB snapshots",
                (true, false) => "append-only file",
                _ => "RDB snapshots (a crash loses the writes since the last one; the append-only file loses at most a second)",
            };
            Check::ok(NAME, format!("reachable; persistence on: {kind}"))
        }
        Ok(Ok(Persistence::Known { .. })) => Check::fail(
            NAME,
            "reachable, but persistence is off (appendonly no, save \"\"): a Redis restart loses every call, campaign and do-not-call entry",
            "turn on the append-only file (`CONFIG SET appendonly yes` and `appendonly yes` in redis.conf, or the provider's persistence setting)",
        ),
        Ok(Ok(Persistence::Unknown)) => Check::note(
            NAME,
            "reachable; CONFIG is refused and the append-only file is off, so RDB persistence cannot be confirmed: make sure the provider keeps the data",
        ),
    }
}

fn flows(settings: &Settings) -> Check {
    match crate::startup::load_flows(settings) {
        Ok(flows) => Check::ok(
            "flows",
            format!(
                "{} flow(s) in {} are valid; DEFAULT_FLOW {} exists",
                flows.ids().len(),
                settings.flows_dir.display(),
                settings.default_flow
            ),
        ),
        Err(e) => Check::fail(
            "flows",
            e.to_string(),
            "correct the flow file (`callflow flows check` shows every flow), or FLOWS_DIR / DEFAULT_FLOW",
        ),
    }
}

async fn account(twilio: &TwilioClient, settings: &Settings) -> Check {
    const NAME: &str = "twilio account";
    let credentials = if settings.twilio.api_key.is_some() {
        "TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET"
    } else {
        "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
    };
    match tokio::time::timeout(CHECK_LIMIT, twilio.fetch_account()).await {
        Ok(Ok(account)) if account.status == "active" => Check::ok(
            NAME,
            format!(
                "credentials accepted for {} ({})",
                account.sid,
                account.friendly_name.as_deref().unwrap_or("no name")
            ),
        ),
        Ok(Ok(account)) => Check::fail(
            NAME,
            format!("the account {} is {}", account.sid, account.status),
            "reactivate the account in Twilio's console, or use an active one",
        ),
        Ok(Err(TwilioError::Api { status: 401, .. })) => Check::fail(
            NAME,
            format!("Twilio refused the credentials ({credentials})"),
            format!("copy {credentials} again from Twilio's console"),
        ),
        Ok(Err(TwilioError::Api {
            status, message, ..
        })) => Check::fail(
            NAME,
            format!("Twilio refused to show the account ({status}): {message}"),
            format!("check TWILIO_ACCOUNT_SID and {credentials}"),
        ),
        Ok(Err(TwilioError::Uncertain(e))) => Check::fail(
            NAME,
            format!("no answer from Twilio: {e}"),
            "check the network and TWILIO_API_BASE_URL (unset means https://api.twilio.com)",
        ),
        Err(_) => Check::fail(
            NAME,
            "Twilio did not answer in time",
            "check the network and TWILIO_API_BASE_URL (unset means https://api.twilio.com)",
        ),
    }
}

async fn number(twilio: &TwilioClient, settings: &Settings) -> Check {
    const NAME: &str = "voice number";
    let number = settings.twilio.voice_number.as_str();
    let masked = settings.twilio.voice_number.masked();
    let found = match tokio::time::timeout(CHECK_LIMIT, twilio.find_number(number)).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            return Check::fail(
                NAME,
                format!("cannot list the account's numbers: {e}"),
                "check that the credentials may read IncomingPhoneNumbers",
            )
        }
        Err(_) => return Check::fail(NAME, "Twilio did not answer in time", "try again"),
    };
    let Some(owned) = found else {
        return Check::fail(
            NAME,
            format!("TWILIO_VOICE_NUMBER {masked} is not a number of this account"),
            "buy or port it into this account, or set TWILIO_VOICE_NUMBER to a number the account owns",
        );
    };
    let base = format!("{}/", settings.public_base_url);
    // What `POST /api/numbers` sets: the inbound call webhook.
    let expected = format!("{base}twilio/voice/inbound");
    let outside: Vec<String> = [
        ("Voice URL", owned.voice_url.as_deref(), true),
        ("status callback", owned.status_callback.as_deref(), false),
    ]
    .into_iter()
    .filter_map(
        |(what, url, required)| match url.filter(|u| !u.is_empty()) {
            Some(url) if url.starts_with(&base) => None,
            Some(url) => Some(format!("its {what} {url} is not under PUBLIC_BASE_URL")),
            None if required => Some(format!("its {what} is empty")),
            None => None,
        },
    )
    .collect();
    if outside.is_empty() {
        Check::ok(
            NAME,
            format!("{masked} belongs to the account and its webhooks point under PUBLIC_BASE_URL"),
        )
    } else {
        Check::fail(
            NAME,
            format!("{masked} belongs to the account, but {}", outside.join(" and ")),
            format!("in Twilio's console set the number's Voice URL to {expected} (POST) and clear its status callback or point it under {base}"),
        )
    }
}
