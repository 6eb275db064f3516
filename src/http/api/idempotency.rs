//! `Idempotency-Key` on `POST /api/calls/outbound`: the first request with a
//! key claims it in Redis (SET NX, a pending marker) before any work, and
//! leaves its answer there for 24 hours; a repeat gets that answer and creates
//! nothing, a repeat with another body gets `422 idempotency_key_reused`, and a
//! repeat while the first still runs waits a bounded time, then gets
//! `409 request_in_progress` with `Retry-After`.
//!
//! What is remembered: every success, and every failure after the create-call
//! request may have reached Twilio (`twilio_rejected`, `twilio_uncertain`,
//! `unavailable` with a `call_id`), so a retry never dials twice. What is
//! forgotten (the key is freed, a retry runs afresh): failures that changed
//! nothing that matters — invalid input, do-not-call, `rate_limited`,
//! `twilio_rate_limited` (Twilio placed nothing) and storage failures before
//! the dial.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::campaign::status::CampaignError;
use crate::http::ApiError;
use crate::store::{sha256_hex, Claim, Store, StoreError};

/// How long a key keeps its answer (and a marker bound to a call).
pub const KEEP: Duration = Duration::from_secs(24 * 3600);
/// How long a marker of a request that has created nothing yet holds the key:
/// far above the longest request (pacing wait, Twilio's timeout, Redis).
pub const PENDING: Duration = Duration::from_secs(120);
/// How long a repeat waits for the first request's answer.
pub const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(50);
const IN_PROGRESS_RETRY_SECS: u64 = 2;
pub const HEADER: &str = "Idempotency-Key";
pub const MAX_KEY_LEN: usize = 255;

/// What a key holds, as JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Stored {
    /// A request runs; `call_id` once it has recorded its call.
    Pending {
        fp: String,
        token: String,
        #[serde(default)]
        call_id: Option<String>,
    },
    /// The first answer.
    Done {
        fp: String,
        status: u16,
        body: String,
    },
}

impl Stored {
    fn fingerprint(&self) -> &str {
        match self {
            Stored::Pending { fp, .. } | Stored::Done { fp, .. } => fp,
        }
    }

    fn json(&self) -> String {
        serde_json::to_string(self).expect("markers serialize")
    }
}

/// An answer as sent: status and JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("answers serialize");
        Self { status, body }
    }

    pub fn response(self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type("application/json")
            .body(self.body)
    }
}

/// The request's key, if it sent one: 1-255 visible ASCII characters.
pub fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let bad = |why: &str| ApiError::invalid(HEADER, why.to_string());
    let key = value
        .to_str()
        .map_err(|_| bad("must be 1-255 visible ASCII characters"))?;
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(bad("must be 1-255 visible ASCII characters"));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(
            "must be visible ASCII characters (no spaces or controls)",
        ));
    }
    Ok(Some(key.to_string()))
}

/// Either run the request (holding the key), or the answer to give at once.
pub enum Begin {
    Run(Guard),
    Replay(HttpResponse),
}

/// This request's hold on a key.
pub struct Guard {
    store: Store,
    key: String,
    fp: String,
    marker: String,
}

/// Claims `key` for a request with `body`, or finds what it holds.
pub async fn begin(store: &Store, key: String, body: &[u8]) -> Result<Begin, ApiError> {
    let fp = sha256_hex(body);
    let token = uuid::Uuid::new_v4().simple().to_string();
    let marker = Stored::Pending {
        fp: fp.clone(),
        token,
        call_id: None,
    }
    .json();
    let deadline = Instant::now() + WAIT;
    loop {
        let found = match store.idempotency_claim(&key, &marker, PENDING).await? {
            Claim::Claimed => {
                let store = store.clone();
                return Ok(Begin::Run(Guard {
                    store,
                    key,
                    fp,
                    marker,
                }));
            }
            Claim::Taken(json) => parse(&json)?,
        };
        if found.fingerprint() != fp {
            return Err(ApiError::KeyReused);
        }
        match found {
            Stored::Done { status, body, .. } => return Ok(Begin::Replay(replay(status, body))),
            Stored::Pending { call_id, .. } if Instant::now() >= deadline => {
                return Err(ApiError::InProgress {
                    call_id,
                    retry_after_secs: IN_PROGRESS_RETRY_SECS,
                })
            }
            Stored::Pending { .. } => tokio::time::sleep(POLL).await,
        }
    }
}

fn parse(json: &str) -> Result<Stored, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("idempotency entry: {e}")))
}

fn replay(status: u16, body: String) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header(("Idempotent-Replayed", "true"))
        .body(body)
}

impl Guard {
    /// Ties the key to the call just recorded, for 24 hours: from here on a
    /// dial may happen, so the key must outlive even a crash of this instance.
    pub async fn bind(&mut self, call_id: &str) -> Result<(), ApiError> {
        let bound = Stored::Pending {
            fp: self.fp.clone(),
            token: uuid::Uuid::new_v4().simple().to_string(),
            call_id: Some(call_id.to_string()),
        }
        .json();
        let swapped = self
            .store
            .idempotency_swap(&self.key, &self.marker, Some(&bound), KEEP)
            .await?;
        if !swapped {
            // The claim lapsed and another request holds the key: it dials, not us.
            return Err(ApiError::InProgress {
                call_id: None,
                retry_after_secs: IN_PROGRESS_RETRY_SECS,
            });
        }
        self.marker = bound;
        Ok(())
    }

    /// Leaves the answer under the key, or frees the key (see the module doc).
    pub async fn finish(self, outcome: &Result<Answer, ApiError>) {
        let kept = match outcome {
            Ok(answer) => Some((answer.status, answer.body.clone())),
            Err(e) if remember(e) => Some(e.parts()),
            Err(_) => None,
        };
        let value = kept.map(|(status, body)| {
            Stored::Done {
                fp: self.fp.clone(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).into_owned(),
            }
            .json()
        });
        let result = self
            .store
            .idempotency_swap(&self.key, &self.marker, value.as_deref(), KEEP)
            .await;
        if let Err(e) = result {
            // The marker stays until it expires: repeats get request_in_progress.
            tracing::warn!(error = %e, "could not record the answer for an idempotency key");
        }
    }
}

/// Whether a failed request's answer is kept for its retries.
fn remember(e: &ApiError) -> bool {
    match e {
        ApiError::Service(s) | ApiError::Campaign(CampaignError::Service(s)) => s.reached_twilio(),
        _ => false,
    }
}
