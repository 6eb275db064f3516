//! Validates REST requests against Twilio's own OpenAPI description (the subset
//! in `twilio_openapi_subset.json`, made by `scripts/extract-openapi-subset.py`).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde_json::Value;

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("twilio_openapi_subset.json"))
        .expect("bundled OpenAPI subset is JSON")
});

/// Whether `value` matches the spec's `pattern`. Each pattern is compiled once:
/// compiling it per request made the simulator the benchmark's bottleneck.
fn matches(pattern: &str, value: &str) -> Result<bool, String> {
    static COMPILED: LazyLock<Mutex<HashMap<String, regex::Regex>>> = LazyLock::new(Mutex::default);
    let mut compiled = COMPILED.lock().unwrap_or_else(|p| p.into_inner());
    if !compiled.contains_key(pattern) {
        let re = regex::Regex::new(pattern).map_err(|e| format!("bad pattern in spec: {e}"))?;
        compiled.insert(pattern.to_string(), re);
    }
    Ok(compiled[pattern].is_match(value))
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .rsplit('/')
            .next()
            .and_then(|name| SPEC["schemas"].get(name))
            .unwrap_or(&Value::Null),
        None => schema,
    }
}

/// Checks one value against a scalar schema.
fn check_scalar(name: &str, value: &str, schema: &Value) -> Result<(), String> {
    let schema = resolve(schema);
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.iter().any(|o| o.as_str() == Some(value)) {
            return Err(format!(
                "{name}: '{value}' is not one of {}",
                Value::Array(options.clone())
            ));
        }
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") if value.parse::<i64>().is_err() => {
            return Err(format!("{name}: '{value}' is not an integer"))
        }
        Some("number") if value.parse::<f64>().is_err() => {
            return Err(format!("{name}: '{value}' is not a number"))
        }
        Some("boolean") if value != "true" && value != "false" => {
            return Err(format!("{name}: '{value}' is not true or false"))
        }
        _ => {}
    }
    if schema.get("format").and_then(Value::as_str) == Some("uri") {
        let ok = reqwest::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return Err(format!("{name}: '{value}' is not an absolute http(s) URL"));
        }
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        if !matches(pattern, value)? {
            return Err(format!("{name}: '{value}' does not match {pattern}"));
        }
    }
    Ok(())
}

fn check_pairs(schema: &Value, pairs: &[(String, String)]) -> Result<(), String> {
    let props = schema["properties"]
        .as_object()
        .ok_or("operation has no form schema")?;
    for (name, value) in pairs {
        let prop = props
            .get(name)
            .ok_or_else(|| format!("unknown parameter '{name}'"))?;
        let prop = resolve(prop);
        if prop.get("type").and_then(Value::as_str) == Some("array") {
            check_scalar(name, value, &prop["items"])?;
        } else {
            if pairs.iter().filter(|(n, _)| n == name).count() > 1 {
                return Err(format!("{name}: given more than once but is not a list"));
            }
            check_scalar(name, value, prop)?;
        }
    }
    for required in schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !pairs.iter().any(|(n, _)| n == required) {
            return Err(format!("missing required parameter '{required}'"));
        }
    }
    Ok(())
}

/// Validates a form body for `operation_id`, plus the rules Twilio documents in
/// prose that the description does not encode.
pub fn validate(operation_id: &str, form: &[(String, String)]) -> Result<(), String> {
    let op = SPEC["operations"]
        .get(operation_id)
        .ok_or_else(|| format!("unknown operation {operation_id}"))?;
    check_pairs(&op["form"], form)?;
    let has = |n: &str| form.iter().any(|(k, _)| k == n);
    match operation_id {
        "CreateCall" => {
            let sources = ["Url", "Twiml", "ApplicationSid"]
                .iter()
                .filter(|n| has(n))
                .count();
            if sources != 1 {
                return Err("exactly one of Url, Twiml or ApplicationSid is required".into());
            }
            for (k, v) in form.iter().filter(|(k, _)| k == "StatusCallbackEvent") {
                if !["initiated", "ringing", "answered", "completed"].contains(&v.as_str()) {
                    return Err(format!("{k}: '{v}' is not initiated, ringing, answered or completed (send one key per event)"));
                }
            }
            if let Some((_, md)) = form.iter().find(|(k, _)| k == "MachineDetection") {
                if md != "Enable" && md != "DetectMessageEnd" {
                    return Err(format!(
                        "MachineDetection: '{md}' is not Enable or DetectMessageEnd"
                    ));
                }
            }
        }
        "CreateMessage" => {
            if !has("Body") && !has("MediaUrl") && !has("ContentSid") {
                return Err("one of Body, MediaUrl or ContentSid is required".into());
            }
            if !has("From") && !has("MessagingServiceSid") {
                return Err("one of From or MessagingServiceSid is required".into());
            }
        }
        "CreateIncomingPhoneNumber" if has("PhoneNumber") == has("AreaCode") => {
            return Err("exactly one of PhoneNumber or AreaCode is required".into());
        }
        _ => {}
    }
    Ok(())
}

/// Validates query parameters (and the path's AccountSid) of a GET operation.
pub fn validate_query(operation_id: &str, query: &[(String, String)]) -> Result<(), String> {
    let op = SPEC["operations"]
        .get(operation_id)
        .ok_or_else(|| format!("unknown operation {operation_id}"))?;
    let params = op["parameters"]
        .as_array()
        .ok_or("operation has no parameters")?;
    for (name, value) in query {
        let p = params
            .iter()
            .find(|p| p["name"] == name.as_str() && p["in"] == "query")
            .ok_or_else(|| format!("unknown query parameter '{name}'"))?;
        check_scalar(name, value, &p["schema"])?;
    }
    Ok(())
}

