//! `TENANTS_FILE`: tenants loaded at startup, tokens given as hashes or env
//! var names, and errors that name the file, the tenant and the field.

use std::net::TcpListener;

use callflow::config;
use callflow::redis_server::RedisServer;
use callflow::startup::Application;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{env_for, start_sim, API_TOKEN};

const FILE_TOKEN: &str = "acme-file-token-0123456789";
const ENV_TOKEN: &str = "acme-env-token-0123456789";

fn sha256(s: &str) -> String {
    callflow::store::sha256_hex(s.as_bytes())
}

fn write_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "callflow-tenants-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn acme(extra: &str) -> String {
    format!(
        "[[tenants]]\nid = \"acme\"\nname = \"Acme\"\ncompany_name = \"Acme Dental\"\n\
         numbers = [\"+15550002001\"]\n{extra}\
         tokens = [{{ sha256 = \"{}\" }}, {{ env = \"ACME_TOKEN\" }}]\n",
        sha256(FILE_TOKEN)
    )
}

/// One request with `token`: status and JSON body.
async fn call(
    base_url: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base_url}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Builds the app with `file` as `TENANTS_FILE`, or says why it would not start.
async fn build(
    file: &std::path::Path,
    redis: &RedisServer,
) -> Result<(String, Application, twilio_sim::Simulator), String> {
    let sim = start_sim().await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut env = env_for(&redis.url(), &sim.base_url(), port);
    env.insert("TENANTS_FILE", file.display().to_string());
    env.insert("ACME_TOKEN", ENV_TOKEN.into());
    let settings = config::from_lookup(|k| env.get(k).cloned()).map_err(|e| e.to_string())?;
    let app = Application::build(settings, &redis.url(), listener)
        .await
        .map_err(|e| e.to_string())?;
    Ok((format!("http://127.0.0.1:{port}"), app, sim))
}

#[tokio::test]
async fn tenants_of_the_file_work_with_their_tokens_and_numbers() {
    let redis = RedisServer::start().unwrap();
    let file = write_file("tenants.toml", &acme("timezone = \"America/Chicago\"\n"));
    let (base_url, app, _sim) = build(&file, &redis).await.expect("starts");
    let tenants = app.tenants.clone();
    tokio::spawn(app.server);
    for token in [FILE_TOKEN, ENV_TOKEN] {
        let (status, body) = call(
            &base_url,
            token,
            Method::POST,
            "/api/dnc",
            Some(serde_json::json!({"number": "+15550009100"})),
        )
        .await;
        assert!(matches!(status, 200 | 201), "{body}");
    }
    // The file's tenant's list, not the configured tenant's.
    let (_, on) = call(
        &base_url,
        API_TOKEN,
        Method::GET,
        "/api/dnc/+15550009100",
        None,
    )
    .await;
    assert_eq!(on["on_list"], false);
    let (_, on) = call(
        &base_url,
        FILE_TOKEN,
        Method::GET,
        "/api/dnc/+15550009100",
        None,
    )
    .await;
    assert_eq!(on["on_list"], Value::Bool(true));
    assert_eq!(
        tenants.get("acme").unwrap().tenant.timezone,
        serde_json::from_value(serde_json::json!("America/Chicago")).unwrap()
    );
}

#[tokio::test]
async fn file_errors_name_the_file_the_tenant_and_the_field() {
    for (text, expected) in [
        (
            acme("timezone = \"Mars/Base\"\n"),
            "tenant 'acme': timezone: 'Mars/Base' is not an IANA time zone",
        ),
        (
            acme("numbers = [\"555\"]\n").replace("numbers = [\"+15550002001\"]\n", ""),
            "tenant 'acme': numbers[0]: must start with '+'",
        ),
        (
            acme("colour = \"red\"\n"),
            "tenant 'acme': colour: unknown field",
        ),
        (
            acme("").replace("company_name = \"Acme Dental\"\n", ""),
            "tenant 'acme': company_name: is required",
        ),
        (
            acme("").replace("ACME_TOKEN", "NOT_SET"),
            "tenant 'acme': tokens[1].env: the environment variable NOT_SET is unset",
        ),
        (
            acme("").replace("id = \"acme\"", "id = \"Acme Co\""),
            "tenant 'Acme Co': id: must be 1-64 of a-z",
        ),
        (
            acme("").replace("+15550002001", "+15550001111"),
            "tenant 'acme': numbers: +1***-***-1111 is held by tenant 'default'",
        ),
    ] {
        let redis = RedisServer::start().unwrap();
        let file = write_file("tenants.toml", &text);
        let err = build(&file, &redis)
            .await
            .err()
            .unwrap_or_else(|| panic!("started with {text}"));
        let path = file.display().to_string();
        assert!(err.contains("TENANTS_FILE") && err.contains(&path), "{err}");
        assert!(err.contains(expected), "{err}\n  expected: {expected}");
    }
}
