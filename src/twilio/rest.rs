//! A small Twilio REST client for what callflow needs: create, update and fetch
//! calls, send messages, search, buy, configure and release phone numbers, and
//! (for `callflow doctor`) fetch the account. Requests follow Twilio's OpenAPI description of the
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
    #[serde(default)]
    pub to: Option<String>,
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

/// The parameters of CreateMessage that callflow uses.
#[derive(Debug, Clone)]
pub struct CreateMessage<'a> {
    pub to: &'a str,
    pub from: &'a str,
    pub body: &'a str,
    /// Where Twilio posts the message's statuses.
    pub status_callback: Option<&'a str>,
}

impl CreateMessage<'_> {
    /// The form body, in Twilio's parameter names.
    pub fn form(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![("To", self.to), ("From", self.from), ("Body", self.body)];
        if let Some(url) = self.status_callback {
            form.push(("StatusCallback", url));
        }
        form
    }
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
    /// For recording media: streamed, so bounded per read and per download
    /// rather than by the REST timeout.
    media: reqwest::Client,
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
        let media = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(MEDIA_READ_TIMEOUT)
            .timeout(MEDIA_TIMEOUT)
            .redirect(media_redirects(&settings.api_base_url))
            .user_agent(concat!("callflow/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("static client configuration is valid");
        Self {
            http,
            media,
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
        let body = self.send_raw(req).await?;
        serde_json::from_slice(&body)
            .map_err(|e| TwilioError::Uncertain(format!("unreadable answer: {e}")))
    }

    /// Sends a request; a success's body as it came (empty for a `204`).
    async fn send_raw(&self, req: reqwest::RequestBuilder) -> Result<Vec<u8>, TwilioError> {
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
            return Ok(body.to_vec());
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

    pub async fn create_message(
        &self,
        to: &str,
        from: &str,
        body: &str,
    ) -> Result<MessageResource, TwilioError> {
        self.send_message(&CreateMessage {
            to,
            from,
            body,
            status_callback: None,
        })
        .await
    }

    /// Sends a text (`CreateMessage`). Not idempotent: an uncertain answer
    /// is never retried blindly.
    pub async fn send_message(
        &self,
        message: &CreateMessage<'_>,
    ) -> Result<MessageResource, TwilioError> {
        self.send(
            self.http
                .post(self.url("Messages.json"))
                .form(&message.form()),
        )
        .await
    }
}

/// The longest wait for the next bytes of a recording.
const MEDIA_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a recording's download may take in all.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(600);
/// The most redirects followed for a recording.
const MEDIA_REDIRECTS: usize = 3;

/// Redirects of a media request are followed only to the configured API base
/// or to Twilio's own hosts over https (a `Location` elsewhere is not
/// followed: no request to an address Twilio's answer names). reqwest drops
/// the credentials on a redirect to another host.
fn media_redirects(api_base: &str) -> reqwest::redirect::Policy {
    let base = reqwest::Url::parse(api_base).ok();
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MEDIA_REDIRECTS {
            return attempt.error("too many redirects");
        }
        let url = attempt.url();
        let same_origin = base.as_ref().is_some_and(|b| {
            b.scheme() == url.scheme()
                && b.host_str() == url.host_str()
                && b.port_or_known_default() == url.port_or_known_default()
        });
        if same_origin || is_twilio_media_host(url) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// `https://` on `twilio.com`, `twiliocdn.com` or a host under them.
fn is_twilio_media_host(url: &reqwest::Url) -> bool {
    url.scheme() == "https"
        && url.host_str().is_some_and(|h| {
            ["twilio.com", "twiliocdn.com"]
                .iter()
                .any(|d| h == *d || h.ends_with(&format!(".{d}")))
        })
}

/// Whether `sid` is a RecordingSid (`RE` and 32 hex digits): it goes in a path.
pub fn is_recording_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("RE") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A recording's audio on its way from Twilio, not yet read.
pub struct Media {
    response: reqwest::Response,
}

impl Media {
    /// The content type Twilio gave (`audio/mpeg` for `.mp3`).
    pub fn content_type(&self) -> Option<&str> {
        self.response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The body, chunk by chunk as it arrives; a failed read ends it.
    pub fn into_stream(
        self,
    ) -> impl futures_util::stream::Stream<Item = Result<bytes::Bytes, reqwest::Error>> {
        futures_util::stream::unfold(Some(self.response), |response| async move {
            let mut response = response?;
            match response.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
                Ok(None) => None,
                Err(e) => Some((Err(e.without_url()), None)),
            }
        })
    }
}

impl TwilioClient {
    /// A recording's media as MP3 (`Recordings/{sid}.mp3`), fetched with the
    /// account's credentials from the configured API base only. `Ok` once
    /// Twilio answered 2xx; the body is read as it is streamed on.
    pub async fn fetch_recording(&self, sid: &str) -> Result<Media, TwilioError> {
        if !is_recording_sid(sid) {
            return Err(TwilioError::Api {
                status: 404,
                code: None,
                message: "not a RecordingSid".into(),
                retry_after_secs: None,
            });
        }
        let resp = self
            .media
            .get(self.url(&format!("Recordings/{sid}.mp3")))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .map_err(|e| TwilioError::Uncertain(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(Media { response: resp });
        }
        if status.is_server_error() || status.is_redirection() {
            return Err(TwilioError::Uncertain(format!("HTTP {status}")));
        }
        Err(TwilioError::Api {
            status: status.as_u16(),
            code: None,
            message: format!("HTTP {status}"),
            retry_after_secs: None,
        })
    }
}

/// A number on offer (`AvailablePhoneNumbers/{Country}/Local`).
#[derive(Debug, Clone, Deserialize)]
pub struct AvailableNumber {
    pub phone_number: String,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub locality: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub iso_country: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AvailablePage {
    #[serde(default)]
    available_phone_numbers: Vec<AvailableNumber>,
}

/// A number the account holds (`IncomingPhoneNumbers`).
#[derive(Debug, Clone, Deserialize)]
pub struct IncomingNumber {
    pub sid: String,
    pub phone_number: String,
    #[serde(default)]
    pub voice_url: Option<String>,
    #[serde(default)]
    pub sms_url: Option<String>,
    #[serde(default)]
    pub status_callback: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IncomingPage {
    #[serde(default)]
    incoming_phone_numbers: Vec<IncomingNumber>,
}

/// A search of the numbers on offer in one country.
#[derive(Debug, Clone)]
pub struct NumberSearch<'a> {
    /// ISO 3166-1 alpha-2, upper case (checked by the caller: it goes in the path).
    pub country: &'a str,
    pub area_code: Option<u16>,
    /// Twilio's pattern: digits, letters, `*`.
    pub contains: Option<&'a str>,
    pub limit: u32,
}

/// Which number to buy.
#[derive(Debug, Clone, Copy)]
pub enum NumberChoice<'a> {
    /// This one (E.164), from a search.
    Exact(&'a str),
    /// Any in this area code.
    AreaCode(u16),
}

/// Where Twilio sends a number's calls, texts and call statuses (all `POST`).
#[derive(Debug, Clone)]
pub struct NumberWebhooks {
    pub voice_url: String,
    pub sms_url: String,
    pub status_callback: String,
}

impl NumberWebhooks {
    /// The form pairs, in Twilio's parameter names.
    pub fn form(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("VoiceUrl", self.voice_url.as_str()),
            ("VoiceMethod", "POST"),
            ("SmsUrl", self.sms_url.as_str()),
            ("SmsMethod", "POST"),
            ("StatusCallback", self.status_callback.as_str()),
            ("StatusCallbackMethod", "POST"),
        ]
    }
}

impl TwilioClient {
    /// Numbers on offer (`ListAvailablePhoneNumberLocal`), at most `limit`.
    pub async fn search_local_numbers(
        &self,
        search: &NumberSearch<'_>,
    ) -> Result<Vec<AvailableNumber>, TwilioError> {
        let area_code = search.area_code.map(|a| a.to_string());
        let limit = search.limit.to_string();
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = &area_code {
            query.push(("AreaCode", a));
        }
        if let Some(c) = search.contains {
            query.push(("Contains", c));
        }
        query.push(("PageSize", &limit));
        let url = format!(
            "{}?{}",
            self.url(&format!(
                "AvailablePhoneNumbers/{}/Local.json",
                search.country
            )),
            serde_urlencoded::to_string(&query).unwrap_or_default()
        );
        let page: AvailablePage = self.send(self.http.get(url)).await?;
        Ok(page.available_phone_numbers)
    }

    /// Buys a number (`CreateIncomingPhoneNumber`) with its webhooks set.
    /// Not idempotent: an uncertain answer is never retried blindly.
    pub async fn buy_number(
        &self,
        choice: NumberChoice<'_>,
        webhooks: &NumberWebhooks,
    ) -> Result<IncomingNumber, TwilioError> {
        let area_code;
        let mut form = match choice {
            NumberChoice::Exact(number) => vec![("PhoneNumber", number)],
            NumberChoice::AreaCode(code) => {
                area_code = code.to_string();
                vec![("AreaCode", area_code.as_str())]
            }
        };
        form.extend(webhooks.form());
        self.send(
            self.http
                .post(self.url("IncomingPhoneNumbers.json"))
                .form(&form),
        )
        .await
    }

    /// Points a number the account holds at `webhooks` (`UpdateIncomingPhoneNumber`).
    /// `sid` must be a checked `PN` sid: it goes in the path.
    pub async fn update_number_webhooks(
        &self,
        sid: &str,
        webhooks: &NumberWebhooks,
    ) -> Result<IncomingNumber, TwilioError> {
        let url = self.url(&format!("IncomingPhoneNumbers/{sid}.json"));
        self.send(self.http.post(url).form(&webhooks.form())).await
    }

    /// The account's number `phone_number` (`ListIncomingPhoneNumber`), if it holds it.
    pub async fn find_number(
        &self,
        phone_number: &str,
    ) -> Result<Option<IncomingNumber>, TwilioError> {
        let query = [("PhoneNumber", phone_number), ("PageSize", "20")];
        let url = format!(
            "{}?{}",
            self.url("IncomingPhoneNumbers.json"),
            serde_urlencoded::to_string(query).unwrap_or_default()
        );
        let page: IncomingPage = self.send(self.http.get(url)).await?;
        Ok(page
            .incoming_phone_numbers
            .into_iter()
            .find(|n| n.phone_number == phone_number))
    }

    /// Gives a number back to Twilio (`DeleteIncomingPhoneNumber`).
    pub async fn release_number(&self, sid: &str) -> Result<(), TwilioError> {
        let url = self.url(&format!("IncomingPhoneNumbers/{sid}.json"));
        self.send_raw(self.http.delete(url)).await.map(|_| ())
    }
}
