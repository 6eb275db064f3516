//! A small client for callflow's own JSON API, used by the demo and the benchmark.

use serde_json::Value;

pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl ApiClient {
    /// `base` is the server's root URL, e.g. `http://127.0.0.1:3000`.
    pub fn new(base: impl Into<String>, token: impl Into<String>) -> Self {
        twilio_sim::install_crypto();
        Self {
            http: reqwest::Client::new(),
            base: base.into(),
            token: token.into(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp.json().await.map_err(|e| e.to_string())?;
        Ok((status, body))
    }

    /// `GET base + path`, the JSON answer.
    pub async fn get(&self, path: &str) -> Result<Value, String> {
        Ok(self
            .send(self.http.get(format!("{}{path}", self.base)))
            .await?
            .1)
    }

    /// `POST base + path` with a JSON body: the status and the JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), String> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }
}
