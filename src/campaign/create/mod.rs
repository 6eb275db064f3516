//! `POST /api/calls/outbound` with `contacts`: validate, load into Redis, go.
//! [`input`] holds the fields a contact shares with a single call, [`request`]
//! the campaign's own.

pub mod body;
pub mod input;
pub mod request;

use std::collections::HashSet;

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use self::input::{ContactRequest, FieldError, Phone};
pub use self::request::CampaignRequest;
use super::model::{CampaignConfig, CampaignStatus, Contact, RetryPolicy};
use crate::app::{AppState, ServiceError};
use crate::flow::Flow;

pub const MAX_CONTACTS: usize = 250_000;
/// A campaign never spreads over more shards than this (each is a round trip
/// when its status is read).
pub const MAX_SHARDS: usize = 64;

fn invalid(field: &str, reason: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field: field.to_string(),
        reason: reason.into(),
    }
}

impl From<FieldError> for ServiceError {
    fn from(e: FieldError) -> Self {
        ServiceError::Invalid {
            field: e.field,
            reason: e.reason,
        }
    }
}

/// Why a contact was left out of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    InvalidContact,
    InvalidNumber,
    InvalidTimezone,
    InvalidVariables,
    Duplicate,
    DoNotCall,
    /// No such number, premium rate, another country than allowed, or our own.
    NotDialable,
}

#[derive(Debug, Serialize)]
pub struct Rejection {
    pub index: usize,
    pub to: String,
    pub reason: RejectReason,
    pub message: String,
}

/// The answer to a campaign request (202).
#[derive(Debug, Serialize)]
pub struct CampaignCreated {
    pub campaign_id: String,
    pub status: CampaignStatus,
    pub flow: String,
    pub flow_version: String,
    pub accepted: usize,
    pub rejected: usize,
    pub rejections: Vec<Rejection>,
}

/// One contact, or why it cannot be called.
fn contact(value: &Value, flow: &Flow) -> Result<Contact, (RejectReason, String)> {
    let reason_for = |field: &str| match field.split(['.', '[']).next() {
        Some("to") => RejectReason::InvalidNumber,
        Some("timezone") => RejectReason::InvalidTimezone,
        Some("variables") => RejectReason::InvalidVariables,
        _ => RejectReason::InvalidContact,
    };
    let c = ContactRequest::from_json(value).map_err(|e| (reason_for(&e.field), e.to_string()))?;
    flow.check_variables(&c.variables.0)
        .map_err(|(f, r)| (RejectReason::InvalidVariables, format!("{f}: {r}")))?;
    Ok(Contact {
        to: c.to.0.as_str().to_string(),
        name: c.name.map(|n| n.0).filter(|n| !n.is_empty()),
        tz: c.timezone.map(|tz| tz.0),
        state: c.state.map(|s| s.0.code().to_string()),
        vars: c.variables.0,
    })
}

/// Shards for `contacts` request positions at `per_shard` each, at most [`MAX_SHARDS`].
pub fn shard_count(contacts: usize, per_shard: u32) -> u32 {
    contacts
        .div_ceil(per_shard.max(1) as usize)
        .clamp(1, MAX_SHARDS) as u32
}

/// The contacts that can be called, as (request index, contact JSON), and
/// the rejections of the others in request order.
/// Why a contact's number may never be dialed, if so.
fn not_dialable(service: &AppState, to: &str) -> Option<String> {
    let number = crate::phone::E164::parse(to).ok()?;
    crate::compliance::check_number(&number, &service.numbers)
        .err()
        .map(|e| format!("to: {e}"))
}

async fn sort_contacts(
    service: &AppState,
    items: &[Value],
    flow: &Flow,
) -> Result<(Vec<(u32, String)>, Vec<Rejection>), ServiceError> {
    let mut rejections = Vec::new();
    let mut seen = HashSet::with_capacity(items.len());
    let mut valid: Vec<(usize, Contact)> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let echo = item
            .get("to")
            .and_then(Value::as_str)
            .map(crate::phone::mask)
            .unwrap_or_default();
        let reject = |reason, message| Rejection {
            index,
            to: echo.clone(),
            reason,
            message,
        };
        match contact(item, flow) {
            Err((reason, message)) => rejections.push(reject(reason, message)),
            Ok(c) if !seen.insert(c.to.clone()) => rejections.push(reject(
                RejectReason::Duplicate,
                "this number is already in the campaign".into(),
            )),
            Ok(c) => match not_dialable(service, &c.to) {
                Some(message) => rejections.push(reject(RejectReason::NotDialable, message)),
                None => valid.push((index, c)),
            },
        }
    }
    // Do-not-call at load time too (it is checked again before every dial).
    let mut accepted: Vec<(u32, String)> = Vec::with_capacity(valid.len());
    for chunk in valid.chunks(5_000) {
        let numbers: Vec<&str> = chunk.iter().map(|(_, c)| c.to.as_str()).collect();
        let listed = service.store.dnc_many(&numbers).await?;
        for ((index, c), on_list) in chunk.iter().zip(listed) {
            if on_list {
                rejections.push(Rejection {
                    index: *index,
                    to: crate::phone::mask(&c.to),
                    reason: RejectReason::DoNotCall,
                    message: "this number is on the do-not-call list".into(),
                });
            } else {
                // A contact keeps its position in the request as its index.
                accepted.push((
                    *index as u32,
                    serde_json::to_string(c).expect("contacts serialize"),
                ));
            }
        }
    }
    rejections.sort_by_key(|r| r.index);
    Ok((accepted, rejections))
}

