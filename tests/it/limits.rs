//! Bodies over a route's limit are refused before they are read: JSON errors
//! on the API, 403 or 413 on webhooks (never a TwiML goodbye), and nothing
//! changes.

use reqwest::Method;

use crate::helpers::{spawn_app, AUTH_TOKEN};

#[tokio::test]
async fn an_api_body_over_the_limit_answers_json_413() {
    let app = spawn_app().await;
    let body = vec![b' '; 65 * 1024 * 1024];
    let resp = app
        .api(Method::POST, "/api/calls/outbound")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let json: serde_json::Value = resp.json().await.expect("a JSON error");
    assert_eq!(json["error"]["code"], "payload_too_large", "{json}");
    assert_eq!(json["error"]["field"], "body", "{json}");
    assert!(app.sim.calls().is_empty());
}

#[tokio::test]
async fn oversized_webhooks_are_refused_unsigned_403_signed_413() {
    let app = spawn_app().await;
    let url = format!("{}/twilio/voice/status?call_id=nope", app.base_url);
    let big = vec![("Junk".to_string(), "x".repeat(300 * 1024))];
    let unsigned = app.http.post(&url).form(&big).send().await.unwrap();
    assert_eq!(unsigned.status(), 403);
    let sig = callflow::twilio::signature::sign(AUTH_TOKEN, &url, &big);
    let signed = app
        .http
        .post(&url)
        .header("X-Twilio-Signature", sig)
        .form(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 413);
    let text = signed.text().await.unwrap();
    assert!(
        !text.contains("<Say"),
        "no goodbye for an oversized body: {text}"
    );
}

#[tokio::test]
async fn contacts_past_the_limit_stop_the_parse_with_a_field_named_400() {
    let app = spawn_app().await;
    // 250,001 contacts, then bytes that are not JSON: the contact past the
    // limit ends the read, so the refusal names `contacts`, not the syntax.
    let mut body = String::from(r#"{"contacts": ["#);
    for i in 0..=250_000u32 {
        body.push_str(&format!(r#"{{"to": "+1212{:07}"}},"#, i));
    }
    body.push_str("and then no JSON at all");
    let resp = app
        .api(Method::POST, "/api/calls/outbound")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let json: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(json["error"]["code"], "invalid_request", "{json}");
    assert_eq!(json["error"]["field"], "contacts", "{json}");
    assert_eq!(
        json["error"]["message"], "contacts: at most 250000 contacts per campaign",
        "{json}"
    );
    assert!(app.sim.calls().is_empty());
}

#[tokio::test]
async fn a_do_not_call_body_over_its_small_limit_answers_json_413() {
    let app = spawn_app().await;
    let body = format!(
        r#"{{"number": "+15551234567", "pad": "{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let resp = app
        .api(Method::POST, "/api/dnc")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let json: serde_json::Value = resp.json().await.expect("a JSON error");
    assert_eq!(json["error"]["code"], "payload_too_large", "{json}");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 KiB"),
        "{json}"
    );
    let listed = app
        .api(Method::GET, "/api/dnc/+15551234567")
        .send()
        .await
        .unwrap();
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(listed["on_list"], false, "nothing was listed: {listed}");
}
