//! `"dry_run": true` on `POST /api/calls/outbound`: everything a call or a
//! campaign would be checked against, answered without storing or dialing
//! anything. Per contact: the zones and US state its calling hours are judged
//! in, the federal and state rules that apply, whether it could be dialed now
//! and if not when, or why it would be rejected.
//!
//! Bounded for the largest campaign: contacts are judged in batches (one
//! do-not-call round trip per batch), decisions are shared by contacts with the
//! same zones and state, and the answer lists at most [`LISTED`] contacts
//! (`truncated` says so); the summary counts them all.

mod answer;
mod judge;

use std::collections::{BTreeMap, HashSet};

use chrono::Weekday;
use serde_json::Value;

use self::answer::rejected;
pub use self::answer::{DryRun, Rejected, RuleRef, Summary, Verdict, LISTED};
use self::judge::Judge;
use super::create::input::ContactRequest;
use super::create::CampaignRequest;
use super::model::{Contact, RetryPolicy, WindowSpec};
use crate::app::{AppState, ServiceError};
use crate::compliance::{CampaignWindow, UsState};
use crate::phone::E164;

/// Contacts judged per do-not-call round trip.
const BATCH: usize = 5_000;

/// A single call's fields, validated by the caller.
pub struct SingleCall<'a> {
    pub to: &'a E164,
    pub flow: &'a str,
    pub variables: &'a BTreeMap<String, String>,
    pub timezone: Option<&'a str>,
    pub state: Option<UsState>,
}

/// Judges one call.
pub async fn single(service: &AppState, call: SingleCall<'_>) -> Result<DryRun, ServiceError> {
    let flow = service
        .flows
        .current(call.flow)
        .ok_or_else(|| ServiceError::UnknownFlow(call.flow.to_string()))?;
    flow.check_variables(call.variables)
        .map_err(|(field, reason)| ServiceError::Invalid { field, reason })?;
    let mut judge = Judge::new(service, None)?;
    let contact = Contact {
        to: call.to.as_str().to_string(),
        name: None,
        tz: call.timezone.map(str::to_owned),
        vars: BTreeMap::new(),
        state: call.state.map(|s| s.code().to_string()),
    };
    let verdict = if service.store.dnc_get(call.to.as_str()).await?.is_some() {
        rejected(0, &contact.to, "do_not_call", DNC_MESSAGE.into())
    } else {
        judge.verdict(0, &contact, call.state)
    };
    let mut run = DryRun::new("call", &flow, judge.now);
    run.add(verdict);
    Ok(run)
}

/// Judges a campaign request: its settings as the real one would, then every contact.
pub async fn campaign(service: &AppState, req: CampaignRequest) -> Result<DryRun, ServiceError> {
    let flow = crate::campaign::create::flow_and_size(
        service,
        req.flow.as_ref().map(|f| f.0.as_str()),
        req.contacts.len(),
    )?;
    let window: Option<WindowSpec> = req.window.map(|w| w.0.try_into()).transpose()?;
    req.retry.map(|r| RetryPolicy::try_from(r.0)).transpose()?;
    if req.webhook_url.is_some() && service.settings.campaign_webhook_secret.is_none() {
        let reason = "needs CAMPAIGN_WEBHOOK_SECRET to be configured to sign events";
        return Err(invalid("webhook_url", reason));
    }
    let window = window.as_ref().map(campaign_window).transpose()?;
    let mut judge = Judge::new(service, window)?;
    let mut run = DryRun::new("campaign", &flow, judge.now);
    let mut seen = HashSet::with_capacity(req.contacts.len());
    for (n, chunk) in req.contacts.chunks(BATCH).enumerate() {
        let batch = read_batch(n * BATCH, chunk, &flow, &mut seen);
        for verdict in judge_batch(service, &mut judge, batch).await? {
            run.add(verdict);
        }
    }
    Ok(run)
}

const DNC_MESSAGE: &str = "this number is on the do-not-call list";

fn invalid(field: &str, reason: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// The campaign's own window in the form the rule decision takes.
fn campaign_window(spec: &WindowSpec) -> Result<CampaignWindow, ServiceError> {
    const WEEK: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    let w = spec.window();
    let days: Vec<Weekday> = WEEK
        .iter()
        .zip(w.days)
        .filter_map(|(d, on)| on.then_some(*d))
        .collect();
    CampaignWindow::new(w.start, w.end, &days).map_err(|e| invalid("window", e.to_string()))
}

/// A contact read from the request (its index, its number as given): callable
/// so far, or rejected.
type Read = (usize, String, Result<(Contact, Option<UsState>), Rejected>);

/// Reads one batch of contacts as a campaign would (validation, duplicates).
fn read_batch(
    first: usize,
    items: &[Value],
    flow: &crate::flow::Flow,
    seen: &mut HashSet<String>,
) -> Vec<Read> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let index = first + i;
            let echo = item.get("to").and_then(Value::as_str).unwrap_or_default();
            let read = read_contact(item, flow).and_then(|c| {
                if seen.insert(c.0.to.clone()) {
                    Ok(c)
                } else {
                    let message = "this number is already in the campaign".into();
                    Err(Rejected {
                        code: "duplicate",
                        message,
                    })
                }
            });
            (index, echo.to_string(), read)
        })
        .collect()
}

fn read_contact(
    item: &Value,
    flow: &crate::flow::Flow,
) -> Result<(Contact, Option<UsState>), Rejected> {
    let code_for = |field: &str| match field.split(['.', '[']).next() {
        Some("to") => "invalid_number",
        Some("timezone") => "invalid_timezone",
        Some("variables") => "invalid_variables",
        Some("state") => "invalid_state",
        _ => "invalid_contact",
    };
    let c = ContactRequest::from_json(item).map_err(|e| Rejected {
        code: code_for(&e.field),
        message: e.to_string(),
    })?;
    flow.check_variables(&c.variables.0)
        .map_err(|(f, r)| Rejected {
            code: "invalid_variables",
            message: format!("{f}: {r}"),
        })?;
    // A contact's own `state`, once contacts carry one; else its area code's.
    let state = match item.get("state").and_then(Value::as_str) {
        Some(s) => Some(s.parse::<UsState>().map_err(|e| Rejected {
            code: "invalid_state",
            message: format!("state: {e}"),
        })?),
        None => None,
    };
    let contact = Contact {
        to: c.to.0.as_str().to_string(),
        name: None,
        tz: c.timezone.map(|tz| tz.0),
        vars: BTreeMap::new(),
        state: state.map(|s| s.code().to_string()),
    };
    Ok((contact, state))
}

/// Looks the batch's callable numbers up on the do-not-call list (one round
/// trip) and judges them.
async fn judge_batch(
    service: &AppState,
    judge: &mut Judge,
    batch: Vec<Read>,
) -> Result<Vec<Verdict>, ServiceError> {
    let numbers: Vec<&str> = batch
        .iter()
        .filter_map(|(_, _, r)| r.as_ref().ok().map(|(c, _)| c.to.as_str()))
        .collect();
    let mut listed = service.store.dnc_many(&numbers).await?.into_iter();
    let mut out = Vec::with_capacity(batch.len());
    for (index, echo, read) in batch {
        let verdict = match read {
            Err(r) => rejected(index, &echo, r.code, r.message),
            Ok((contact, state)) => {
                let on_list = listed.next().unwrap_or(false);
                if on_list {
                    rejected(index, &contact.to, "do_not_call", DNC_MESSAGE.into())
                } else {
                    judge.verdict(index, &contact, state)
                }
            }
        };
        out.push(verdict);
    }
    Ok(out)
}
