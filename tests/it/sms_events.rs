//! Events to the tenant's `events_url`: relayed from the outbox, retried
//! when the receiver fails, signed with the Standard Webhooks scheme
//! (verified here with the scheme's own library), and never sent to a
//! private address unless ALLOW_PRIVATE_WEBHOOKS.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::sms::{route_texts, spawn, text};
use crate::tenants::{admin, create_tenant, ADMIN_TOKEN};

/// One delivery as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: http::HeaderMap,
    pub body: String,
    pub accepted: bool,
}

pub type Log = Arc<Mutex<Vec<Delivery>>>;

/// A receiver that fails the first `fail_first` deliveries (500), then accepts.
pub fn receiver(fail_first: usize) -> (String, Log) {
    let log: Log = Arc::default();
    let l = log.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/events",
        listener.local_addr().unwrap().port()
    );
    let server = HttpServer::new(move || {
        let l = l.clone();
        App::new().route(
            "/events",
            web::post().to(move |req: HttpRequest, body: String| {
                let l = l.clone();
                async move {
                    let mut log = l.lock().unwrap();
                    let accepted = log.len() >= fail_first;
                    let mut headers = http::HeaderMap::new();
                    for (name, value) in req.headers() {
                        headers.insert(
                            http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
                            http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
                        );
                    }
                    log.push(Delivery {
                        headers,
                        body,
                        accepted,
                    });
                    if accepted {
                        HttpResponse::Ok().finish()
                    } else {
                        HttpResponse::InternalServerError().finish()
                    }
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (url, log)
}

pub async fn wait_accepted(log: &Log, n: usize, secs: u64) -> Vec<Delivery> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let seen = log.lock().unwrap().clone();
        if seen.iter().filter(|d| d.accepted).count() >= n {
            return seen;
        }
        assert!(Instant::now() < deadline, "not delivered: {seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn events_reach_the_tenant_after_two_failures_signed_with_its_secret() {
    let app = spawn().await;
    let (url, log) = receiver(2);
    let number = "+15550004001";
    let (_, created) = create_tenant(
        &app,
        json!({"id": "spa", "name": "Spa", "company_name": "Spa Ten",
               "numbers": [number], "events_url": url}),
    )
    .await;
    let secret = created["events_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    route_texts(&app, number);
    let reply = text(&app, "+15557080001", number, "Do you open Sunday?", None).await;
    let seen = wait_accepted(&log, 1, 30).await;
    assert_eq!(seen.len(), 3, "two failures, then the delivery");
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    let ids: Vec<&str> = seen
        .iter()
        .map(|d| d.headers["webhook-id"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one id on every attempt: {ids:?}"
    );
    let delivered = seen.last().unwrap();
    verifier
        .verify(delivered.body.as_bytes(), &delivered.headers)
        .expect("the Standard Webhooks signature verifies with the tenant's secret");
    let wrong = standardwebhooks::Webhook::new("whsec_aG9vay1zZWNyZXQ=").unwrap();
    assert!(wrong
        .verify(delivered.body.as_bytes(), &delivered.headers)
        .is_err());
    let event: Value = serde_json::from_str(&delivered.body).unwrap();
    assert_eq!(event["type"], "sms.received");
    assert_eq!(event["id"], ids[0]);
    assert_eq!(event["tenant"], "spa");
    assert_eq!(event["data"]["body"], "Do you open Sunday?");
    assert_eq!(event["data"]["from"], "+15557080001");
    assert_eq!(event["data"]["message_sid"], reply.message_sid.as_str());

    // An opt-out and the status of a text sent are told too.
    text(&app, "+15557080002", number, "STOP", None).await;
    let resp = app
        .http
        .post(format!("{}/api/sms", app.base_url))
        .bearer_auth(created["api_token"].as_str().unwrap())
        .json(&json!({"to": "+15557080003", "body": "Reminder"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(20);
    let types = loop {
        let types: Vec<String> = log
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.accepted)
            .map(|d| {
                serde_json::from_str::<Value>(&d.body).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let statuses = types.iter().filter(|t| *t == "notification.status").count();
        if types.contains(&"sms.opt_out".to_string()) && statuses >= 2 {
            break types;
        }
        assert!(Instant::now() < deadline, "{types:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        types.iter().filter(|t| *t == "sms.opt_out").count(),
        1,
        "{types:?}"
    );
}

#[tokio::test]
async fn private_events_urls_are_refused_when_set_and_at_delivery() {
    // Set through the admin API: 400 naming the field.
    let app: TestApp = spawn_app_with(|env| {
        env.insert("ADMIN_TOKEN", ADMIN_TOKEN.into());
        env.insert("ALLOW_PRIVATE_WEBHOOKS", "false".into());
    })
    .await;
    for url in [
        "http://127.0.0.1:9/events",
        "http://169.254.169.254/latest",
        "http://localhost/x",
    ] {
        let resp = admin(&app, Method::POST, "/api/admin/tenants")
            .json(
                &json!({"id": "shop", "name": "Shop", "company_name": "Shop",
                          "events_url": url}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{url}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["field"], "events_url", "{body}");
    }

    // A URL that was accepted (here: by the tenants file, which this
    // deployment trusts) is checked again at each delivery and refused.
    let (url, log) = receiver(0);
    let dir = std::env::temp_dir().join(format!("callflow-sms-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tenants.toml");
    std::fs::write(
        &file,
        format!(
            "[[tenants]]\nid = \"shop\"\nname = \"Shop\"\ncompany_name = \"Shop\"\n\
             numbers = [\"+15550005001\"]\nevents_url = \"{url}\"\n"
        ),
    )
    .unwrap();
    let app: TestApp = spawn_app_with(|env| {
        env.insert("ALLOW_PRIVATE_WEBHOOKS", "false".into());
        env.insert("TENANTS_FILE", file.display().to_string());
    })
    .await;
    route_texts(&app, "+15550005001");
    text(&app, "+15557090001", "+15550005001", "hello", None).await;
    // The first attempts (now, then 1 s later) are refused before any request.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        log.lock().unwrap().is_empty(),
        "a private address was reached"
    );
    let shop = app.tenants.get("shop").unwrap();
    assert_eq!(
        shop.app.store.outbox_len().await.unwrap(),
        1,
        "kept for a retry"
    );
}
