//! `POST /api/calls/outbound` with `contacts`: validate, load into Redis, go.

use std::collections::{BTreeMap, HashSet};

use chrono::Utc;
use serde::Serialize;
use serde_json::{Map, Value};

use super::duration;
use super::model::{CampaignConfig, Contact, RetryPolicy, WindowSpec, FINAL_DISPOSITIONS};
use super::window::Window;
use crate::app::{AppState, ServiceError};
use crate::call::Disposition;
use crate::phone::E164;

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

#[derive(Debug, Serialize)]
pub struct Rejection {
    pub index: usize,
    pub to: String,
    pub reason: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Created {
    pub campaign_id: String,
    pub status: &'static str,
    pub flow: String,
    pub flow_version: String,
    pub accepted: usize,
    pub rejected: usize,
    pub rejections: Vec<Rejection>,
}

fn disposition_named(name: &str) -> Option<Disposition> {
    serde_json::from_value(Value::String(name.to_string())).ok()
}

fn retry_policy(value: Option<&Value>) -> Result<RetryPolicy, ServiceError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(RetryPolicy::default());
    };
    let map = value
        .as_object()
        .ok_or_else(|| invalid("retry", "must be an object"))?;
    if let Some(k) = map
        .keys()
        .find(|k| !["on", "max_attempts", "backoff"].contains(&k.as_str()))
    {
        return Err(invalid(
            &format!("retry.{k}"),
            "unknown field (expected on, max_attempts, backoff)",
        ));
    }
    let mut on = Vec::new();
    for (i, v) in map
        .get("on")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = format!("retry.on[{i}]");
        let name = v
            .as_str()
            .ok_or_else(|| invalid(&field, "must be a disposition name"))?;
        let d = disposition_named(name)
            .ok_or_else(|| invalid(&field, format!("'{name}' is not a disposition")))?;
        if FINAL_DISPOSITIONS.contains(&d) {
            return Err(invalid(
                &field,
                format!("'{name}' is final and is never retried"),
            ));
        }
        on.push(d);
    }
    if map.get("on").is_some_and(|v| !v.is_array()) {
        return Err(invalid("retry.on", "must be a list of dispositions"));
    }
    let max_attempts = match map.get("max_attempts") {
        None => {
            if on.is_empty() {
                1
            } else {
                3
            }
        }
        Some(v) => match v.as_u64() {
            Some(n @ 1..=10) => n as u32,
            _ => {
                return Err(invalid(
                    "retry.max_attempts",
                    "must be a whole number from 1 to 10",
                ))
            }
        },
    };
    let mut backoff_secs = Vec::new();
    match map.get("backoff") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                let field = format!("retry.backoff[{i}]");
                let text = v
                    .as_str()
                    .ok_or_else(|| invalid(&field, "must be a duration such as 90s, 30m or 2h"))?;
                let d = duration::parse(text).map_err(|e| invalid(&field, e))?;
                backoff_secs.push(d.as_secs().max(1));
            }
        }
        Some(_) => {
            return Err(invalid(
                "retry.backoff",
                "must be a list of durations such as [\"30m\", \"2h\"]",
            ))
        }
    }
    Ok(RetryPolicy {
        on,
        max_attempts,
        backoff_secs,
    })
}

fn window_spec(value: Option<&Value>) -> Result<Option<WindowSpec>, ServiceError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let map = value
        .as_object()
        .ok_or_else(|| invalid("window", "must be an object"))?;
    if let Some(k) = map
        .keys()
        .find(|k| !["start", "end", "days"].contains(&k.as_str()))
    {
        return Err(invalid(
            &format!("window.{k}"),
            "unknown field (expected start, end, days)",
        ));
    }
    let text = |f: &str, default: &str| match map.get(f) {
        None => Ok(default.to_string()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(invalid(&format!("window.{f}"), "must be a time as HH:MM")),
    };
    let start = text("start", "08:00")?;
    let end = text("end", "21:00")?;
    let days = match map.get("days") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|d| {
                    d.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid("window.days", "must be a list of day names"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => {
            return Err(invalid(
                "window.days",
                "must be a list of day names such as [\"mon\", \"tue\"]",
            ))
        }
    };
    Window::parse(&start, &end, days.as_deref()).map_err(|(f, r)| invalid(&f, r))?;
    Ok(Some(WindowSpec { start, end, days }))
}

/// One contact, or why it cannot be called.
fn contact(value: &Value, flow: &crate::flow::Flow) -> Result<Contact, (&'static str, String)> {
    let map = value
        .as_object()
        .ok_or(("invalid_contact", "must be an object".to_string()))?;
    if let Some(k) = map
        .keys()
        .find(|k| !["to", "name", "timezone", "variables"].contains(&k.as_str()))
    {
        return Err(("invalid_contact", format!("unknown field '{k}'")));
    }
    let to = match map.get("to") {
        Some(Value::String(s)) => {
            E164::parse(s.trim()).map_err(|e| ("invalid_number", format!("to: {e}")))?
        }
        _ => return Err(("invalid_number", "to: is required, in E.164 form".into())),
    };
    let name = match map.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 100 => {
            Some(s.trim().to_string()).filter(|s| !s.is_empty())
        }
        Some(_) => {
            return Err((
                "invalid_contact",
                "name: must be a string of at most 100 characters".into(),
            ))
        }
    };
    let tz = match map.get("timezone") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            s.parse::<chrono_tz::Tz>().map_err(|_| {
                (
                    "invalid_timezone",
                    format!("timezone: '{s}' is not an IANA time zone"),
                )
            })?;
            Some(s.clone())
        }
        Some(_) => {
            return Err((
                "invalid_timezone",
                "timezone: must be an IANA time zone name".into(),
            ))
        }
    };
    let mut vars = BTreeMap::new();
    match map.get("variables") {
        None | Some(Value::Null) => {}
        Some(Value::Object(v)) => {
            for (k, val) in v {
                let text = match val {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err((
                            "invalid_variables",
                            format!("variables.{k}: must be a string, number or boolean"),
                        ))
                    }
                };
                vars.insert(k.clone(), text);
            }
        }
        Some(_) => return Err(("invalid_variables", "variables: must be an object".into())),
    }
    flow.check_variables(&vars)
        .map_err(|(f, r)| ("invalid_variables", format!("{f}: {r}")))?;
    Ok(Contact {
        to: to.as_str().to_string(),
        name,
        tz,
        vars,
    })
}

