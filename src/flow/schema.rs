//! A flow file's shape: the TOML as written, the validated intent patterns,
//! the placeholders prompts may use, and the error that names file and field.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

use crate::call::{Intent, VoicemailAction};

/// Placeholders every flow may use without declaring them.
pub const BUILTIN_PLACEHOLDERS: [&str; 4] = ["company", "purpose", "name", "callback_number"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}: {field}: {reason}")]
pub struct FlowError {
    pub file: String,
    pub field: String,
    pub reason: String,
}

/// Whether the flow asks to record. Recording always needs an explicit yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RecordingConsent {
    /// Follow `FEATURE_REQUIRE_RECORDING_CONSENT`.
    #[default]
    Default,
    /// Always ask (and record after a yes).
    Ask,
    /// Never ask, never record.
    Off,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FlowToml {
    /// `outbound` (the default when absent) or, in other files, `inbound`.
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) description: String,
    pub(super) voice: String,
    pub(super) language: String,
    /// Overrides `CALL_PURPOSE` for this flow.
    pub(super) purpose: Option<String>,
    #[serde(default)]
    pub(super) recording_consent: RecordingConsent,
    /// Twilio `MachineDetection` (`Enable` or `DetectMessageEnd`), when wanted.
    pub(super) machine_detection: Option<String>,
    pub(super) voicemail: VoicemailAction,
    pub(super) max_reprompts: u8,
    pub(super) gather: GatherToml,
    pub(super) keys: KeysToml,
    pub(super) prompts: BTreeMap<String, String>,
    pub(super) intents: IntentsToml,
    #[serde(default)]
    pub(super) variables: BTreeMap<String, String>,
    /// The text template (`FLOWS_DIR/sms/<id>.toml`) sent after a call that
    /// ends `interested`; none: no text.
    #[serde(default)]
    pub(super) follow_up_sms: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GatherToml {
    pub(super) timeout_secs: u32,
    pub(super) speech_timeout: String,
    #[serde(default)]
    pub(super) hints: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeysToml {
    pub(super) yes: String,
    pub(super) no: String,
    pub(super) opt_out: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IntentsToml {
    pub(super) yes: String,
    pub(super) no: String,
    pub(super) opt_out: String,
}

/// Compiled intent patterns and keys.
#[derive(Debug, Clone)]
pub struct Intents {
    pub(super) yes: Regex,
    pub(super) no: Regex,
    pub(super) opt_out: Regex,
    pub(super) key_yes: String,
    pub(super) key_no: String,
    pub(super) key_opt_out: String,
}

impl Intents {
    /// Opt-out wins over everything ("no, stop calling me"), then no over yes
    /// ("not interested" contains "interested").
    pub fn classify(&self, speech: Option<&str>, digits: Option<&str>) -> Intent {
        if let Some(d) = digits.map(str::trim).filter(|d| !d.is_empty()) {
            return if d == self.key_opt_out {
                Intent::OptOut
            } else if d == self.key_yes {
                Intent::Yes
            } else if d == self.key_no {
                Intent::No
            } else {
                Intent::Unclear
            };
        }
        let Some(s) = speech.map(str::trim).filter(|s| !s.is_empty()) else {
            return Intent::Silence;
        };
        if self.opt_out.is_match(s) {
            Intent::OptOut
        } else if self.no.is_match(s) {
            Intent::No
        } else if self.yes.is_match(s) {
            Intent::Yes
        } else {
            Intent::Unclear
        }
    }
}

/// The `{placeholder}` names in a template, or the reason it is malformed.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err("has a '}' without a matching '{'".into());
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "has a '{' without a matching '}'".to_string())?;
        let name = &after[..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("has an invalid placeholder '{{{name}}}'"));
        }
        out.push(name);
        rest = &after[close + 1..];
    }
    Ok(out)
}
