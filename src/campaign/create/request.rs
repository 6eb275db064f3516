//! The campaign form of `POST /api/calls/outbound`: its fields, and the
//! settings they validate into (window, pacing, concurrency, retry policy).

use serde::Deserialize;
use serde_json::Value;

use super::input::{FieldError, FlowName, Object, Phone};
use crate::call::Disposition;
use crate::campaign::duration;
use crate::campaign::model::{RetryPolicy, WindowSpec, FINAL_DISPOSITIONS};
use crate::campaign::window::Window;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    #[serde(default)]
    pub flow: Option<FlowName>,
    /// Each contact is read on its own: a bad one is rejected, not the campaign.
    pub contacts: Vec<Value>,
    #[serde(default)]
    pub window: Option<Object<WindowRequest>>,
    #[serde(default)]
    pub max_concurrent: Option<MaxConcurrent>,
    #[serde(default)]
    pub calls_per_second: Option<CallsPerSecond>,
    #[serde(default)]
    pub retry: Option<Object<RetryRequest>>,
    #[serde(default)]
    pub webhook_url: Option<WebhookUrl>,
    /// The caller ID of every dial: one of the tenant's numbers (else its first).
    #[serde(default)]
    pub from: Option<Phone>,
}

/// Dials in progress at once: 1 to 1000 (default 10).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "u64")]
pub struct MaxConcurrent(pub u32);

impl TryFrom<u64> for MaxConcurrent {
    type Error = &'static str;
    fn try_from(n: u64) -> Result<Self, Self::Error> {
        match n {
            1..=1000 => Ok(Self(n as u32)),
            _ => Err("must be a whole number from 1 to 1000"),
        }
    }
}

/// Dials started per second: above 0, at most 100 (default 1).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "f64")]
pub struct CallsPerSecond(pub f64);

impl TryFrom<f64> for CallsPerSecond {
    type Error = &'static str;
    fn try_from(n: f64) -> Result<Self, Self::Error> {
        if n > 0.0 && n <= 100.0 {
            Ok(Self(n))
        } else {
            Err("must be a number above 0 and at most 100")
        }
    }
}

/// An http(s) URL for campaign events.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct WebhookUrl(pub String);

impl TryFrom<String> for WebhookUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let url = reqwest::Url::parse(&s).map_err(|e| format!("is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http(s) URL".into());
        }
        Ok(Self(s))
    }
}

/// Local calling hours; clamped to 08:00-21:00 whatever is asked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowRequest {
    #[serde(default = "default_start")]
    pub start: String,
    #[serde(default = "default_end")]
    pub end: String,
    #[serde(default)]
    pub days: Option<Vec<String>>,
}

fn default_start() -> String {
    "08:00".into()
}

fn default_end() -> String {
    "21:00".into()
}

impl TryFrom<WindowRequest> for WindowSpec {
    type Error = FieldError;
    fn try_from(w: WindowRequest) -> Result<Self, FieldError> {
        Window::parse(&w.start, &w.end, w.days.as_deref())
            .map_err(|(field, reason)| FieldError::new(field, reason))?;
        Ok(WindowSpec {
            start: w.start,
            end: w.end,
            days: w.days,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    #[serde(default)]
    pub on: Vec<Disposition>,
    #[serde(default)]
    pub max_attempts: Option<u64>,
    /// Durations such as `30m`, `2h`.
    #[serde(default)]
    pub backoff: Vec<String>,
}

impl TryFrom<RetryRequest> for RetryPolicy {
    type Error = FieldError;
    fn try_from(r: RetryRequest) -> Result<Self, FieldError> {
        if let Some((i, d)) =
            r.on.iter()
                .enumerate()
                .find(|(_, d)| FINAL_DISPOSITIONS.contains(d))
        {
            return Err(FieldError::new(
                format!("retry.on[{i}]"),
                format!("'{}' is final and is never retried", d.as_str()),
            ));
        }
        let max_attempts = match r.max_attempts {
            None if r.on.is_empty() => 1,
            None => 3,
            Some(n @ 1..=10) => n as u32,
            Some(_) => {
                return Err(FieldError::new(
                    "retry.max_attempts",
                    "must be a whole number from 1 to 10",
                ))
            }
        };
        let backoff_secs = r
            .backoff
            .iter()
            .enumerate()
            .map(|(i, text)| {
                duration::parse(text)
                    .map(|d| d.as_secs().max(1))
                    .map_err(|e| FieldError::new(format!("retry.backoff[{i}]"), e))
            })
            .collect::<Result<_, _>>()?;
        Ok(RetryPolicy {
            on: r.on,
            max_attempts,
            backoff_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::campaign::create::input::from_json;

    fn field_of(body: Value) -> String {
        let settings = || {
            let r: CampaignRequest = from_json(&body, "body")?;
            r.window.map(|w| WindowSpec::try_from(w.0)).transpose()?;
            r.retry.map(|r| RetryPolicy::try_from(r.0)).transpose()?;
            Ok::<_, FieldError>(())
        };
        settings().unwrap_err().field
    }

    #[test]
    fn settings_errors_name_the_field() {
        let one = json!([{"to": "+15551112222"}]);
        let cases = [
            (json!({"contacts": one, "speed": 3}), "speed"),
            (json!({"contacts": one, "window": []}), "window"),
            (
                json!({"contacts": one, "window": {"start": 9}}),
                "window.start",
            ),
            (
                json!({"contacts": one, "window": {"from": "9"}}),
                "window.from",
            ),
            (
                json!({"contacts": one, "retry": {"on": ["x"]}}),
                "retry.on[0]",
            ),
            (
                json!({"contacts": one, "retry": {"on": ["busy", "declined"]}}),
                "retry.on[1]",
            ),
            (
                json!({"contacts": one, "max_concurrent": 1.5}),
                "max_concurrent",
            ),
            (
                json!({"contacts": one, "webhook_url": "ftp://x"}),
                "webhook_url",
            ),
            (json!({"flow": "x"}), "contacts"),
        ];
        for (body, field) in cases {
            assert_eq!(field_of(body.clone()), field, "{body}");
        }
    }

    #[test]
    fn retry_defaults_follow_the_dispositions() {
        let policy =
            |r: Value| RetryPolicy::try_from(from_json::<_, RetryRequest>(&r, "retry").unwrap());
        assert_eq!(policy(json!({})).unwrap().max_attempts, 1);
        let p = policy(json!({"on": ["busy"], "backoff": ["30m", "0s"]})).unwrap();
        assert_eq!((p.max_attempts, p.backoff_secs), (3, vec![1800, 1]));
    }
}
