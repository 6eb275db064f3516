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
