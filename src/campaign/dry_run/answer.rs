//! The answer to a dry run: one verdict per contact (at most [`LISTED`]
//! listed) and a summary that counts them all.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::flow::Flow;
use crate::phone::mask;

/// Contacts listed in one answer at most.
pub const LISTED: usize = 1_000;

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

impl DryRun {
    pub(super) fn new(kind: &'static str, flow: &Flow, at: DateTime<Utc>) -> Self {
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
    pub(super) fn add(&mut self, verdict: Verdict) {
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

pub(super) fn rejected(index: usize, to: &str, code: &'static str, message: String) -> Verdict {
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