/// Why a campaign over [`MAX_CONTACTS`] is refused (on `contacts`).
pub fn too_many_contacts() -> String {
    format!("at most {MAX_CONTACTS} contacts per campaign")
}

/// The flow a campaign request names (else the default), and its number of
/// contacts checked against the limits; shared with dry runs.
pub fn flow_and_size(
    service: &AppState,
    flow: Option<&str>,
    contacts: usize,
) -> Result<std::sync::Arc<Flow>, ServiceError> {
    let flow_id = flow.map_or_else(|| service.settings.default_flow.clone(), str::to_owned);
    let flow = service
        .flows
        .current(&flow_id)
        .ok_or(ServiceError::UnknownFlow(flow_id))?;
    if contacts == 0 {
        return Err(invalid("contacts", "must not be empty"));
    }
    if contacts > MAX_CONTACTS {
        return Err(invalid("contacts", too_many_contacts()));
    }
    Ok(flow)
}

/// The settings of a campaign request, checked; the flow it names.
fn settings(
    service: &AppState,
    req: CampaignRequest,
) -> Result<(std::sync::Arc<Flow>, CampaignConfig, Vec<Value>), ServiceError> {
    let flow = flow_and_size(
        service,
        req.flow.as_ref().map(|f| f.0.as_str()),
        req.contacts.len(),
    )?;
    let window = req.window.map(|w| w.0.try_into()).transpose()?;
    let retry = req
        .retry
        .map(|r| RetryPolicy::try_from(r.0))
        .transpose()?
        .unwrap_or_default();
    if req.webhook_url.is_some() && service.settings.campaign_webhook_secret.is_none() {
        return Err(invalid(
            "webhook_url",
            "needs CAMPAIGN_WEBHOOK_SECRET to be configured to sign events",
        ));
    }
    let from = match req.from {
        Some(Phone(from)) if !service.numbers.own_numbers.contains(&from) => {
            return Err(ServiceError::Unprocessable {
                field: "from".into(),
                reason: format!("{} is not one of this tenant's numbers", from.masked()),
            })
        }
        from => from.map(|f| f.0.as_str().to_string()),
    };
    let config = CampaignConfig {
        campaign_id: uuid::Uuid::new_v4().simple().to_string(),
        flow_id: flow.id.clone(),
        flow_version: flow.version.clone(),
        window,
        max_concurrent: req.max_concurrent.map_or(10, |m| m.0),
        calls_per_second: req.calls_per_second.map_or(1.0, |c| c.0),
        retry,
        webhook_url: req.webhook_url.map(|u| u.0),
        total: 0,
        created_at: service.clock.now(),
        shards: shard_count(req.contacts.len(), service.settings.campaign_shard_contacts),
        from,
    };
    Ok((flow, config, req.contacts))
}

/// Validates a campaign request and loads it. Nothing is stored unless it is valid.
/// A webhook URL must reach a public address (checked again at delivery).
async fn check_webhook_url(url: &str, allow_private: bool) -> Result<(), ServiceError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid("webhook_url", e.to_string()))?;
    crate::egress::resolve(&parsed, allow_private)
        .await
        .map_err(|e| invalid("webhook_url", e.to_string()))?;
    Ok(())
}

pub async fn launch(
    service: &AppState,
    req: CampaignRequest,
) -> Result<CampaignCreated, ServiceError> {
    let (flow, mut config, items) = settings(service, req)?;
    if let Some(url) = &config.webhook_url {
        check_webhook_url(url, service.settings.allow_private_webhooks).await?;
    }
    let (accepted, rejections) = sort_contacts(service, &items, &flow).await?;
    if accepted.is_empty() {
        return Err(invalid(
            "contacts",
            format!(
                "none of the {} contacts can be called (first problem: {})",
                items.len(),
                rejections
                    .first()
                    .map(|r| r.message.as_str())
                    .unwrap_or("-")
            ),
        ));
    }
    service.save_flow_once(&flow).await?;
    config.total = accepted.len() as u32;
    let campaign_id = config.campaign_id.clone();
    let fields = [
        (
            "config",
            serde_json::to_string(&config).expect("config serializes"),
        ),
        ("status", CampaignStatus::Running.as_str().to_string()),
        ("total", accepted.len().to_string()),
        ("done", "0".to_string()),
        ("index_end", items.len().to_string()),
        ("shards", config.shards.to_string()),
        ("created_at", Utc::now().to_rfc3339()),
    ];
    service
        .store
        .create_campaign(
            &campaign_id,
            config.shards,
            &fields,
            &accepted,
            service.clock.now_ms(),
        )
        .await?;
    tracing::info!(
        campaign_id,
        accepted = accepted.len(),
        rejected = rejections.len(),
        "campaign created"
    );
    Ok(CampaignCreated {
        campaign_id,
        status: CampaignStatus::Running,
        flow: flow.id.clone(),
        flow_version: flow.version.clone(),
        accepted: accepted.len(),
        rejected: rejections.len(),
        rejections,
    })
}
