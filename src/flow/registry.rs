use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use super::{Flow, FlowError};

/// The flows of `FLOWS_DIR` by id, plus any older versions that calls in flight
/// still use (loaded from the store on demand), by (id, version).
#[derive(Debug, Default)]
pub struct FlowRegistry {
    current: HashMap<String, Arc<Flow>>,
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
            registry.insert(Flow::load(&path)?);
        }
        if registry.current.is_empty() {
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
