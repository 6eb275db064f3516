//! A tenant's phone numbers: search Twilio's inventory, buy one with its
//! webhooks pointed at callflow's inbound routes, attach one the account
//! already holds, list them, release one. Which tenant holds a number is
//! `store::numbers` (one number, one tenant); every function acts for the
//! tenant whose store view it is given.

use serde::Serialize;
use tracing::{info, warn};

use super::AppState;
use crate::phone::{mask, E164};
use crate::store::{NumberClaim, Store, StoreError};
use crate::twilio::rest::{NumberChoice, NumberSearch, NumberWebhooks, TwilioError};

/// `Retry-After` for a Twilio 429 that came without one.
const THROTTLED_RETRY_SECS: u64 = 5;

/// Paths of the inbound webhooks a number is pointed at (issue 12's routes).
pub const VOICE_PATH: &str = "/twilio/voice/inbound";
pub const SMS_PATH: &str = "/twilio/sms/incoming";
pub const STATUS_PATH: &str = "/twilio/voice/status";

#[derive(Debug, thiserror::Error)]
pub enum NumbersError {
    #[error("phone_number: {0} is held by another tenant")]
    HeldElsewhere(String),
    #[error("phone_number: {0} is already one of this tenant's numbers")]
    AlreadyYours(String),
    #[error("number: {0} is not one of this tenant's numbers")]
    NotYours(String),
    #[error("phone_number: the Twilio account holds no number {0}")]
    NotInAccount(String),
    #[error("sid: {sid} is not the sid of {number} in the Twilio account")]
    SidMismatch { sid: String, number: String },
    #[error("number: {0} is the service's caller ID (TWILIO_VOICE_NUMBER); it is not released")]
    CallerId(String),
    /// Twilio answered with an error: nothing was bought, changed or released.
    #[error("Twilio refused the request: {message}")]
    Refused {
        status: u16,
        code: Option<u64>,
        message: String,
    },
    #[error("Twilio is rate limiting requests: {message}")]
    Throttled {
        message: String,
        retry_after_secs: u64,
    },
    /// No clear answer: the request may have taken effect at Twilio.
    #[error("no clear answer from Twilio: {0}")]
    Uncertain(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TwilioError> for NumbersError {
    fn from(e: TwilioError) -> Self {
        match e {
            TwilioError::Api {
                status: 429,
                message,
                retry_after_secs,
                ..
            } => Self::Throttled {
                message,
                retry_after_secs: retry_after_secs.unwrap_or(THROTTLED_RETRY_SECS),
            },
            TwilioError::Api {
                status,
                code,
                message,
                ..
            } => Self::Refused {
                status,
                code,
                message,
            },
            TwilioError::Uncertain(message) => Self::Uncertain(message),
        }
    }
}

/// A number on offer.
#[derive(Debug, Clone, Serialize)]
pub struct Available {
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub iso_country: Option<String>,
}

/// One of the tenant's numbers, as set up at Twilio.
#[derive(Debug, Clone, Serialize)]
pub struct OwnedNumber {
    pub phone_number: String,
    pub sid: String,
    pub voice_url: Option<String>,
    pub sms_url: Option<String>,
    pub status_callback: Option<String>,
}

/// How a number comes to the tenant.
#[derive(Debug, Clone)]
pub enum Acquire {
    /// Buy this number (from a search).
    Buy(E164),
    /// Buy any number in this area code.
    BuyInArea(u16),
    /// Take on a number the Twilio account already holds, by its `PN` sid.
    Attach { number: E164, sid: String },
}

/// The webhooks every number of callflow's is pointed at.
pub fn webhooks(app: &AppState) -> NumberWebhooks {
    let base = &app.settings.public_base_url;
    NumberWebhooks {
        voice_url: format!("{base}{VOICE_PATH}"),
        sms_url: format!("{base}{SMS_PATH}"),
        status_callback: format!("{base}{STATUS_PATH}"),
    }
}

/// Numbers on offer.
pub async fn search(
    app: &AppState,
    search: &NumberSearch<'_>,
) -> Result<Vec<Available>, NumbersError> {
    let found = app.twilio.search_local_numbers(search).await?;
    Ok(found
        .into_iter()
        .map(|n| Available {
            phone_number: n.phone_number,
            friendly_name: n.friendly_name,
            locality: n.locality,
            region: n.region,
            iso_country: n.iso_country,
        })
        .collect())
}

/// Refuses a number another tenant, or this one, already holds.
async fn check_free(store: &Store, number: &str) -> Result<(), NumbersError> {
    match store.number_tenant(number).await? {
        None => Ok(()),
        Some(holder) if holder == store.tenant() => {
            Err(NumbersError::AlreadyYours(number.to_string()))
        }
        Some(_) => Err(NumbersError::HeldElsewhere(number.to_string())),
    }
}

/// Buys or attaches a number for the tenant of `store`, its webhooks set.
pub async fn acquire(
    app: &AppState,
    store: &Store,
    how: Acquire,
) -> Result<OwnedNumber, NumbersError> {
    let hooks = webhooks(app);
    let bought = match how {
        Acquire::Attach { number, sid } => return attach(app, store, &number, &sid).await,
        Acquire::Buy(number) => {
            check_free(store, number.as_str()).await?;
            app.twilio
                .buy_number(NumberChoice::Exact(number.as_str()), &hooks)
                .await?
        }
        Acquire::BuyInArea(code) => {
            app.twilio
                .buy_number(NumberChoice::AreaCode(code), &hooks)
                .await?
        }
    };
    let number = bought.phone_number.clone();
    if let NumberClaim::HeldBy(_) = store.claim_number(&number).await? {
        // Twilio sold it, so no tenant can really hold it: a stale claim. Give
        // the purchase back rather than keep a number nobody may use.
        warn!(number = %mask(&number), "bought a number another tenant claims; releasing it");
        if let Err(e) = app.twilio.release_number(&bought.sid).await {
            warn!(number = %mask(&number), error = %e, "could not release it");
        }
        return Err(NumbersError::HeldElsewhere(number));
    }
    info!(number = %mask(&number), tenant = store.tenant(), "number bought");
    Ok(OwnedNumber {
        phone_number: number,
        sid: bought.sid,
        voice_url: bought.voice_url,
        sms_url: bought.sms_url,
        status_callback: bought.status_callback,
    })
}

/// Takes on a number the account holds: checked against Twilio's list before
/// anything changes, claimed, then pointed at callflow.
async fn attach(
    app: &AppState,
    store: &Store,
    number: &E164,
    sid: &str,
) -> Result<OwnedNumber, NumbersError> {
    let found = app
        .twilio
        .find_number(number.as_str())
        .await?
        .ok_or_else(|| NumbersError::NotInAccount(number.as_str().to_string()))?;
    if !found.sid.eq_ignore_ascii_case(sid) {
        return Err(NumbersError::SidMismatch {
            sid: sid.to_string(),
            number: number.as_str().to_string(),
        });
    }
    let claimed = match store.claim_number(number.as_str()).await? {
        NumberClaim::HeldBy(_) => {
            return Err(NumbersError::HeldElsewhere(number.as_str().to_string()))
        }
        claim => claim,
    };
    match app
        .twilio
        .update_number_webhooks(&found.sid, &webhooks(app))
        .await
    {
        Ok(updated) => {
            info!(number = %number.masked(), tenant = store.tenant(), "number attached");
            Ok(OwnedNumber {
                phone_number: updated.phone_number,
                sid: updated.sid,
                voice_url: updated.voice_url,
                sms_url: updated.sms_url,
                status_callback: updated.status_callback,
            })
        }
        Err(e) => {
            // Not pointed at callflow: not the tenant's either (unless it was before).
            if claimed == NumberClaim::Claimed {
                store.release_number(number.as_str()).await?;
            }
            Err(e.into())
        }
    }
}

/// The tenant's numbers, sorted.
pub async fn list(store: &Store) -> Result<Vec<String>, NumbersError> {
    Ok(store.numbers().await?)
}

/// Gives one of the tenant's numbers back to Twilio, then drops the claim. A
/// number the account no longer holds is only dropped.
pub async fn release(app: &AppState, store: &Store, number: &E164) -> Result<(), NumbersError> {
    if store.number_tenant(number.as_str()).await?.as_deref() != Some(store.tenant()) {
        // Another tenant's number answers the same as no number at all.
        return Err(NumbersError::NotYours(number.as_str().to_string()));
    }
    if *number == app.settings.twilio.voice_number {
        return Err(NumbersError::CallerId(number.as_str().to_string()));
    }
    if let Some(held) = app.twilio.find_number(number.as_str()).await? {
        app.twilio.release_number(&held.sid).await?;
    }
    store.release_number(number.as_str()).await?;
    info!(number = %number.masked(), tenant = store.tenant(), "number released");
    Ok(())
}
