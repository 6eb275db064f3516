//! A small Twilio REST client for what callflow needs: create, update and fetch
//! calls, send messages, and (for `callflow doctor`) fetch the account and
//! look up its number. Requests follow Twilio's OpenAPI description of the
//! 2010-04-01 API (arrays such as `StatusCallbackEvent` go as repeated keys).

use std::time::Duration;

use serde::Deserialize;

use crate::config::TwilioSettings;

#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    /// Twilio answered with an error: the request was refused, nothing happened.
    #[error("Twilio refused the request ({status}): {code:?} {message}")]
    Api {
        status: u16,
        code: Option<u64>,
        message: String,
        /// Twilio's `Retry-After` in seconds, when it sent one (on a 429).
        retry_after_secs: Option<u64>,
    },
    /// No clear answer (timeout, connection lost, 5xx): the request may or may not have taken effect.
    #[error("no clear answer from Twilio: {0}")]
    Uncertain(String),
}

#[derive(Debug, Clone, Deserialize)]
pub struct CallResource {
    pub sid: String,
    pub status: String,
    #[serde(default)]
    pub from: Option<String>,
    /// RFC 2822, as Twilio writes it.
    #[serde(default)]
    pub date_created: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct CallPage {
    #[serde(default)]
    calls: Vec<CallResource>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MessageResource {
    pub sid: String,
    pub status: String,
}

/// The account, as FetchAccount returns it (`callflow doctor`).
#[derive(Debug, Clone, Deserialize)]
pub struct AccountResource {
    pub sid: String,
    /// `active`, `suspended` or `closed`.
    pub status: String,
    #[serde(default)]
    pub friendly_name: Option<String>,
}

/// A number the account owns, as ListIncomingPhoneNumber returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct IncomingNumber {
    pub phone_number: String,
    #[serde(default)]
    pub voice_url: Option<String>,
    #[serde(default)]
    pub status_callback: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct IncomingNumberPage {
    #[serde(default)]
    incoming_phone_numbers: Vec<IncomingNumber>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: Option<u64>,
    message: Option<String>,
}

/// The parameters of CreateCall that callflow uses.
#[derive(Debug, Clone)]
pub struct CreateCall<'a> {
    pub to: &'a str,
    pub from: &'a str,
    pub url: &'a str,
    pub status_callback: &'a str,
    pub machine_detection: Option<&'a str>,
}

impl CreateCall<'_> {
    /// The form body, in Twilio's parameter names.
    pub fn form(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![
            ("To", self.to),
            ("From", self.from),
            ("Url", self.url),
            ("Method", "POST"),
            ("StatusCallback", self.status_callback),
            ("StatusCallbackMethod", "POST"),
        ];
        for event in ["initiated", "ringing", "answered", "completed"] {
            form.push(("StatusCallbackEvent", event));
        }
        if let Some(md) = self.machine_detection {
            form.push(("MachineDetection", md));
        }
        form
    }
}

#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    base: String,
    account_sid: String,
    user: String,
    password: String,
}

impl TwilioClient {
    pub fn new(settings: &TwilioSettings) -> Self {
        let (user, password) = match &settings.api_key {
            Some((sid, secret)) => (sid.clone(), secret.expose().to_string()),
            None => (
                settings.account_sid.clone(),
                settings.auth_token.expose().to_string(),
            ),
        };
        crate::install_crypto();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(settings.timeout)
            .user_agent(concat!("callflow/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("static client configuration is valid");
        Self {
            http,
            base: settings.api_base_url.clone(),
            account_sid: settings.account_sid.clone(),
            user,
            password,
        }
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/{tail}",
            self.base, self.account_sid
        )
    }

    async fn send<T: for<'de> Deserialize<'de>>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, TwilioError> {
        let resp = req
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .map_err(|e| TwilioError::Uncertain(e.without_url().to_string()))?;
        let status = resp.status();
        let retry_after_secs = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = resp
            .bytes()
            .await
            .map_err(|e| TwilioError::Uncertain(e.without_url().to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| TwilioError::Uncertain(format!("unreadable answer: {e}")));
        }
        if status.is_server_error() {
            return Err(TwilioError::Uncertain(format!("HTTP {status}")));
        }
        let err: ErrorBody = serde_json::from_slice(&body).unwrap_or(ErrorBody {
            code: None,
            message: None,
        });
        Err(TwilioError::Api {
            status: status.as_u16(),
            code: err.code,
            // Twilio's text may quote the number: masked before anyone logs or returns it.
            message: crate::phone::mask_in_text(
                &err.message.unwrap_or_else(|| format!("HTTP {status}")),
            ),
            retry_after_secs,
        })
    }

    pub async fn create_call(&self, call: &CreateCall<'_>) -> Result<CallResource, TwilioError> {
        self.send(self.http.post(self.url("Calls.json")).form(&call.form()))
            .await
    }

    /// Ends a call in progress (`Status=completed`) or cancels a queued one.
    pub async fn update_call_status(
        &self,
        call_sid: &str,
        status: &str,
    ) -> Result<CallResource, TwilioError> {
        self.send(
            self.http
                .post(self.url(&format!("Calls/{call_sid}.json")))
                .form(&[("Status", status)]),
        )
        .await
    }

    pub async fn fetch_call(&self, call_sid: &str) -> Result<CallResource, TwilioError> {
        self.send(self.http.get(self.url(&format!("Calls/{call_sid}.json"))))
            .await
    }

    /// The most recent calls to `to` (one page), to reconcile an uncertain dial.
    pub async fn list_calls_to(&self, to: &str) -> Result<Vec<CallResource>, TwilioError> {
        let page: CallPage = self
            .send(self.http.get(format!(
                "{}?{}",
                self.url("Calls.json"),
                serde_urlencoded::to_string([("To", to), ("PageSize", "50")]).unwrap_or_default()
            )))
            .await?;
        Ok(page.calls)
    }

    /// The account of `TWILIO_ACCOUNT_SID`: whether the credentials are accepted.
    pub async fn fetch_account(&self) -> Result<AccountResource, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}.json",
            self.base, self.account_sid
        );
        self.send(self.http.get(url)).await
    }

    /// The account's numbers equal to `number` (none when it does not own it).
    pub async fn incoming_numbers(&self, number: &str) -> Result<Vec<IncomingNumber>, TwilioError> {
        let page: IncomingNumberPage = self
            .send(self.http.get(format!(
                "{}?{}",
                self.url("IncomingPhoneNumbers.json"),
                serde_urlencoded::to_string([("PhoneNumber", number)]).unwrap_or_default()
            )))
            .await?;
        Ok(page.incoming_phone_numbers)
    }

    pub async fn create_message(
        &self,
        to: &str,
        from: &str,
        body: &str,
    ) -> Result<MessageResource, TwilioError> {
        self.send(self.http.post(self.url("Messages.json")).form(&[
            ("To", to),
            ("From", from),
            ("Body", body),
        ]))
        .await
    }
}
