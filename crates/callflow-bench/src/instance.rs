//! One running callflow instance under load: where it answers and its process.

use serde_json::Value;

use crate::stats::cpu_seconds;
use crate::API_TOKEN;

/// One instance of the server under load.
pub struct Instance {
    /// Its own root URL, e.g. `http://127.0.0.1:3001`.
    pub url: String,
    /// Its process, for CPU time (none: not measured).
    pub pid: Option<u32>,
}

impl Instance {
    /// Its `/api/stats` answer.
    pub(crate) async fn stats(&self, http: &reqwest::Client) -> Result<Value, String> {
        http.get(format!("{}/api/stats", self.url))
            .bearer_auth(API_TOKEN)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }

    pub(crate) fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(&self.pid?.to_string())
    }
}
