//! Text message templates (`flows/sms/*.toml`): a body with placeholders,
//! the variables it needs, and instants said in the recipient's time zone.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::flow::{placeholders, try_fill};

/// Twilio's limit on one message's body, in characters.
pub const MAX_BODY_CHARS: usize = 1600;

/// A template's load or render error: the field (`body`, `variables.<name>`)
/// and the reason. Load errors name the file too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{field}: {reason}")]
pub struct TemplateError {
    /// `"<file>: "` for load errors, empty for render errors.
    pub file: String,
    pub field: String,
    pub reason: String,
}

impl TemplateError {
    fn render(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            file: String::new(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateToml {
    #[serde(default)]
    description: String,
    body: String,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct SmsTemplate {
    pub id: String,
    pub description: String,
    body: String,
    required: Vec<String>,
    defaults: BTreeMap<String, String>,
}

/// Placeholders every template may use without declaring them.
const BUILTIN: [&str; 1] = ["company"];

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl SmsTemplate {
    pub fn parse(id: &str, source: &str, file: &str) -> Result<SmsTemplate, TemplateError> {
        let err = |field: &str, reason: String| TemplateError {
            file: format!("{file}: "),
            field: field.to_string(),
            reason,
        };
        if !valid_name(id) {
            return Err(err(
                "id",
                format!("file name '{id}' must be 1-64 of a-z, 0-9 or '_'"),
            ));
        }
        let raw: TemplateToml =
            toml::from_str(source).map_err(|e| err("-", e.message().to_string()))?;
        if raw.body.trim().is_empty() {
            return Err(err("body", "must not be empty".into()));
        }
        let declared: Vec<&str> = raw
            .required
            .iter()
            .chain(raw.defaults.keys())
            .map(String::as_str)
            .collect();
        for name in &declared {
            if !valid_name(name) || BUILTIN.contains(name) {
                return Err(err(
                    &format!("variables.{name}"),
                    "must be 1-64 of a-z, 0-9 or '_', and not a built-in placeholder".into(),
                ));
            }
        }
        for name in placeholders(&raw.body).map_err(|r| err("body", r))? {
            let time_of = name.strip_suffix("_time").map(|n| format!("{n}_at"));
            let known = BUILTIN.contains(&name)
                || declared.contains(&name)
                || time_of.is_some_and(|at| declared.contains(&at.as_str()));
            if !known {
                return Err(err(
                    "body",
                    format!(
                        "unknown placeholder '{{{name}}}' (list it in `required` or `defaults`)"
                    ),
                ));
            }
        }
        Ok(SmsTemplate {
            id: id.to_string(),
            description: raw.description,
            body: raw.body,
            required: raw.required,
            defaults: raw.defaults,
        })
    }

    /// Whether the template reads the variable `name`.
    pub fn uses(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name) || self.defaults.contains_key(name)
    }

    /// The message for `variables`, instants said in `zone`. Errors name the
    /// variable (`variables.<name>`) or `body` (too long once filled in).
    pub fn render(
        &self,
        company: &str,
        variables: &BTreeMap<String, String>,
        zone: Tz,
    ) -> Result<String, TemplateError> {
        for name in variables.keys() {
            if !self.required.contains(name) && !self.defaults.contains_key(name) {
                return Err(TemplateError::render(
                    format!("variables.{name}"),
                    format!("is not used by template '{}'", self.id),
                ));
            }
        }
        for name in &self.required {
            if variables.get(name).is_none_or(|v| v.trim().is_empty()) {
                return Err(TemplateError::render(
                    format!("variables.{name}"),
                    format!("is required by template '{}'", self.id),
                ));
            }
        }
        let value = |name: &str| -> Result<String, TemplateError> {
            if name == "company" {
                return Ok(company.to_string());
            }
            let given = |n: &str| variables.get(n).or_else(|| self.defaults.get(n)).cloned();
            if let Some(v) = given(name) {
                if name.ends_with("_at") {
                    instant(name, &v)?;
                }
                return Ok(v);
            }
            let at = format!("{}_at", name.trim_end_matches("_time"));
            let raw = given(&at).unwrap_or_default();
            Ok(instant(&at, &raw)?
                .with_timezone(&zone)
                .format("%A, %B %-d at %-I:%M %p %Z")
                .to_string())
        };
        // Every `_at` variable must read as an instant, used in the body or not.
        for (name, v) in variables.iter().filter(|(n, _)| n.ends_with("_at")) {
            instant(name, v)?;
        }
        let out = try_fill(&self.body, &value)?;
        let chars = out.chars().count();
        if chars > MAX_BODY_CHARS {
            return Err(TemplateError::render(
                "body",
                format!("is {chars} characters once filled in; at most {MAX_BODY_CHARS}"),
            ));
        }
        Ok(out)
    }
}

fn instant(name: &str, value: &str) -> Result<DateTime<FixedOffset>, TemplateError> {
    DateTime::parse_from_rfc3339(value.trim()).map_err(|_| {
        TemplateError::render(
            format!("variables.{name}"),
            "must be an RFC 3339 instant with its offset, e.g. 2026-01-16T15:30:00-05:00",
        )
    })
}

/// The templates of a directory, by id (the file name without `.toml`).
#[derive(Debug, Default, Clone)]
pub struct Templates {
    by_id: BTreeMap<String, SmsTemplate>,
}

impl Templates {
    /// Loads every `*.toml` of `dir`; a missing directory is no templates.
    pub fn load_dir(dir: &Path) -> Result<Templates, TemplateError> {
        let mut templates = Templates::default();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(templates);
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let file = path.display().to_string();
            let source = std::fs::read_to_string(&path).map_err(|e| TemplateError {
                file: format!("{file}: "),
                field: "-".into(),
                reason: format!("cannot read: {e}"),
            })?;
            let id = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let template = SmsTemplate::parse(id, &source, &file)?;
            templates.by_id.insert(template.id.clone(), template);
        }
        Ok(templates)
    }

    pub fn get(&self, id: &str) -> Option<&SmsTemplate> {
        self.by_id.get(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
