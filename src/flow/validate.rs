//! Validation of a flow file's parsed TOML: every rule, each error naming
//! the file and the field.

use regex::Regex;

use super::schema::{placeholders, FlowError, FlowToml, Intents, BUILTIN_PLACEHOLDERS};
use crate::call::Prompt;

/// Builds errors that name this flow file.
pub(super) struct At<'a> {
    pub file: &'a str,
}

impl At<'_> {
    pub fn at(&self, field: &str, reason: String) -> FlowError {
        FlowError {
            file: self.file.to_string(),
            field: field.to_string(),
            reason,
        }
    }
}

/// The flow's intent patterns, compiled.
pub(super) fn intents(raw: &FlowToml, err: &At) -> Result<Intents, FlowError> {
    let compile = |field: &str, pattern: &str| {
        Regex::new(pattern).map_err(|e| err.at(field, format!("invalid regex: {e}")))
    };
    Ok(Intents {
        yes: compile("intents.yes", &raw.intents.yes)?,
        no: compile("intents.no", &raw.intents.no)?,
        opt_out: compile("intents.opt_out", &raw.intents.opt_out)?,
        key_yes: raw.keys.yes.clone(),
        key_no: raw.keys.no.clone(),
        key_opt_out: raw.keys.opt_out.clone(),
    })
}

/// One distinct phone key each for yes, no and opt-out.
pub(super) fn check_keys(raw: &FlowToml, err: &At) -> Result<(), FlowError> {
    let keys = [
        ("keys.yes", &raw.keys.yes),
        ("keys.no", &raw.keys.no),
        ("keys.opt_out", &raw.keys.opt_out),
    ];
    for (field, key) in keys {
        if key.len() != 1 || !matches!(key.as_bytes()[0], b'0'..=b'9' | b'*' | b'#') {
            return Err(err.at(field, "must be one phone key: 0-9, * or #".into()));
        }
    }
    if raw.keys.yes == raw.keys.no
        || raw.keys.yes == raw.keys.opt_out
        || raw.keys.no == raw.keys.opt_out
    {
        return Err(err.at("keys", "yes, no and opt_out need different keys".into()));
    }

    Ok(())
}

/// Declared variables: valid names, none shadowing a built-in placeholder.
pub(super) fn check_variables(raw: &FlowToml, err: &At) -> Result<(), FlowError> {
    for name in raw.variables.keys() {
        if BUILTIN_PLACEHOLDERS.contains(&name.as_str()) {
            return Err(err.at(
                &format!("variables.{name}"),
                "is a built-in placeholder and cannot be redeclared".into(),
            ));
        }
        if placeholders(&format!("{{{name}}}")).is_err() {
            return Err(err.at(
                &format!("variables.{name}"),
                "names may only hold letters, digits and '_'".into(),
            ));
        }
    }
    Ok(())
}

/// Every prompt present, non-empty, using only known placeholders; no unknown prompt.
pub(super) fn check_prompts(raw: &FlowToml, err: &At) -> Result<(), FlowError> {
    for prompt in Prompt::ALL {
        let field = format!("prompts.{}", prompt.key());
        let text = raw
            .prompts
            .get(prompt.key())
            .ok_or_else(|| err.at(&field, "missing prompt".into()))?;
        if text.trim().is_empty() {
            return Err(err.at(&field, "must not be empty".into()));
        }
        for name in placeholders(text).map_err(|reason| err.at(&field, reason))? {
            if !BUILTIN_PLACEHOLDERS.contains(&name) && !raw.variables.contains_key(name) {
                return Err(err.at(
                    &field,
                    format!("unknown placeholder '{{{name}}}' (declare it under [variables])"),
                ));
            }
        }
    }
    if let Some(extra) = raw
        .prompts
        .keys()
        .find(|k| !Prompt::ALL.iter().any(|p| p.key() == k.as_str()))
    {
        return Err(err.at(&format!("prompts.{extra}"), "unknown prompt".into()));
    }
    Ok(())
}

/// Machine detection, reprompts, gather timing, voice and language.
pub(super) fn check_settings(raw: &FlowToml, err: &At) -> Result<(), FlowError> {
    if let Some(md) = &raw.machine_detection {
        if md != "Enable" && md != "DetectMessageEnd" {
            return Err(err.at(
                "machine_detection",
                "must be \"Enable\" or \"DetectMessageEnd\"".into(),
            ));
        }
    }
    if raw.max_reprompts > 5 {
        return Err(err.at("max_reprompts", "must be between 0 and 5".into()));
    }
    check_gather(raw.gather.timeout_secs, &raw.gather.speech_timeout, err)?;
    check_voice(&raw.voice, &raw.language, err)
}

/// A `<Gather>`'s timing, shared by every kind of flow.
pub(super) fn check_gather(
    timeout_secs: u32,
    speech_timeout: &str,
    err: &At,
) -> Result<(), FlowError> {
    if !(1..=60).contains(&timeout_secs) {
        return Err(err.at("gather.timeout_secs", "must be between 1 and 60".into()));
    }
    if speech_timeout != "auto" && speech_timeout.parse::<u32>().is_err() {
        return Err(err.at(
            "gather.speech_timeout",
            "must be \"auto\" or a whole number of seconds".into(),
        ));
    }
    Ok(())
}

pub(super) fn check_voice(voice: &str, language: &str, err: &At) -> Result<(), FlowError> {
    for (field, value) in [("voice", voice), ("language", language)] {
        if value.trim().is_empty() {
            return Err(err.at(field, "must not be empty".into()));
        }
    }
    Ok(())
}