/// Shards for `contacts` request positions at `per_shard` each, at most [`MAX_SHARDS`].
pub fn shard_count(contacts: usize, per_shard: u32) -> u32 {
    contacts
        .div_ceil(per_shard.max(1) as usize)
        .clamp(1, MAX_SHARDS) as u32
}

/// Validates a campaign request and loads it. Nothing is stored unless it is valid.
pub async fn create(service: &AppState, map: &Map<String, Value>) -> Result<Created, ServiceError> {
    const KNOWN: [&str; 7] = [
        "flow",
        "contacts",
        "window",
        "max_concurrent",
        "calls_per_second",
        "retry",
        "webhook_url",
    ];
    if let Some(k) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(invalid(
            k,
            format!(
                "unknown field for a campaign (expected one of: {})",
                KNOWN.join(", ")
            ),
        ));
    }
    let flow_id = match map.get("flow") {
        None | Some(Value::Null) => service.settings.default_flow.clone(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid("flow", "must be a string")),
    };
    let flow = service
        .flows
        .current(&flow_id)
        .ok_or_else(|| ServiceError::UnknownFlow(flow_id.clone()))?;
    let items = match map.get("contacts") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => return Err(invalid("contacts", "must not be empty")),
        _ => return Err(invalid("contacts", "must be a list of contacts")),
    };
    if items.len() > MAX_CONTACTS {
        return Err(invalid(
            "contacts",
            format!("at most {MAX_CONTACTS} contacts per campaign"),
        ));
    }
    let window = window_spec(map.get("window"))?;
    let max_concurrent = match map.get("max_concurrent") {
        None | Some(Value::Null) => 10,
        Some(v) => match v.as_u64() {
            Some(n @ 1..=1000) => n as u32,
            _ => {
                return Err(invalid(
                    "max_concurrent",
                    "must be a whole number from 1 to 1000",
                ))
            }
        },
    };
    let calls_per_second = match map.get("calls_per_second") {
        None | Some(Value::Null) => 1.0,
        Some(v) => match v.as_f64() {
            Some(n) if n > 0.0 && n <= 100.0 => n,
            _ => {
                return Err(invalid(
                    "calls_per_second",
                    "must be a number above 0 and at most 100",
                ))
            }
        },
    };
    let retry = retry_policy(map.get("retry"))?;
    let webhook_url = match map.get("webhook_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let url = reqwest::Url::parse(s)
                .map_err(|e| invalid("webhook_url", format!("is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(invalid("webhook_url", "must be an http(s) URL"));
            }
            if service.settings.campaign_webhook_secret.is_none() {
                return Err(invalid(
                    "webhook_url",
                    "needs CAMPAIGN_WEBHOOK_SECRET to be configured to sign events",
                ));
            }
            Some(s.clone())
        }
        Some(_) => return Err(invalid("webhook_url", "must be a string")),
    };

    let mut rejections = Vec::new();
    let mut seen = HashSet::with_capacity(items.len());
    let mut valid: Vec<(usize, Contact)> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let echo = item
            .get("to")
            .and_then(Value::as_str)
            .map(crate::phone::mask)
            .unwrap_or_default();
        match contact(item, &flow) {
            Err((reason, message)) => rejections.push(Rejection {
                index,
                to: echo,
                reason,
                message,
            }),
            Ok(c) if !seen.insert(c.to.clone()) => rejections.push(Rejection {
                index,
                to: echo,
                reason: "duplicate",
                message: "this number is already in the campaign".into(),
            }),
            Ok(c) => valid.push((index, c)),
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
                    reason: "do_not_call",
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

    let campaign_id = uuid::Uuid::new_v4().simple().to_string();
    service.save_flow_once(&flow).await?;
    let config = CampaignConfig {
        campaign_id: campaign_id.clone(),
        flow_id: flow.id.clone(),
        flow_version: flow.version.clone(),
        window,
        max_concurrent,
        calls_per_second,
        retry,
        webhook_url,
        total: accepted.len() as u32,
        created_at: service.clock.now(),
        shards: shard_count(items.len(), service.settings.campaign_shard_contacts),
    };
    let fields = [
        (
            "config",
            serde_json::to_string(&config).expect("config serializes"),
        ),
        ("status", "running".to_string()),
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
    Ok(Created {
        campaign_id,
        status: "running",
        flow: flow.id.clone(),
        flow_version: flow.version.clone(),
        accepted: accepted.len(),
        rejected: rejections.len(),
        rejections,
    })
}
