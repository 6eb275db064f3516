//! `TENANTS_FILE`: tenants loaded at startup, for deployments without the
//! admin API. Read here (the file, its shape, its tokens); each tenant's
//! fields are checked at startup like an admin request's (`tenant::bootstrap`),
//! with errors naming the file, the tenant and the field.
//!
//! ```toml
//! [[tenants]]
//! id = "acme"
//! name = "Acme"
//! company_name = "Acme Dental"
//! numbers = ["+14155550100"]
//! tokens = [{ sha256 = "<hex of the token's SHA-256>" }, { env = "ACME_API_TOKEN" }]
//! events_secret_env = "ACME_EVENTS_SECRET"   # optional
//! ```

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{ConfigError, Secret};

/// One tenant of the file: its fields (checked at startup), its tokens as
/// SHA-256 hex, and its events secret when the file names one.
#[derive(Debug, Clone)]
pub struct FileTenant {
    pub id: String,
    pub fields: serde_json::Value,
    pub token_hashes: Vec<String>,
    pub events_secret: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct TenantsFile {
    pub path: PathBuf,
    pub tenants: Vec<FileTenant>,
}

impl TenantsFile {
    /// An error about one tenant's field, as startup reports it.
    pub fn error(&self, tenant: &str, message: impl std::fmt::Display) -> String {
        format!("{}: tenant '{tenant}': {message}", self.path.display())
    }
}

fn bad(path: &Path, message: impl std::fmt::Display) -> ConfigError {
    ConfigError {
        name: "TENANTS_FILE",
        reason: format!("{}: {message}", path.display()),
    }
}

/// Reads the file at `path`; `get` resolves the env var names it gives.
pub fn read(path: &Path, get: impl Fn(&str) -> Option<String>) -> Result<TenantsFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    parse(path, &text, get)
}

pub fn parse(
    path: &Path,
    text: &str,
    get: impl Fn(&str) -> Option<String>,
) -> Result<TenantsFile, ConfigError> {
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| bad(path, format!("not valid TOML: {e}")))?;
    let mut tenants = Vec::new();
    for (key, value) in doc {
        if key != "tenants" {
            return Err(bad(
                path,
                format!("unknown key '{key}' (expected [[tenants]])"),
            ));
        }
        let toml::Value::Array(list) = value else {
            return Err(bad(
                path,
                "tenants: must be an array of tables ([[tenants]])",
            ));
        };
        for (i, entry) in list.into_iter().enumerate() {
            tenants.push(tenant(path, i, entry, &get)?);
        }
    }
    let mut ids: Vec<&str> = tenants.iter().map(|t| t.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(bad(path, format!("tenant '{}': id: appears twice", w[0])));
    }
    Ok(TenantsFile {
        path: path.to_path_buf(),
        tenants,
    })
}

fn tenant(
    path: &Path,
    i: usize,
    entry: toml::Value,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<FileTenant, ConfigError> {
    let toml::Value::Table(mut table) = entry else {
        return Err(bad(path, format!("tenants[{i}]: must be a table")));
    };
    let id = match table.get("id") {
        Some(toml::Value::String(id)) => id.clone(),
        _ => {
            return Err(bad(
                path,
                format!("tenants[{i}]: id: is required (a string)"),
            ))
        }
    };
    let at = |message: String| bad(path, format!("tenant '{id}': {message}"));
    let mut token_hashes = Vec::new();
    if let Some(tokens) = table.remove("tokens") {
        let toml::Value::Array(tokens) = tokens else {
            return Err(at("tokens: must be an array".into()));
        };
        for (j, token) in tokens.iter().enumerate() {
            let field = format!("tokens[{j}]");
            let hash = match (token.get("sha256"), token.get("env")) {
                (Some(toml::Value::String(h)), None) => {
                    let h = h.to_ascii_lowercase();
                    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(at(format!("{field}.sha256: must be 64 hex digits")));
                    }
                    h
                }
                (None, Some(toml::Value::String(var))) => {
                    let token = get(var).map(|t| t.trim().to_string()).unwrap_or_default();
                    if token.len() < 16 {
                        return Err(at(format!(
                            "{field}.env: the environment variable {var} is unset or shorter than 16 characters"
                        )));
                    }
                    Sha256::digest(token.as_bytes())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect()
                }
                _ => {
                    return Err(at(format!(
                        "{field}: must be {{ sha256 = \"...\" }} or {{ env = \"VAR\" }}"
                    )))
                }
            };
            token_hashes.push(hash);
        }
    }
    let events_secret = match table.remove("events_secret_env") {
        None => None,
        Some(toml::Value::String(var)) => match get(&var).filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(Secret::new(s.trim())),
            None => {
                return Err(at(format!(
                    "events_secret_env: the environment variable {var} is unset"
                )))
            }
        },
        Some(_) => return Err(at("events_secret_env: must be a string".into())),
    };
    let fields = serde_json::to_value(&table).map_err(|e| at(e.to_string()))?;
    Ok(FileTenant {
        id,
        fields,
        token_hashes,
        events_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<TenantsFile, String> {
        let env = |k: &str| (k == "ACME_TOKEN").then(|| "acme-token-0123456789".to_string());
        parse(Path::new("/etc/tenants.toml"), text, env).map_err(|e| e.to_string())
    }

    #[test]
    fn tokens_come_as_hashes_or_env_var_names() {
        let hash = "a".repeat(64);
        let file = parse_str(&format!(
            "[[tenants]]\nid = \"acme\"\nname = \"Acme\"\ntokens = [{{ sha256 = \"{hash}\" }}, {{ env = \"ACME_TOKEN\" }}]\n"
        ))
        .unwrap();
        let t = &file.tenants[0];
        assert_eq!(t.token_hashes[0], hash);
        assert_eq!(t.token_hashes[1].len(), 64);
        assert_eq!(t.fields["name"], "Acme");
        assert!(t.fields.get("tokens").is_none());
    }

    #[test]
    fn errors_name_the_file_the_tenant_and_the_field() {
        for (text, expected) in [
            ("[[tenants]]\nname = \"x\"\n", "tenants[0]: id: is required"),
            (
                "[[tenants]]\nid = \"acme\"\ntokens = [{ env = \"NOPE\" }]\n",
                "tenant 'acme': tokens[0].env: the environment variable NOPE is unset",
            ),
            (
                "[[tenants]]\nid = \"acme\"\ntokens = [{ sha256 = \"abc\" }]\n",
                "tenant 'acme': tokens[0].sha256: must be 64 hex digits",
            ),
            (
                "[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"a\"\n",
                "tenant 'a': id: appears twice",
            ),
            ("tenant = 1\n", "unknown key 'tenant'"),
            ("[[tenants]\n", "not valid TOML"),
        ] {
            let e = parse_str(text).unwrap_err();
            assert!(
                e.starts_with("configuration: TENANTS_FILE: /etc/tenants.toml: "),
                "{e}"
            );
            assert!(e.contains(expected), "{e} / {expected}");
        }
    }
}
