//! Inbound flows (`kind = "inbound"`): the words and the menu of calls to the
//! business's numbers. Who is rung, when the business is open and the
//! voicemail greeting belong to the tenant; what is said and what each menu
//! key does belong here.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::Deserialize;

use super::file::{is_valid_id, version_of};
use super::schema::{placeholders, FlowError};
use super::validate::{check_gather, check_voice, At};
use crate::inbound::{CallReason, InboundPrompt, InboundRules, MenuPick, Route};

/// Placeholders every inbound flow may use without declaring them.
pub const INBOUND_PLACEHOLDERS: [&str; 2] = ["company", "callback_number"];

/// What a menu option does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionAction {
    /// Ring the business (a message when nobody can answer now).
    Forward,
    /// Take a message.
    Voicemail,
    /// Say `text` (hours, pricing), then the menu again.
    Say,
    /// Text the caller `sms` (a link), say `text`, then the menu again.
    Sms,
}

#[derive(Debug, Clone)]
pub struct MenuOption {
    pub key: String,
    pub intent: Option<Regex>,
    pub action: OptionAction,
    pub reason: CallReason,
    text: Option<String>,
    sms: Option<String>,
}

#[derive(Debug, Clone)]
pub struct InboundFlow {
    pub id: String,
    pub version: String,
    pub source: String,
    pub description: String,
    pub voice: String,
    pub language: String,
    pub max_reprompts: u8,
    pub gather_timeout_secs: u32,
    pub speech_timeout: String,
    pub hints: String,
    /// How long each forward leg rings (`<Dial timeout>`).
    pub ring_timeout_secs: u32,
    /// The longest message (`<Record maxLength>`).
    pub voicemail_max_secs: u32,
    pub transcribe: bool,
    pub options: Vec<MenuOption>,
    prompts: BTreeMap<String, String>,
    variables: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InboundToml {
    kind: String,
    #[serde(default)]
    description: String,
    voice: String,
    language: String,
    #[serde(default = "default_reprompts")]
    max_reprompts: u8,
    #[serde(default = "default_ring")]
    ring_timeout_secs: u32,
    #[serde(default = "default_voicemail_max")]
    voicemail_max_secs: u32,
    #[serde(default = "default_true")]
    transcribe: bool,
    gather: GatherToml,
    prompts: BTreeMap<String, String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    options: Vec<OptionToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GatherToml {
    timeout_secs: u32,
    speech_timeout: String,
    #[serde(default)]
    hints: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionToml {
    key: String,
    intent: Option<String>,
    action: OptionAction,
    reason: String,
    text: Option<String>,
    sms: Option<String>,
}

fn default_reprompts() -> u8 {
    1
}
fn default_ring() -> u32 {
    20
}
fn default_voicemail_max() -> u32 {
    120
}
fn default_true() -> bool {
    true
}

impl InboundFlow {
    pub fn load(path: &Path) -> Result<InboundFlow, FlowError> {
        let file = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| FlowError {
            file: file.clone(),
            field: "-".into(),
            reason: format!("cannot read: {e}"),
        })?;
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        InboundFlow::parse(id, &source, &file)
    }

    /// Parses and validates an inbound flow's text. `file` only names it in errors.
    pub fn parse(id: &str, source: &str, file: &str) -> Result<InboundFlow, FlowError> {
        let at = At { file };
        if !is_valid_id(id) {
            return Err(at.at(
                "id",
                format!("file name '{id}' must be 1-64 of a-z, 0-9, '_' or '-'"),
            ));
        }
        let raw: InboundToml = super::file::parse_toml(source, &at)?;
        if raw.kind != "inbound" {
            return Err(at.at("kind", "must be \"inbound\" for this file".into()));
        }
        check_voice(&raw.voice, &raw.language, &at)?;
        check_gather(raw.gather.timeout_secs, &raw.gather.speech_timeout, &at)?;
        if raw.max_reprompts > 5 {
            return Err(at.at("max_reprompts", "must be between 0 and 5".into()));
        }
        if !(5..=600).contains(&raw.ring_timeout_secs) {
            return Err(at.at("ring_timeout_secs", "must be between 5 and 600".into()));
        }
        if !(1..=3600).contains(&raw.voicemail_max_secs) {
            return Err(at.at("voicemail_max_secs", "must be between 1 and 3600".into()));
        }
        let options = options(&raw, &at)?;
        check_prompts(&raw, &at)?;
        Ok(InboundFlow {
            id: id.to_string(),
            version: version_of(source),
            source: source.to_string(),
            description: raw.description,
            voice: raw.voice,
            language: raw.language,
            max_reprompts: raw.max_reprompts,
            gather_timeout_secs: raw.gather.timeout_secs,
            speech_timeout: raw.gather.speech_timeout,
            hints: raw.gather.hints,
            ring_timeout_secs: raw.ring_timeout_secs,
            voicemail_max_secs: raw.voicemail_max_secs,
            transcribe: raw.transcribe,
            options,
            prompts: raw.prompts,
            variables: raw.variables,
        })
    }

    /// The machine's rules for one call: `legs` forward legs, whether a
    /// message can be taken, and the route decided when the call arrived.
    pub fn rules(&self, legs: u8, voicemail: bool, route: Route) -> InboundRules {
        InboundRules {
            menu: !self.options.is_empty(),
            max_reprompts: self.max_reprompts,
            legs: legs.max(1),
            voicemail,
            route,
        }
    }

    /// What the caller chose: a key picks its option; else the first option
    /// whose pattern matches the speech.
    pub fn pick(&self, speech: Option<&str>, digits: Option<&str>) -> MenuPick {
        let chosen = if let Some(d) = digits.map(str::trim).filter(|d| !d.is_empty()) {
            self.options.iter().position(|o| o.key == d)
        } else if let Some(s) = speech.map(str::trim).filter(|s| !s.is_empty()) {
            self.options
                .iter()
                .position(|o| o.intent.as_ref().is_some_and(|r| r.is_match(s)))
        } else {
            return MenuPick::Silence;
        };
        let Some(index) = chosen else {
            return MenuPick::Unclear;
        };
        let option = &self.options[index];
        // At most 12 options (checked at load), so the index fits.
        let n = index as u8;
        match option.action {
            OptionAction::Forward => MenuPick::Forward(option.reason),
            OptionAction::Voicemail => MenuPick::Voicemail(option.reason),
            OptionAction::Say => MenuPick::Info {
                option: n,
                reason: option.reason,
            },
            OptionAction::Sms => MenuPick::Sms {
                option: n,
                reason: option.reason,
            },
        }
    }

    /// The words of a prompt with every placeholder filled in.
    pub fn text(&self, prompt: InboundPrompt, values: &dyn Fn(&str) -> Option<String>) -> String {
        let template = match prompt {
            InboundPrompt::Option(n) => self
                .options
                .get(n as usize)
                .and_then(|o| o.text.as_deref())
                .unwrap_or(""),
            fixed => fixed
                .key()
                .and_then(|k| self.prompts.get(k))
                .map(String::as_str)
                .unwrap_or(""),
        };
        self.fill(template, values)
    }

    /// The text message menu option `option` sends, if it sends one.
    pub fn option_sms(
        &self,
        option: u8,
        values: &dyn Fn(&str) -> Option<String>,
    ) -> Option<String> {
        let template = self.options.get(option as usize)?.sms.as_deref()?;
        Some(self.fill(template, values))
    }

    fn fill(&self, template: &str, values: &dyn Fn(&str) -> Option<String>) -> String {
        super::file::fill(template, &|name| {
            values(name).or_else(|| self.variables.get(name).cloned())
        })
    }
}

/// The menu's options: distinct keys, valid patterns, the text each action needs.
fn options(raw: &InboundToml, at: &At) -> Result<Vec<MenuOption>, FlowError> {
    if raw.options.len() > 12 {
        return Err(at.at("options", "at most 12 options (one per phone key)".into()));
    }
    let mut out: Vec<MenuOption> = Vec::new();
    for (i, o) in raw.options.iter().enumerate() {
        let field = |name: &str| format!("options[{i}].{name}");
        if o.key.len() != 1 || !matches!(o.key.as_bytes()[0], b'0'..=b'9' | b'*' | b'#') {
            return Err(at.at(&field("key"), "must be one phone key: 0-9, * or #".into()));
        }
        if out.iter().any(|p| p.key == o.key) {
            return Err(at.at(&field("key"), format!("key '{}' is used twice", o.key)));
        }
        let reason = CallReason::parse(&o.reason).ok_or_else(|| {
            let names: Vec<&str> = CallReason::ALL.iter().map(|r| r.as_str()).collect();
            at.at(
                &field("reason"),
                format!("must be one of {}", names.join(", ")),
            )
        })?;
        let intent = match &o.intent {
            Some(p) => Some(
                Regex::new(p)
                    .map_err(|e| at.at(&field("intent"), format!("invalid regex: {e}")))?,
            ),
            None => None,
        };
        let needs_text = matches!(o.action, OptionAction::Say | OptionAction::Sms);
        match (&o.text, needs_text) {
            (None, true) => {
                return Err(at.at(&field("text"), "missing: say what the caller hears".into()))
            }
            (Some(_), false) => {
                return Err(at.at(
                    &field("text"),
                    "only `say` and `sms` options have a text".into(),
                ))
            }
            _ => {}
        }
        match (&o.sms, o.action == OptionAction::Sms) {
            (None, true) => {
                return Err(at.at(&field("sms"), "missing: the text message to send".into()))
            }
            (Some(_), false) => {
                return Err(at.at(
                    &field("sms"),
                    "only `sms` options send a text message".into(),
                ))
            }
            _ => {}
        }
        for (name, text) in [("text", &o.text), ("sms", &o.sms)] {
            if let Some(text) = text {
                check_template(raw, at, &field(name), text)?;
            }
        }
        out.push(MenuOption {
            key: o.key.clone(),
            intent,
            action: o.action,
            reason,
            text: o.text.clone(),
            sms: o.sms.clone(),
        });
    }
    Ok(out)
}

/// Every fixed prompt present (the menu's only with a menu), none unknown.
fn check_prompts(raw: &InboundToml, at: &At) -> Result<(), FlowError> {
    let has_menu = !raw.options.is_empty();
    for prompt in InboundPrompt::FIXED {
        let key = prompt.key().expect("fixed prompts have keys");
        let field = format!("prompts.{key}");
        let menu_prompt = matches!(prompt, InboundPrompt::Menu | InboundPrompt::MenuReprompt);
        match raw.prompts.get(key) {
            None if menu_prompt && !has_menu => {}
            None => return Err(at.at(&field, "missing prompt".into())),
            Some(_) if menu_prompt && !has_menu => {
                return Err(at.at(&field, "there are no [[options]] for a menu".into()))
            }
            Some(text) => check_template(raw, at, &field, text)?,
        }
    }
    if let Some(extra) = raw.prompts.keys().find(|k| {
        !InboundPrompt::FIXED
            .iter()
            .any(|p| p.key() == Some(k.as_str()))
    }) {
        return Err(at.at(&format!("prompts.{extra}"), "unknown prompt".into()));
    }
    Ok(())
}

fn check_template(raw: &InboundToml, at: &At, field: &str, text: &str) -> Result<(), FlowError> {
    if text.trim().is_empty() {
        return Err(at.at(field, "must not be empty".into()));
    }
    for name in placeholders(text).map_err(|reason| at.at(field, reason))? {
        if !INBOUND_PLACEHOLDERS.contains(&name) && !raw.variables.contains_key(name) {
            return Err(at.at(
                field,
                format!("unknown placeholder '{{{name}}}' (declare it under [variables])"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
