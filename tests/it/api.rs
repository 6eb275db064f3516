//! The JSON API: authentication, validation that names the field, DNC, health.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn api_requires_the_bearer_token() {
    let app = spawn_app().await;
    let url = format!("{}/api/calls/outbound", app.base_url);
    let body = json!({"to": "+15551234567"});
    let none = app.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = app
        .http
        .post(&url)
        .bearer_auth("wrong-token-wrong-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let err: Value = wrong.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unauthorized");
    let get = app
        .http
        .get(format!("{}/api/dnc/+15551234567", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 401);
    assert!(app.sim.calls().is_empty());
}

#[tokio::test]
async fn bad_input_names_the_field_and_places_no_call() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), 400, "to"),
        (json!({"to": "5551234567"}), 400, "to"),
        (json!({"to": 15551234567u64}), 400, "to"),
        (json!({"to": "+1555"}), 400, "to"),
        (json!({"to": "+15551234567", "flow": "nope"}), 404, ""),
        (json!({"to": "+15551234567", "name": 7}), 400, "name"),
        (
            json!({"to": "+15551234567", "variables": []}),
            400,
            "variables",
        ),
        (
            json!({"to": "+15551234567", "variables": {"unknown": "x"}}),
            400,
            "variables.unknown",
        ),
        (
            json!({"to": "+15551234567", "variables": {"booking_window": {"a": 1}}}),
            400,
            "variables.booking_window",
        ),
        (json!({"to": "+15551234567", "tо": "typo"}), 400, "tо"),
        (json!([1, 2]), 400, "body"),
    ];
    for (body, status, field) in cases {
        let (got, err) = app.place(body.clone()).await;
        assert_eq!(got, status, "{body} -> {err}");
        if !field.is_empty() {
            assert_eq!(err["error"]["field"], field, "{body} -> {err}");
        }
        assert!(
            err["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{err}"
        );
    }
    let resp = app
        .api(Method::POST, "/api/calls/outbound")
        .header("Content-Type", "application/json")
        .body("{\"to\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["field"], "body");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("malformed JSON"));
    assert!(
        app.sim.calls().is_empty(),
        "no Twilio request for bad input"
    );
}

#[tokio::test]
async fn dnc_endpoints_manage_the_list() {
    let app = spawn_app().await;
    let n = "+15554440001";
    let add = |body: Value| app.api(Method::POST, "/api/dnc").json(&body).send();
    let r = add(json!({"number": n})).await.unwrap();
    assert_eq!(r.status(), 201);
    let r = add(json!({"number": n})).await.unwrap();
    assert_eq!(r.status(), 200, "adding twice is fine");
    let r = add(json!({"number": "12"})).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "number");

    let got: Value = app
        .api(Method::GET, &format!("/api/dnc/{n}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["on_list"], true);
    assert_eq!(got["source"], "api");
    assert_eq!(got["number"], "+1***-***-0001");

    let (status, _) = app.place(json!({"to": n})).await;
    assert_eq!(status, 409);

    let r = app
        .api(Method::DELETE, &format!("/api/dnc/{n}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .api(Method::DELETE, &format!("/api/dnc/{n}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let got: Value = app
        .api(Method::GET, &format!("/api/dnc/{n}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["on_list"], false);
    let r = app
        .api(Method::GET, "/api/dnc/not-a-number")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn call_is_found_by_id_and_by_call_sid() {
    let app = spawn_app().await;
    app.sim
        .set_persona("+15554440002", twilio_sim::Persona::Manual);
    let (status, placed) = app.place(json!({"to": "+15554440002", "name": "Ada", "variables": {"booking_window": "tomorrow"}})).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["to"], "+1***-***-0002");
    assert_eq!(placed["from"], "+1***-***-1111");
    assert_eq!(placed["state"], "queued");
    assert!(placed["call_sid"].as_str().unwrap().starts_with("CA"));
    let by_id = app.get_call(placed["call_id"].as_str().unwrap()).await;
    let by_sid = app.get_call(placed["call_sid"].as_str().unwrap()).await;
    assert_eq!(by_id["call"]["call_id"], by_sid["call"]["call_id"]);
    assert_eq!(by_id["call"]["variables"]["booking_window"], "tomorrow");
    assert_eq!(by_id["call"]["flow_id"], "outbound_booking");
    assert_eq!(by_id["call"]["flow_version"].as_str().unwrap().len(), 16);
    let r = app
        .api(Method::GET, "/api/calls/nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let h: Value = app
        .http
        .get(format!("{}/health", app.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h, json!({"ok": true}));
    let r = app
        .http
        .get(format!("{}/ready", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .http
        .get(format!("{}/nope", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("json"));
    // Redis gone: not ready.
    drop(app.redis);
    let r = app
        .http
        .get(format!("{}/ready", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}
