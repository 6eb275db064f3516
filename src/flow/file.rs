use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::call::{Prompt, Rules, VoicemailAction};

use super::schema::{FlowError, FlowToml, Intents, RecordingConsent};

#[derive(Debug, Clone)]
pub struct Flow {
    pub id: String,
    pub version: String,
    pub source: String,
    pub description: String,
    pub voice: String,
    pub language: String,
    pub purpose: Option<String>,
    pub recording_consent: RecordingConsent,
    pub machine_detection: Option<String>,
    pub voicemail: VoicemailAction,
    pub max_reprompts: u8,
    pub gather_timeout_secs: u32,
    pub speech_timeout: String,
    pub hints: String,
    pub intents: Intents,
    prompts: BTreeMap<String, String>,
    /// Declared per-call variables and their defaults ("" = required).
    pub variables: BTreeMap<String, String>,
    /// The text template sent after a call that ends `interested`, if any
    /// (checked against the templates at startup).
    pub follow_up_sms: Option<String>,
}

/// The hash that identifies one text of a flow.
pub fn version_of(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

use super::validate::{check_keys, check_prompts, check_settings, check_variables, intents, At};

impl Flow {
    pub fn load(path: &Path) -> Result<Flow, FlowError> {
        let file = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| FlowError {
            file: file.clone(),
            field: "-".into(),
            reason: format!("cannot read: {e}"),
        })?;
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        Flow::parse(&id, &source, &file)
    }

    /// Parses and validates a flow's text. `file` only names it in errors.
    pub fn parse(id: &str, source: &str, file: &str) -> Result<Flow, FlowError> {
        let err = |field: &str, reason: String| FlowError {
            file: file.to_string(),
            field: field.to_string(),
            reason,
        };
        if !is_valid_id(id) {
            return Err(err(
                "id",
                format!("file name '{id}' must be 1-64 of a-z, 0-9, '_' or '-'"),
            ));
        }
        let at = At { file };
        let raw: FlowToml = parse_toml(source, &at)?;
        if raw.kind.as_deref().is_some_and(|k| k != "outbound") {
            return Err(err(
                "kind",
                "must be \"outbound\" (or absent) for this file".into(),
            ));
        }
        let intents = intents(&raw, &at)?;
        check_keys(&raw, &at)?;
        check_variables(&raw, &at)?;
        check_prompts(&raw, &at)?;
        check_settings(&raw, &at)?;

        Ok(Flow {
            id: id.to_string(),
            version: version_of(source),
            source: source.to_string(),
            description: raw.description,
            voice: raw.voice,
            language: raw.language,
            purpose: raw.purpose,
            recording_consent: raw.recording_consent,
            machine_detection: raw.machine_detection,
            voicemail: raw.voicemail,
            max_reprompts: raw.max_reprompts,
            gather_timeout_secs: raw.gather.timeout_secs,
            speech_timeout: raw.gather.speech_timeout,
            hints: raw.gather.hints,
            intents,
            prompts: raw.prompts,
            variables: raw.variables,
            follow_up_sms: raw.follow_up_sms,
        })
    }

    /// The machine's rules for one call of this flow.
    pub fn rules(&self, name_known: bool, require_consent_default: bool) -> Rules {
        let consent = match self.recording_consent {
            RecordingConsent::Default => require_consent_default,
            RecordingConsent::Ask => true,
            RecordingConsent::Off => false,
        };
        Rules {
            ask_name: name_known,
            consent,
            max_reprompts: self.max_reprompts,
            voicemail: self.voicemail,
        }
    }

    /// Checks per-call variables against the flow: each must be declared, and
    /// every declared one without a default must be given. Errors name the field.
    pub fn check_variables(
        &self,
        given: &BTreeMap<String, String>,
    ) -> Result<(), (String, String)> {
        for name in given.keys() {
            if !self.variables.contains_key(name) {
                let declared: Vec<&str> = self.variables.keys().map(String::as_str).collect();
                return Err((
                    format!("variables.{name}"),
                    format!(
                        "is not declared by flow '{}' (declared: {})",
                        self.id,
                        if declared.is_empty() {
                            "none".into()
                        } else {
                            declared.join(", ")
                        }
                    ),
                ));
            }
        }
        for (name, default) in &self.variables {
            if default.is_empty() && given.get(name).is_none_or(|v| v.is_empty()) {
                return Err((
                    format!("variables.{name}"),
                    format!("is required by flow '{}'", self.id),
                ));
            }
        }
        Ok(())
    }

    /// The words of a prompt with every placeholder filled in.
    pub fn render(&self, prompt: Prompt, values: &dyn Fn(&str) -> Option<String>) -> String {
        let template = self
            .prompts
            .get(prompt.key())
            .map(String::as_str)
            .unwrap_or("");
        fill(template, &|name| {
            values(name).or_else(|| self.variables.get(name).cloned())
        })
    }
}

/// Parses a flow file's TOML; a syntax error names its line.
pub(super) fn parse_toml<T: serde::de::DeserializeOwned>(
    source: &str,
    at: &At,
) -> Result<T, FlowError> {
    toml::from_str(source).map_err(|e| {
        let field = e
            .span()
            .map(|s| {
                let line = source[..s.start].matches('\n').count() + 1;
                format!("line {line}")
            })
            .unwrap_or_else(|| "-".into());
        at.at(&field, e.message().to_string())
    })
}

/// `template` with every `{placeholder}` replaced by its value ("" if none).
pub(super) fn fill(template: &str, values: &dyn Fn(&str) -> Option<String>) -> String {
    let filled: Result<String, std::convert::Infallible> =
        try_fill(template, &|name| Ok(values(name).unwrap_or_default()));
    filled.unwrap_or_else(|never| match never {})
}

/// `template` with every `{placeholder}` replaced by its value, or the first
/// value's error. Templates are validated at load, so every brace pair is a
/// placeholder.
pub fn try_fill<E>(
    template: &str,
    values: &dyn Fn(&str) -> Result<String, E>,
) -> Result<String, E> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push_str(&values(&after[..close])?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
