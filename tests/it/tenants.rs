//! Two tenants in one deployment, sealed off from each other: their own
//! numbers, tokens, caller IDs and company names; neither can read or touch
//! the other's calls, campaigns or do-not-call entries; JWTs, token
//! rotation, rate limits, `TENANTS_FILE`, and a callback of one tenant's call
//! arriving through another tenant's number.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::{Line, Persona};

use crate::helpers::{spawn_app_with, TestApp, Twilio, API_TOKEN, VOICE_NUMBER};

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
pub const JWT_SECRET: &str = "test-jwt-secret-0123456789-0123456789";
const ACME_NUMBER: &str = "+15550002001";
const BOLT_NUMBER: &str = "+15550002002";

/// A tenant as a client sees it: its token and id.
pub struct Client {
    pub token: String,
    pub token_id: String,
}

pub async fn spawn() -> TestApp {
    spawn_app_with(|env| {
        env.insert("ADMIN_TOKEN", ADMIN_TOKEN.into());
        env.insert("JWT_SECRET", JWT_SECRET.into());
    })
    .await
}

pub fn admin(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.http
        .request(method, format!("{}{path}", app.base_url))
        .bearer_auth(ADMIN_TOKEN)
}

/// Creates a tenant through the admin API.
pub async fn create_tenant(app: &TestApp, body: Value) -> (Client, Value) {
    let resp = admin(app, Method::POST, "/api/admin/tenants")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let created: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{created}");
    let client = Client {
        token: created["api_token"].as_str().unwrap().into(),
        token_id: created["token_id"].as_str().unwrap().into(),
    };
    (client, created)
}

async fn acme_and_bolt(app: &TestApp) -> (Client, Client) {
    let (acme, _) = create_tenant(
        app,
        json!({"id": "acme", "name": "Acme", "company_name": "Acme Dental",
               "call_purpose": "about your cleaning", "numbers": [ACME_NUMBER],
               "timezone": "America/Chicago"}),
    )
    .await;
    let (bolt, _) = create_tenant(
        app,
        json!({"id": "bolt", "name": "Bolt", "company_name": "Bolt Plumbing",
               "call_purpose": "about your pipes", "numbers": [BOLT_NUMBER]}),
    )
    .await;
    (acme, bolt)
}