/// Validates a path parameter such as AccountSid or Sid.
pub fn validate_path(operation_id: &str, name: &str, value: &str) -> Result<(), String> {
    let op = SPEC["operations"]
        .get(operation_id)
        .ok_or_else(|| format!("unknown operation {operation_id}"))?;
    let p = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name && p["in"] == "path")
        .ok_or_else(|| format!("unknown path parameter {name}"))?;
    check_scalar(name, value, &p["schema"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn good_call() -> Vec<(String, String)> {
        form(&[
            ("To", "+15551234567"),
            ("From", "+15550001111"),
            ("Url", "https://x.test/twilio/voice/incoming?call_id=1"),
            ("Method", "POST"),
            (
                "StatusCallback",
                "https://x.test/twilio/voice/status?call_id=1",
            ),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            ("MachineDetection", "DetectMessageEnd"),
        ])
    }

    #[test]
    fn a_correct_create_call_passes() {
        validate("CreateCall", &good_call()).unwrap();
    }

    #[test]
    fn bad_create_calls_fail_with_the_reason() {
        let with = |k: &str, v: &str| {
            let mut f = good_call();
            f.retain(|(n, _)| n != k);
            f.push((k.into(), v.into()));
            f
        };
        assert!(validate("CreateCall", &with("Bogus", "1"))
            .unwrap_err()
            .contains("Bogus"));
        assert!(validate("CreateCall", &with("MachineDetection", "Sometimes")).is_err());
        assert!(validate("CreateCall", &with("StatusCallbackMethod", "PUT")).is_err());
        assert!(validate(
            "CreateCall",
            &with("StatusCallbackEvent", "initiated ringing")
        )
        .is_err());
        assert!(validate("CreateCall", &with("Timeout", "soon")).is_err());
        assert!(validate("CreateCall", &with("StatusCallback", "/relative")).is_err());
        let mut no_to = good_call();
        no_to.retain(|(n, _)| n != "To");
        assert!(validate("CreateCall", &no_to).unwrap_err().contains("To"));
        let mut twice = good_call();
        twice.push(("Url".into(), "https://x.test/b".into()));
        assert!(validate("CreateCall", &twice).is_err());
    }

    #[test]
    fn update_call_and_messages() {
        validate("UpdateCall", &form(&[("Status", "completed")])).unwrap();
        assert!(validate("UpdateCall", &form(&[("Status", "bogus")])).is_err());
        validate(
            "CreateMessage",
            &form(&[
                ("To", "+15551234567"),
                ("From", "+15550001111"),
                ("Body", "hi"),
            ]),
        )
        .unwrap();
        assert!(validate(
            "CreateMessage",
            &form(&[("To", "+15551234567"), ("From", "+15550001111")])
        )
        .is_err());
        validate_query(
            "ListCall",
            &form(&[("To", "+15551234567"), ("PageSize", "50")]),
        )
        .unwrap();
        assert!(validate_query("ListCall", &form(&[("Nope", "1")])).is_err());
        validate_path(
            "CreateCall",
            "AccountSid",
            "AC0123456789abcdef0123456789abcdef",
        )
        .unwrap();
        assert!(validate_path("CreateCall", "AccountSid", "ACnothex").is_err());
    }

    #[test]
    fn phone_number_operations() {
        let urls = [
            ("VoiceUrl", "https://x.test/twilio/voice/inbound"),
            ("VoiceMethod", "POST"),
            ("SmsUrl", "https://x.test/twilio/sms/incoming"),
            ("StatusCallback", "https://x.test/twilio/voice/status"),
        ];
        let mut buy = form(&urls);
        buy.push(("AreaCode".into(), "415".into()));
        validate("CreateIncomingPhoneNumber", &buy).unwrap();
        buy.push(("PhoneNumber".into(), "+14155550100".into()));
        assert!(validate("CreateIncomingPhoneNumber", &buy).is_err());
        assert!(validate("CreateIncomingPhoneNumber", &form(&urls)).is_err());
        validate("UpdateIncomingPhoneNumber", &form(&urls)).unwrap();
        assert!(validate("UpdateIncomingPhoneNumber", &form(&[("VoiceUrl", "/x")])).is_err());
        assert!(validate(
            "UpdateIncomingPhoneNumber",
            &form(&[("VoiceMethod", "PUT")])
        )
        .is_err());
        validate_query(
            "ListAvailablePhoneNumberLocal",
            &form(&[("AreaCode", "415"), ("Contains", "55"), ("PageSize", "5")]),
        )
        .unwrap();
        assert!(
            validate_query("ListAvailablePhoneNumberLocal", &form(&[("AreaCode", "x")])).is_err()
        );
        validate_path(
            "DeleteIncomingPhoneNumber",
            "Sid",
            "PN0123456789abcdef0123456789abcdef",
        )
        .unwrap();
        assert!(validate_path("DeleteIncomingPhoneNumber", "Sid", "PNx").is_err());
        validate_query("ListIncomingPhoneNumber", &form(&[("PageSize", "50")])).unwrap();
    }

    #[test]
    fn the_account() {
        validate_path("FetchAccount", "Sid", "AC0123456789abcdef0123456789abcdef").unwrap();
        assert!(
            validate_path("FetchAccount", "Sid", "PN0123456789abcdef0123456789abcdef").is_err()
        );
        validate_query(
            "ListIncomingPhoneNumber",
            &form(&[("PhoneNumber", "+15550001111"), ("PageSize", "50")]),
        )
        .unwrap();
        assert!(validate_query("ListIncomingPhoneNumber", &form(&[("Number", "+1")])).is_err());
        assert!(validate_query("ListIncomingPhoneNumber", &form(&[("PageSize", "many")])).is_err());
    }
}
