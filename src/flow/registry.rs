use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use serde::Deserialize;

use super::{Flow, FlowError, InboundFlow};

/// The flows of `FLOWS_DIR` by id, plus any older versions that calls in flight
/// still use (loaded from the store on demand), by (id, version).
#[derive(Debug, Default)]
pub struct FlowRegistry {
    current: HashMap<String, Arc<Flow>>,
    inbound: HashMap<String, Arc<InboundFlow>>,
    versions: RwLock<HashMap<(String, String), Arc<Flow>>>,
}

impl FlowRegistry {
    /// Loads and validates every `*.toml` in `dir`; any invalid flow fails the whole load.
    pub fn load_dir(dir: &Path) -> Result<FlowRegistry, FlowError> {
        let entries = std::fs::read_dir(dir).map_err(|e| FlowError {
            file: dir.display().to_string(),
            field: "-".into(),
            reason: format!("cannot read the flows directory: {e}"),
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut registry = FlowRegistry::default();
        for path in paths {
            match kind_of(&path)? {
                Kind::Outbound => registry.insert(Flow::load(&path)?),
                Kind::Inbound => registry.insert_inbound(InboundFlow::load(&path)?),
            }
        }
        if registry.current.is_empty() && registry.inbound.is_empty() {
            return Err(FlowError {
                file: dir.display().to_string(),
                field: "-".into(),
                reason: "no flow files (*.toml) found".into(),
            });
        }
        Ok(registry)
    }

    pub fn insert(&mut self, flow: Flow) {
        let flow = Arc::new(flow);
        self.remember(flow.clone());
        self.current.insert(flow.id.clone(), flow);
    }

    pub fn insert_inbound(&mut self, flow: InboundFlow) {
        self.inbound.insert(flow.id.clone(), Arc::new(flow));
    }

    pub fn inbound(&self, id: &str) -> Option<Arc<InboundFlow>> {
        self.inbound.get(id).cloned()
    }

    pub fn inbound_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.inbound.keys().cloned().collect();
        ids.sort();
        ids
    }

    pub fn current(&self, id: &str) -> Option<Arc<Flow>> {
        self.current.get(id).cloned()
    }

    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.current.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// A specific version, if this process has seen it.
    pub fn version(&self, id: &str, version: &str) -> Option<Arc<Flow>> {
        let versions = self.versions.read().unwrap_or_else(|p| p.into_inner());
        versions
            .get(&(id.to_string(), version.to_string()))
            .cloned()
    }

    pub fn remember(&self, flow: Arc<Flow>) {
        let mut versions = self.versions.write().unwrap_or_else(|p| p.into_inner());
        versions.insert((flow.id.clone(), flow.version.clone()), flow);
    }
}

enum Kind {
    Outbound,
    Inbound,
}

/// A flow file's `kind`, read before the file is parsed as that kind.
fn kind_of(path: &Path) -> Result<Kind, FlowError> {
    #[derive(Deserialize)]
    struct Head {
        kind: Option<String>,
    }
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| FlowError {
        file: file.clone(),
        field: "-".into(),
        reason: format!("cannot read: {e}"),
    })?;
    // A syntax error is reported by the full parse, with its line.
    let kind = toml::from_str::<Head>(&source).ok().and_then(|h| h.kind);
    match kind.as_deref() {
        None | Some("outbound") => Ok(Kind::Outbound),
        Some("inbound") => Ok(Kind::Inbound),
        Some(other) => Err(FlowError {
            file,
            field: "kind".into(),
            reason: format!("must be \"outbound\" or \"inbound\", not \"{other}\""),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(label: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("callflow-flows-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.join(name), text).expect("write flow");
        }
        dir
    }

    const OUTBOUND: &str = include_str!("../../flows/outbound_booking.toml");
    const INBOUND: &str = include_str!("../../flows/inbound_default.toml");

    #[test]
    fn each_file_loads_as_its_kind() {
        let dir = dir_with("kinds", &[("out.toml", OUTBOUND), ("in.toml", INBOUND)]);
        let flows = FlowRegistry::load_dir(&dir).expect("loads");
        assert_eq!(flows.ids(), vec!["out"]);
        assert_eq!(flows.inbound_ids(), vec!["in"]);
        assert!(flows.current("in").is_none() && flows.inbound("out").is_none());
    }

    #[test]
    fn an_unknown_kind_names_the_field() {
        let text = INBOUND.replacen("kind = \"inbound\"", "kind = \"fax\"", 1);
        let dir = dir_with("odd", &[("odd.toml", &text)]);
        let e = FlowRegistry::load_dir(&dir).unwrap_err();
        assert_eq!(e.field, "kind");
        assert!(e.reason.contains("fax"), "{e}");
    }
}
