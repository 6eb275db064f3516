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

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;

use super::create::input::ContactRequest;
use super::create::{CampaignRequest, MAX_CONTACTS};
use super::model::{Contact, RetryPolicy, WindowSpec};
use super::{contact_zones, timezones};
use crate::app::{AppState, ServiceError};
use crate::compliance::{self, CampaignWindow, Decision, HoldReason, Rules, UsState};
use crate::phone::{mask, E164};
use crate::store::StoreError;

/// Contacts listed in one answer at most.
pub const LISTED: usize = 1_000;
/// Contacts judged per do-not-call round trip.
const BATCH: usize = 5_000;

/// The answer to a dry run (200).
#[derive(Debug, Serialize)]
pub struct DryRun {
    pub dry_run: bool,
    /// `call` or `campaign`.
    pub kind: &'static str,
    /// The service-clock instant everything was judged at.
    pub checked_at: DateTime<Utc>,
    pub flow: String,
    pub flow_version: String,
    pub contacts: Vec<Verdict>,
    /// More contacts were judged than are listed; the summary counts them all.
    pub truncated: bool,
    pub summary: Summary,
}

/// One contact, judged.
#[derive(Debug, Serialize)]
pub struct Verdict {
    pub index: usize,
    /// Masked.
    pub to: String,
    pub zones: Vec<&'static str>,
    /// `timezone` (given), `number` (its prefix) or `default` (`TIMEZONE_DEFAULT`).
    pub zone_source: Option<&'static str>,
    pub state: Option<&'static str>,
    /// `given` or `area_code`.
    pub state_source: Option<&'static str>,
    pub rules: Vec<RuleRef>,
    pub dialable_now: bool,
    /// `window` (federal hours or the campaign's window) or `state_rule`.
    pub held_by: Option<&'static str>,
    pub next_allowed_at: Option<DateTime<Utc>>,
    pub rejected: Option<Rejected>,
}

/// A rule that applies to a contact.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRef {
    /// `federal`, or the state's postal code.
    pub scope: &'static str,
    pub name: &'static str,
    pub citation: &'static str,
    pub confirmed: bool,
}

#[derive(Debug, Serialize)]
pub struct Rejected {
    /// As a campaign's rejections: `invalid_number`, `duplicate`, `do_not_call`, ...
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub contacts: usize,
    pub dialable_now: usize,
    pub held: usize,
    pub rejected: usize,
    /// Rejections by code.
    pub rejections: BTreeMap<&'static str, usize>,
    /// Contacts by the state whose rule applies (`none`: no state rule).
    pub states: BTreeMap<&'static str, usize>,
    /// The earliest instant a held contact could be dialed.
    pub next_allowed_at: Option<DateTime<Utc>>,
}

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
    let flow_id = req
        .flow
        .map(|f| f.0)
        .unwrap_or_else(|| service.settings.default_flow.clone());
    let flow = service
        .flows
        .current(&flow_id)
        .ok_or(ServiceError::UnknownFlow(flow_id))?;
    if req.contacts.is_empty() {
        return Err(invalid("contacts", "must not be empty"));
    }
    if req.contacts.len() > MAX_CONTACTS {
        let reason = format!("at most {MAX_CONTACTS} contacts per campaign");
        return Err(invalid("contacts", reason));
    }
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

fn rejected(index: usize, to: &str, code: &'static str, message: String) -> Verdict {
    Verdict {
        index,
        to: mask(to),
        zones: Vec::new(),
        zone_source: None,
        state: None,
        state_source: None,
        rules: Vec::new(),
        dialable_now: false,
        held_by: None,
        next_allowed_at: None,
        rejected: Some(Rejected { code, message }),
    }
}

/// Judges contacts at one instant, remembering each (zones, state) decision.
struct Judge {
    now: DateTime<Utc>,
    default_zone: Tz,
    rules: &'static Rules,
    window: Option<CampaignWindow>,
    decided: HashMap<(Vec<Tz>, Option<UsState>), Decision>,
}

impl Judge {
    fn new(service: &AppState, window: Option<CampaignWindow>) -> Result<Self, ServiceError> {
        let rules =
            Rules::shipped().map_err(|e| StoreError::Corrupt(format!("rules/us.toml: {e}")))?;
        Ok(Self {
            now: service.clock.now(),
            default_zone: service.settings.timezone_default,
            rules,
            window,
            decided: HashMap::new(),
        })
    }

    fn verdict(&mut self, index: usize, contact: &Contact, given: Option<UsState>) -> Verdict {
        let zones = contact_zones(contact, self.default_zone);
        let zone_source = if contact.tz.is_some() {
            "timezone"
        } else if timezones::zones_for_number(&contact.to).is_empty() {
            "default"
        } else {
            "number"
        };
        let (state, state_source) = match given {
            Some(s) => (Some(s), Some("given")),
            None => {
                let s = compliance::state_for_number(&contact.to);
                (s, s.map(|_| "area_code"))
            }
        };
        let (now, rules, window) = (self.now, self.rules, self.window.as_ref());
        let decision = *self
            .decided
            .entry((zones.clone(), state))
            .or_insert_with(|| compliance::decide_all_zones(now, &zones, state, window, rules));
        let (held_by, next_allowed_at) = match decision {
            Decision::Allowed => (None, None),
            Decision::Held {
                reason,
                next_allowed_at,
            } => {
                let by = match reason {
                    HoldReason::OutsideWindow => "window",
                    HoldReason::StateRule { .. } => "state_rule",
                };
                (Some(by), Some(next_allowed_at))
            }
        };
        Verdict {
            index,
            to: mask(&contact.to),
            zones: zones.iter().map(|z| z.name()).collect(),
            zone_source: Some(zone_source),
            state: state.map(UsState::code),
            state_source,
            rules: self.rules_for(state),
            dialable_now: decision == Decision::Allowed,
            held_by,
            next_allowed_at,
            rejected: None,
        }
    }

    fn rules_for(&self, state: Option<UsState>) -> Vec<RuleRef> {
        let federal = &self.rules.federal;
        let mut rules = vec![RuleRef {
            scope: "federal",
            name: &federal.name,
            citation: &federal.citation,
            confirmed: federal.confirmed,
        }];
        if let Some((s, rule)) = state.and_then(|s| Some((s, self.rules.state(s)?))) {
            rules.push(RuleRef {
                scope: s.code(),
                name: &rule.name,
                citation: &rule.citation,
                confirmed: rule.confirmed,
            });
        }
        rules
    }
}

impl DryRun {
    fn new(kind: &'static str, flow: &crate::flow::Flow, at: DateTime<Utc>) -> Self {
        Self {
            dry_run: true,
            kind,
            checked_at: at,
            flow: flow.id.clone(),
            flow_version: flow.version.clone(),
            contacts: Vec::new(),
            truncated: false,
            summary: Summary::default(),
        }
    }

    /// Counts a verdict, and lists it while there is room.
    fn add(&mut self, verdict: Verdict) {
        let s = &mut self.summary;
        s.contacts += 1;
        if let Some(r) = &verdict.rejected {
            s.rejected += 1;
            *s.rejections.entry(r.code).or_default() += 1;
        } else {
            let state_rule = verdict.rules.get(1).map_or("none", |r| r.scope);
            *s.states.entry(state_rule).or_default() += 1;
            if verdict.dialable_now {
                s.dialable_now += 1;
            } else {
                s.held += 1;
                s.next_allowed_at = match (s.next_allowed_at, verdict.next_allowed_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        if self.contacts.len() < LISTED {
            self.contacts.push(verdict);
        } else {
            self.truncated = true;
        }
    }
}
