//! Judges contacts at one instant: zones, state, the rules that apply and the
//! decision, shared by every contact with the same zones and state.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::answer::{RuleRef, Verdict};
use crate::app::dial_gate::{self, Callee, DialTarget};
use crate::app::{AppState, ServiceError};
use crate::campaign::model::Contact;
use crate::compliance::{self, CampaignWindow, Decision, HoldReason, Rules, UsState};
use crate::phone::mask;
use crate::store::StoreError;

/// Judges contacts at one instant, remembering each (zones, state) decision.
pub(super) struct Judge {
    pub now: DateTime<Utc>,
    default_zone: Tz,
    rules: &'static Rules,
    window: Option<CampaignWindow>,
    decided: HashMap<(Vec<Tz>, Option<UsState>), Decision>,
}

impl Judge {
    pub fn new(service: &AppState, window: Option<CampaignWindow>) -> Result<Self, ServiceError> {
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

    pub fn verdict(&mut self, index: usize, contact: &Contact, given: Option<UsState>) -> Verdict {
        // Where the callee is, exactly as the dial gate will take it.
        let target = DialTarget {
            to: &contact.to,
            timezone: contact.tz.as_deref().and_then(|tz| tz.parse().ok()),
            state: given,
            window: None,
        };
        let Callee { zones, state } = dial_gate::callee(&target, self.default_zone);
        let zone_source = if contact.tz.is_some() {
            "timezone"
        } else if compliance::prefix_zones(&contact.to).is_none() {
            "default"
        } else {
            "number"
        };
        let state_source = match (given, state) {
            (Some(_), _) => Some("given"),
            (None, Some(_)) => Some("area_code"),
            (None, None) => None,
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