/// One request with `token`: status and JSON body.
pub async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .http
        .request(method, format!("{}{path}", app.base_url))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn place_and_finish(app: &TestApp, token: &str, to: &str) -> (Value, twilio_sim::SimCall) {
    app.sim.set_persona(to, Persona::Interested);
    let (status, placed) = call(
        app,
        token,
        Method::POST,
        "/api/calls/outbound",
        Some(json!({"to": to, "name": "Ada"})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let sid = placed["call_sid"].as_str().unwrap();
    let sim_call = app
        .sim
        .wait_finished(sid, Duration::from_secs(20))
        .await
        .expect("call finishes");
    (placed, sim_call)
}

fn said(sim_call: &twilio_sim::SimCall) -> String {
    sim_call
        .transcript
        .iter()
        .filter_map(|l| match l {
            Line::Said(s) => Some(s.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn each_tenant_calls_with_its_own_number_company_and_purpose() {
    let app = spawn().await;
    let (acme, bolt) = acme_and_bolt(&app).await;
    let (a_placed, a_call) = place_and_finish(&app, &acme.token, "+15557770001").await;
    let (_, b_call) = place_and_finish(&app, &bolt.token, "+15557770002").await;
    assert_eq!(a_call.from, ACME_NUMBER);
    assert_eq!(b_call.from, BOLT_NUMBER);
    assert!(said(&a_call).contains("Acme Dental"), "{}", said(&a_call));
    assert!(!said(&a_call).contains("Bolt"), "{}", said(&a_call));
    assert!(said(&b_call).contains("Bolt Plumbing"), "{}", said(&b_call));
    // Callback URLs name the tenant (signed with the URL by Twilio).
    assert!(a_call.url.contains("tenant=acme"), "{}", a_call.url);
    let (status, a_view) = call(
        &app,
        &acme.token,
        Method::GET,
        &format!("/api/calls/{}", a_placed["call_id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(a_view["call"]["tenant"], "acme");
    assert_eq!(a_view["call"]["status"], "completed", "{a_view}");
    // The configured tenant (API_TOKEN) still calls from TWILIO_VOICE_NUMBER.
    let (_, d_call) = place_and_finish(&app, API_TOKEN, "+15557770003").await;
    assert_eq!(d_call.from, VOICE_NUMBER);
    assert!(!d_call.url.contains("tenant="), "{}", d_call.url);

    // `from` may name one of the tenant's numbers, never another's.
    let (status, refused) = call(
        &app,
        &acme.token,
        Method::POST,
        "/api/calls/outbound",
        Some(json!({"to": "+15557770004", "from": BOLT_NUMBER})),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["field"], "from");
}

#[tokio::test]
async fn a_campaign_of_each_tenant_runs_with_its_own_caller_id() {
    let app = spawn().await;
    let (acme, bolt) = acme_and_bolt(&app).await;
    let mut ids = Vec::new();
    for (client, base) in [(&acme, 8880000), (&bolt, 8890000)] {
        let contacts: Vec<Value> = (0..3)
            .map(|i| json!({"to": format!("+1555{}", base + i), "name": "Ada"}))
            .collect();
        let (status, created) = call(
            &app,
            &client.token,
            Method::POST,
            "/api/calls/outbound",
            Some(json!({"contacts": contacts, "calls_per_second": 10})),
        )
        .await;
        assert_eq!(status, 202, "{created}");
        ids.push(created["campaign_id"].as_str().unwrap().to_string());
    }
    for (client, id) in [(&acme, &ids[0]), (&bolt, &ids[1])] {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (_, c) = call(
                &app,
                &client.token,
                Method::GET,
                &format!("/api/campaigns/{id}"),
                None,
            )
            .await;
            if c["status"] == "completed" {
                assert_eq!(c["counts"]["done"], 3, "{c}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{c}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let calls = app.sim.calls();
    assert_eq!(calls.len(), 6);
    for c in calls {
        let expected = if c.to.starts_with("+155588800") {
            ACME_NUMBER
        } else {
            BOLT_NUMBER
        };
        assert_eq!(c.from, expected, "{}", c.to);
    }
}

/// Every `/api` route that takes an id of the tenant's data, with the
/// placeholders `{call_id}`, `{call_sid}`, `{campaign_id}` and `{number}`.
/// A new route goes here: the test tries it with the other tenant's ids.
const SCOPED_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/calls/{call_id}"),
    ("GET", "/api/calls/{call_sid}"),
    ("GET", "/api/calls/{call_id}/recording"),
    ("GET", "/api/campaigns/{campaign_id}"),
    ("GET", "/api/campaigns/{campaign_id}/calls"),
    ("POST", "/api/campaigns/{campaign_id}/pause"),
    ("POST", "/api/campaigns/{campaign_id}/resume"),
    ("POST", "/api/campaigns/{campaign_id}/cancel"),
    ("DELETE", "/api/dnc/{number}"),
    ("DELETE", "/api/numbers/{own_number}"),
    ("GET", "/api/notifications/{notification_id}"),
];

/// Lists that must hold only the caller's own items.
const SCOPED_LISTS: &[&str] = &[
    "/api/calls",
    "/api/calls?direction=outbound",
    "/api/numbers",
    "/api/campaigns/{campaign_id}/calls",
    "/api/notifications",
];

#[tokio::test]
async fn neither_tenant_can_read_or_touch_the_others_calls_campaigns_or_dnc() {
    let app = spawn().await;
    let (acme, bolt) = acme_and_bolt(&app).await;
    let (placed, _) = place_and_finish(&app, &acme.token, "+15557771001").await;
    // A campaign that waits: paused at once, so it is still there to touch.
    app.sim.set_default_persona(Persona::Interested);
    let contacts: Vec<Value> = (0..3)
        .map(|i| json!({"to": format!("+155577720{i:02}")}))
        .collect();
    let (status, created) = call(
        &app,
        &acme.token,
        Method::POST,
        "/api/calls/outbound",
        Some(json!({"contacts": contacts, "calls_per_second": 0.1})),
    )
    .await;
    assert_eq!(status, 202, "{created}");
    let campaign_id = created["campaign_id"].as_str().unwrap();
    let (status, _) = call(
        &app,
        &acme.token,
        Method::POST,
        &format!("/api/campaigns/{campaign_id}/pause"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let dnc = "+15557773333";
    let (status, _) = call(
        &app,
        &acme.token,
        Method::POST,
        "/api/dnc",
        Some(json!({"number": dnc})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, texted) = call(
        &app,
        &acme.token,
        Method::POST,
        "/api/sms",
        Some(json!({"to": "+15557774444", "body": "See you Friday"})),
    )
    .await;
    assert_eq!(status, 202, "{texted}");

    let fill = |route: &str| {
        route
            .replace("{call_id}", placed["call_id"].as_str().unwrap())
            .replace("{call_sid}", placed["call_sid"].as_str().unwrap())
            .replace("{campaign_id}", campaign_id)
            .replace("{number}", dnc)
            .replace("{own_number}", ACME_NUMBER)
            .replace(
                "{notification_id}",
                texted["notification_id"].as_str().unwrap(),
            )
    };
    for (method, route) in SCOPED_ROUTES {
        let path = fill(route);
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let (status, body) = call(&app, &bolt.token, method.clone(), &path, None).await;
        assert_eq!(status, 404, "{method} {path} as bolt: {body}");
        let text = body.to_string();
        assert!(
            !text.contains("Acme") && !text.contains("+1555777"),
            "{text}"
        );
    }
    // Bolt's lists hold nothing of Acme's: not its call, its number or its campaign's calls.
    for route in SCOPED_LISTS {
        let path = fill(route);
        let (status, body) = call(&app, &bolt.token, Method::GET, &path, None).await;
        let text = body.to_string();
        assert!(
            !text.contains(placed["call_id"].as_str().unwrap()) && !text.contains(ACME_NUMBER),
            "GET {path} as bolt ({status}) shows Acme's data: {text}"
        );
    }
    // Acme's own list does show its call and number, so the check above can fail.
    let (_, mine) = call(&app, &acme.token, Method::GET, "/api/calls", None).await;
    assert!(
        mine.to_string()
            .contains(placed["call_id"].as_str().unwrap()),
        "{mine}"
    );
    let (_, mine) = call(&app, &acme.token, Method::GET, "/api/numbers", None).await;
    assert!(mine.to_string().contains(ACME_NUMBER), "{mine}");
    // Bolt's list is its own: the number is not on it, and adding it there
    // leaves Acme's entry alone.
    let (_, on) = call(
        &app,
        &bolt.token,
        Method::GET,
        &format!("/api/dnc/{dnc}"),
        None,
    )
    .await;
    assert_eq!(on["on_list"], false, "{on}");

    // Acme's data is as it was.
    let (status, c) = call(
        &app,
        &acme.token,
        Method::GET,
        &format!("/api/campaigns/{campaign_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(c["status"], "paused", "{c}");
    let (_, on) = call(
        &app,
        &acme.token,
        Method::GET,
        &format!("/api/dnc/{dnc}"),
        None,
    )
    .await;
    assert_eq!(on["on_list"], true, "{on}");
    let (status, _) = call(
        &app,
        &acme.token,
        Method::GET,
        &format!("/api/calls/{}", placed["call_id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    // Nor does the configured tenant see Acme's call.
    let (status, _) = call(
        &app,
        API_TOKEN,
        Method::GET,
        &format!("/api/calls/{}", placed["call_id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_number_belongs_to_one_tenant() {
    let app = spawn().await;
    let (_acme, _bolt) = acme_and_bolt(&app).await;
    let resp = admin(&app, Method::POST, "/api/admin/tenants")
        .json(&json!({"id": "cobalt", "name": "C", "company_name": "C", "numbers": [ACME_NUMBER]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["field"], "numbers", "{body}");
    // Nothing was created.
    let resp = admin(&app, Method::GET, "/api/admin/tenants/cobalt")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // Nor can a change take it, or the configured tenant's number.
    for number in [ACME_NUMBER, VOICE_NUMBER] {
        let resp = admin(&app, Method::PATCH, "/api/admin/tenants/bolt")
            .json(&json!({"numbers": [BOLT_NUMBER, number]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 409, "{number}");
    }
    let resp = admin(&app, Method::GET, "/api/admin/tenants/bolt")
        .send()
        .await
        .unwrap();
    let bolt: Value = resp.json().await.unwrap();
    assert_eq!(bolt["tenant"]["numbers"], json!([BOLT_NUMBER]));
    // Once released, another tenant may hold it.
    let resp = admin(&app, Method::PATCH, "/api/admin/tenants/acme")
        .json(&json!({"numbers": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = admin(&app, Method::PATCH, "/api/admin/tenants/bolt")
        .json(&json!({"numbers": [BOLT_NUMBER, ACME_NUMBER]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn the_admin_api_validates_and_answers_json() {
    let app = spawn().await;
    // Tenant tokens are not admin tokens, and the other way round.
    let (status, _) = call(&app, API_TOKEN, Method::GET, "/api/admin/tenants", None).await;
    assert_eq!(status, 401);
    let (status, _) = call(&app, ADMIN_TOKEN, Method::GET, "/api/stats", None).await;
    assert_eq!(status, 401);
    for (body, field) in [
        (
            json!({"id": "Acme", "name": "A", "company_name": "A"}),
            "id",
        ),
        (json!({"id": "acme", "company_name": "A"}), "name"),
        (
            json!({"id": "acme", "name": "A", "company_name": "A", "timezone": "Mars/Base"}),
            "timezone",
        ),
        (
            json!({"id": "acme", "name": "A", "company_name": "A", "numbers": ["555"]}),
            "numbers[0]",
        ),
        (
            json!({"id": "acme", "name": "A", "company_name": "A", "business_hours": {"mon": [["17:00", "09:00"]]}}),
            "business_hours",
        ),
        (
            json!({"id": "acme", "name": "A", "company_name": "A", "events_url": "ftp://x"}),
            "events_url",
        ),
        (
            json!({"id": "acme", "name": "A", "company_name": "A", "max_cps": -1}),
            "max_cps",
        ),
        (
            json!({"id": "acme", "name": "A", "company_name": "A", "colour": "red"}),
            "colour",
        ),
        (
            json!({"id": "default", "name": "A", "company_name": "A"}),
            "id",
        ),
    ] {
        let resp = admin(&app, Method::POST, "/api/admin/tenants")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap();
        assert!(matches!(status, 400 | 409), "{body}: {status} {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (acme, created) = create_tenant(
        &app,
        json!({"id": "acme", "name": "Acme", "company_name": "Acme",
               "business_hours": {"mon": [["09:00", "17:00"]], "sat": []},
               "forward_to": "+15550003000", "events_url": "http://127.0.0.1:9/events"}),
    )
    .await;
    assert!(created["events_secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    assert_eq!(
        created["tenant"]["business_hours"]["mon"],
        json!([["09:00", "17:00"]])
    );
    // The same id again: 409.
    let resp = admin(&app, Method::POST, "/api/admin/tenants")
        .json(&json!({"id": "acme", "name": "A", "company_name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    // A change; null clears.
    let resp = admin(&app, Method::PATCH, "/api/admin/tenants/acme")
        .json(&json!({"company_name": "Acme Dental", "forward_to": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let changed: Value = resp.json().await.unwrap();
    assert_eq!(changed["tenant"]["company_name"], "Acme Dental");
    assert_eq!(changed["tenant"]["forward_to"], Value::Null);
    let list: Value = admin(&app, Method::GET, "/api/admin/tenants")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme", "default"]);
    // Tokens are never shown again, and never stored as given.
    let detail = admin(&app, Method::GET, "/api/admin/tenants/acme")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !detail.contains(&acme.token) && detail.contains(&acme.token_id),
        "{detail}"
    );
    let mut redis = redis::Client::open(app.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut redis)
        .await
        .unwrap();
    for key in keys {
        let dump: Vec<u8> = redis::cmd("DUMP")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&dump).contains(&acme.token),
            "{key}"
        );
    }
    // Deleted: its token no longer works.
    let resp = admin(&app, Method::DELETE, "/api/admin/tenants/acme")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, _) = call(&app, &acme.token, Method::GET, "/api/stats", None).await;
    assert_eq!(status, 401);
    let resp = admin(&app, Method::DELETE, "/api/admin/tenants/default")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn tokens_rotate_without_downtime() {
    let app = spawn().await;
    let (acme, _) = acme_and_bolt(&app).await;
    let resp = admin(&app, Method::POST, "/api/admin/tenants/acme/tokens")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let second: Value = resp.json().await.unwrap();
    let second_token = second["api_token"].as_str().unwrap();
    assert_ne!(second_token, acme.token);
    for token in [acme.token.as_str(), second_token] {
        let (status, _) = call(&app, token, Method::GET, "/api/dnc/+15550009000", None).await;
        assert_eq!(status, 200);
    }
    let resp = admin(
        &app,
        Method::DELETE,
        &format!("/api/admin/tenants/acme/tokens/{}", acme.token_id),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, body) = call(
        &app,
        &acme.token,
        Method::GET,
        "/api/dnc/+15550009000",
        None,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = call(
        &app,
        second_token,
        Method::GET,
        "/api/dnc/+15550009000",
        None,
    )
    .await;
    assert_eq!(status, 200);
    // Revoking what is not there: 404.
    let resp = admin(
        &app,
        Method::DELETE,
        &format!("/api/admin/tenants/acme/tokens/{}", acme.token_id),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 404);
}

fn jwt(claims: Value, secret: &str, alg: jsonwebtoken::Algorithm) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn jwts_signed_with_jwt_secret_act_for_their_tenant() {
    use base64::Engine;
    use jsonwebtoken::Algorithm::{HS256, HS384};
    let app = spawn().await;
    let (acme, _) = acme_and_bolt(&app).await;
    let now = chrono::Utc::now().timestamp();
    let good = jwt(
        json!({"tenant_id": "acme", "exp": now + 300}),
        JWT_SECRET,
        HS256,
    );
    // Written with the JWT, read with the tenant's token: the same tenant.
    let (status, body) = call(
        &app,
        &good,
        Method::POST,
        "/api/dnc",
        Some(json!({"number": "+15550009001"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, on) = call(
        &app,
        &acme.token,
        Method::GET,
        "/api/dnc/+15550009001",
        None,
    )
    .await;
    assert_eq!(on["on_list"], true);
    let (_, on) = call(&app, API_TOKEN, Method::GET, "/api/dnc/+15550009001", None).await;
    assert_eq!(on["on_list"], false);
    // `Bearer` in any case.
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let resp = app
            .http
            .get(format!("{}/api/dnc/+15550009001", app.base_url))
            .header("Authorization", format!("{scheme} {good}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{scheme}");
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(json!({"tenant_id": "acme", "exp": now + 300}).to_string())
    );
    for (name, token, code) in [
        (
            "expired",
            jwt(
                json!({"tenant_id": "acme", "exp": now - 120}),
                JWT_SECRET,
                HS256,
            ),
            "token_expired",
        ),
        (
            "bad signature",
            jwt(
                json!({"tenant_id": "acme", "exp": now + 300}),
                "another-secret-another-secret-123",
                HS256,
            ),
            "unauthorized",
        ),
        (
            "another algorithm",
            jwt(
                json!({"tenant_id": "acme", "exp": now + 300}),
                JWT_SECRET,
                HS384,
            ),
            "unauthorized",
        ),
        ("alg none", none, "unauthorized"),
        (
            "no exp",
            jwt(json!({"tenant_id": "acme"}), JWT_SECRET, HS256),
            "unauthorized",
        ),
        (
            "no such tenant",
            jwt(
                json!({"tenant_id": "nobody", "exp": now + 300}),
                JWT_SECRET,
                HS256,
            ),
            "unauthorized",
        ),
    ] {
        let (status, body) = call(&app, &token, Method::GET, "/api/dnc/+15550009001", None).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(body["error"]["code"], code, "{name}: {body}");
    }
}

#[tokio::test]
async fn over_the_rate_limit_answers_429_then_recovers() {
    let app = spawn_app_with(|env| {
        env.insert("ADMIN_TOKEN", ADMIN_TOKEN.into());
        env.insert("API_RATE_LIMIT_PER_S", "2".into());
        env.insert("API_RATE_LIMIT_BURST", "3".into());
    })
    .await;
    let (acme, _) = acme_and_bolt(&app).await;
    let get = |token: String| {
        let app = &app;
        async move { call(app, &token, Method::GET, "/api/dnc/+15550009002", None).await }
    };
    for _ in 0..3 {
        assert_eq!(get(API_TOKEN.into()).await.0, 200);
    }
    let resp = app
        .api(Method::GET, "/api/dnc/+15550009002")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another token has its own limit.
    assert_eq!(get(acme.token.clone()).await.0, 200);
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(get(API_TOKEN.into()).await.0, 200);

    // A tenant's own limit from its record.
    let resp = admin(&app, Method::PATCH, "/api/admin/tenants/acme")
        .json(&json!({"api_rate_limit_per_s": 0.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(get(acme.token.clone()).await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn the_client_address_has_a_limit_of_its_own() {
    let app = spawn_app_with(|env| {
        env.insert("API_RATE_LIMIT_PER_S", "0".into());
        env.insert("API_RATE_LIMIT_BURST", "2".into());
        env.insert("API_IP_RATE_LIMIT_PER_S", "1".into());
    })
    .await;
    let mut statuses = Vec::new();
    for token in [API_TOKEN, "wrong-token-wrong-token", API_TOKEN] {
        statuses.push(call(&app, token, Method::GET, "/api/stats", None).await.0);
    }
    // Bad tokens count too: guessing is as slow as using.
    assert_eq!(statuses, [200, 401, 429]);
}

#[tokio::test]
async fn a_callback_of_one_tenants_call_through_anothers_number_changes_nothing() {
    let app = spawn().await;
    let (acme, _bolt) = acme_and_bolt(&app).await;
    let to = "+15557774001";
    app.sim.set_persona(to, Persona::Manual);
    let (status, placed) = call(
        &app,
        &acme.token,
        Method::POST,
        "/api/calls/outbound",
        Some(json!({"to": to})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let call_id = placed["call_id"].as_str().unwrap();
    let tw = Twilio::new(&app.base_url, call_id, placed["call_sid"].as_str().unwrap());
    let path = format!("/api/calls/{call_id}");
    let version = || async {
        call(&app, &acme.token, Method::GET, &path, None).await.1["call"]["version"].clone()
    };
    let before = version().await;
    let answer = [
        ("CallStatus", "in-progress"),
        ("AnsweredBy", "human"),
        ("To", to),
    ];
    let mut params = tw.params(&answer);
    params.retain(|(k, _)| k != "From" && k != "To");
    params.push(("To".into(), to.into()));
    // Through Bolt's number: refused politely, nothing changes.
    let mut through_bolt = params.clone();
    through_bolt.push(("From".into(), BOLT_NUMBER.into()));
    let (status, twiml) = tw
        .client
        .post(&tw.url("incoming", "&tenant=acme"), &through_bolt)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(!twiml.contains("Acme"), "{twiml}");
    assert_eq!(version().await, before);
    // A tenant that does not exist: refused politely, nothing changes.
    let (status, twiml) = tw
        .client
        .post(
            &tw.url("incoming", "&tenant=nobody"),
            &through_acme_params(&params),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(!twiml.contains("<Gather"), "{twiml}");
    assert_eq!(version().await, before);
    // Without the tenant in the URL it is the configured tenant's: no such call.
    let mut through_acme = params.clone();
    through_acme.push(("From".into(), ACME_NUMBER.into()));
    let (status, _) = tw
        .client
        .post(&tw.url("incoming", ""), &through_acme)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(version().await, before);
    // Through Acme's own number with Acme named: handled.
    let (status, twiml) = tw
        .client
        .post(&tw.url("incoming", "&tenant=acme"), &through_acme)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(twiml.contains("Acme Dental"), "{twiml}");
    assert_ne!(version().await, before);
}

fn through_acme_params(params: &[(String, String)]) -> Vec<(String, String)> {
    let mut p = params.to_vec();
    p.push(("From".into(), ACME_NUMBER.into()));
    p
}

#[tokio::test]
async fn numbers_added_and_removed_through_the_tenant_are_its_caller_ids() {
    use callflow::phone::E164;
    use callflow::tenant::admin;
    let app = spawn_app_with(|env| {
        env.insert("ADMIN_TOKEN", ADMIN_TOKEN.into());
    })
    .await;
    let (acme, bolt) = acme_and_bolt(&app).await;
    let _ = bolt;
    let tenants = app.tenants.clone();
    let extra = E164::parse("+15550002003").unwrap();
    admin::add_number(&tenants, "acme", &extra).await.unwrap();
    // Bolt cannot take it.
    assert!(matches!(
        admin::add_number(&tenants, "bolt", &extra).await,
        Err(admin::TenantError::NumberHeld(_))
    ));
    // Acme may call from it now.
    let to = "+15557775001";
    app.sim.set_persona(to, Persona::Interested);
    let (status, placed) = call(
        &app,
        &acme.token,
        Method::POST,
        "/api/calls/outbound",
        Some(json!({"to": to, "from": "+15550002003"})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let sim_call = app
        .sim
        .wait_finished(
            placed["call_sid"].as_str().unwrap(),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(sim_call.from, "+15550002003");
    admin::remove_number(&tenants, "acme", &extra)
        .await
        .unwrap();
    let (status, _) = call(
        &app,
        &acme.token,
        Method::POST,
        "/api/calls/outbound",
        Some(json!({"to": "+15557775002", "from": "+15550002003"})),
    )
    .await;
    assert_eq!(status, 422);
    admin::add_number(&tenants, "bolt", &extra).await.unwrap();
}

/// The limits live in Redis: two instances behind one address share one
/// token's budget, so a client cannot double its rate by spreading requests.
#[tokio::test]
async fn the_rate_limit_holds_across_two_instances() {
    let redis = callflow::redis_server::RedisServer::start().unwrap();
    let sim = crate::helpers::start_sim().await;
    let (mut env, port_a, port_b) = crate::helpers::behind_one_address(&sim, &redis.url());
    env.insert("API_RATE_LIMIT_PER_S", "0.1".into());
    env.insert("API_RATE_LIMIT_BURST", "4".into());
    let workdir = std::env::temp_dir();
    let _a = crate::helpers::serve_process(&env, port_a, &workdir).await;
    let _b = crate::helpers::serve_process(&env, port_b, &workdir).await;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for port in [port_a, port_b, port_a, port_b, port_a, port_b] {
        let resp = http
            .get(format!("http://127.0.0.1:{port}/api/stats"))
            .bearer_auth(API_TOKEN)
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    // A burst of four in all, not four on each instance.
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
}

/// Deleting a tenant stops its background work: its running campaign is
/// dialed no more once the instance has read the tenants again.
#[tokio::test]
async fn a_deleted_tenants_campaign_is_dialed_no_more() {
    let app = spawn().await;
    app.sim.set_default_persona(Persona::Busy);
    let (acme, _) = acme_and_bolt(&app).await;
    let contacts: Vec<Value> = (0..60)
        .map(|i| json!({"to": format!("+1555341{i:04}")}))
        .collect();
    let (status, created) = call(
        &app,
        &acme.token,
        Method::POST,
        "/api/calls/outbound",
        Some(json!({"contacts": contacts, "calls_per_second": 2})),
    )
    .await;
    assert_eq!(status, 202, "{created}");
    let dials = || {
        app.sim
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/Calls.json"))
            .count()
    };
    // Dialing has begun.
    let start = std::time::Instant::now();
    while dials() < 2 {
        assert!(start.elapsed() < Duration::from_secs(30), "campaign dials");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resp = admin(&app, Method::DELETE, "/api/admin/tenants/acme")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    // Within one refresh of the registry (plus a dial already under way) the
    // tasks stop; then nothing more is dialed.
    tokio::time::sleep(callflow::tenant::tasks::REFRESH + Duration::from_secs(2)).await;
    let after = dials();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(dials(), after, "no dial after the tenant was deleted");
    assert!(after < 60, "the campaign had not finished: {after} dials");
    // Its token is gone too.
    let (status, _) = call(&app, &acme.token, Method::GET, "/api/stats", None).await;
    assert_eq!(status, 401);
}

/// Behind a trusted balancer each client keeps its own address limit (read
/// from `X-Forwarded-For`); from anyone else that header is ignored.
#[tokio::test]
async fn a_trusted_proxy_names_the_client_for_the_address_limit() {
    let statuses = |trusted: &'static str| async move {
        let app = spawn_app_with(|env| {
            env.insert("API_RATE_LIMIT_PER_S", "0".into());
            env.insert("API_RATE_LIMIT_BURST", "2".into());
            env.insert("API_IP_RATE_LIMIT_PER_S", "1".into());
            env.insert("TRUSTED_PROXIES", trusted.into());
        })
        .await;
        let mut statuses = Vec::new();
        for client in [
            "198.51.100.1",
            "198.51.100.2",
            "198.51.100.3",
            "198.51.100.1",
        ] {
            let resp = app
                .api(Method::GET, "/api/stats")
                .header("X-Forwarded-For", client)
                .send()
                .await
                .unwrap();
            statuses.push(resp.status().as_u16());
        }
        statuses
    };
    // Three clients, one request each, then the first again (burst 2).
    assert_eq!(statuses("127.0.0.1").await, [200, 200, 200, 200]);
    // Not trusted: all four are the test's own address.
    assert_eq!(statuses("10.0.0.0/8").await, [200, 200, 429, 429]);
}
