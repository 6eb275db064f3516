//! The API's description: served without a token, listing exactly the routes
//! the server mounts, valid OpenAPI 3.1 by a real validator, readable as a
//! page, and a property-based fuzzer (schemathesis) driven by it finds no
//! 5xx and no answer that breaks it. Every error actix makes on its own comes
//! back in the documented JSON shape.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with, TestApp, API_TOKEN};

const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// `/api/campaigns/{id}/{action:pause|resume|cancel}` as OpenAPI writes it.
fn openapi_path(mounted: &str) -> String {
    let mut out = String::new();
    let mut rest = mounted;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("closed brace") + open;
        let name = rest[open + 1..close].split(':').next().unwrap();
        out.push_str(&format!("{{{name}}}"));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    format!("/api{out}")
}

async fn document(app: &TestApp) -> Value {
    let resp = app
        .http
        .get(format!("{}/api/openapi.json", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "served without a token");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn the_description_lists_exactly_the_mounted_routes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let mounted: BTreeSet<(String, String)> = callflow::http::API_ROUTES
        .iter()
        .map(|(method, path)| (method.to_lowercase(), openapi_path(path)))
        .collect();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    assert_eq!(mounted, documented);
    assert!(mounted.contains(&("get".into(), "/api/calls/{id}/recording".into())));
    // Every mounted route answers (not the catch-all's "no such endpoint").
    for (method, path) in &mounted {
        let path = path
            .replace("{action}", "pause")
            .replace("{token_id}", "t1")
            .replace(['{', '}'], "");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = app.api(method.clone(), &path).send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        assert!(
            !body.contains("no such endpoint"),
            "{method} {path} is not mounted: {status} {body}"
        );
    }
    // Every operation documents its errors in the one shape.
    for (method, path) in &mounted {
        let op = &doc["paths"][path][method];
        for status in ["400", "401", "404", "429", "503"] {
            assert_eq!(
                op["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Error",
                "{method} {path} {status}"
            );
        }
    }
}

#[tokio::test]
async fn the_transcript_is_described() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let turn = &doc["components"]["schemas"]["TranscriptTurn"]["properties"];
    for field in [
        "turn",
        "at",
        "prompt",
        "prompt_key",
        "heard",
        "confidence",
        "digits",
        "intent",
    ] {
        assert!(turn.get(field).is_some(), "{field}: {turn}");
    }
}

#[tokio::test]
async fn the_docs_page_is_one_offline_page_of_every_operation() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(format!("{}/api/docs", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = resp.text().await.unwrap();
    for (method, path) in callflow::http::API_ROUTES {
        let path = openapi_path(path);
        assert!(
            page.contains(&format!(
                "<span class=\"m\">{method}</span><code>{path}</code>"
            )),
            "{method} {path}"
        );
    }
    assert!(page.contains("TranscriptTurn"));
    assert!(!page.contains("<script"), "no scripts");
    assert!(
        !page.contains("src=\"http"),
        "nothing loaded from elsewhere"
    );
    assert!(
        !page.contains("href=\"http"),
        "nothing loaded from elsewhere"
    );
}

/// Every error actix makes on its own is the API's JSON error.
#[tokio::test]
async fn extractor_and_framework_errors_are_json() {
    let app = spawn_app().await;
    let url = |p: &str| format!("{}{p}", app.base_url);
    let big = vec![b'x'; 65 * 1024];
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "bad JSON",
            app.api(Method::POST, "/api/dnc")
                .header("content-type", "application/json")
                .body("{\"number\": "),
            400,
        ),
        (
            "wrong content type, not JSON",
            app.api(Method::POST, "/api/dnc")
                .header("content-type", "text/plain")
                .body("number=+15550000000"),
            400,
        ),
        (
            "body too large",
            app.api(Method::POST, "/api/dnc")
                .header("content-type", "application/json")
                .body(big),
            413,
        ),
        ("bad query", app.api(Method::GET, "/api/calls?limit=0"), 400),
        (
            "malformed query",
            app.api(Method::GET, "/api/calls?limit=%ZZ"),
            400,
        ),
        (
            "unknown query field",
            app.api(Method::GET, "/api/calls?x=1"),
            400,
        ),
        (
            "bad path",
            app.api(Method::GET, "/api/dnc/not-a-number"),
            400,
        ),
        (
            "path not UTF-8",
            app.http
                .get(url("/api/calls/%FF%FE"))
                .bearer_auth(API_TOKEN),
            404,
        ),
        (
            "no such route",
            app.api(Method::GET, "/api/nothing-here"),
            404,
        ),
        (
            "method not mounted",
            app.api(Method::PUT, "/api/calls"),
            404,
        ),
        ("no token", app.http.get(url("/api/calls")), 401),
        (
            "campaign action not known",
            app.api(Method::POST, "/api/campaigns/c1/explode"),
            404,
        ),
        (
            "content length lies",
            app.api(Method::POST, "/api/dnc")
                .header("content-type", "application/json")
                .header("content-length", "not-a-number")
                .body("{}"),
            400,
        ),
    ];
    for (what, req, status) in cases {
        let resp = match req.send().await {
            Ok(resp) => resp,
            // A client that refuses to send a malformed request proves nothing.
            Err(e) if what == "content length lies" => {
                eprintln!("{what}: not sent ({e})");
                continue;
            }
            Err(e) => panic!("{what}: {e}"),
        };
        assert_eq!(resp.status().as_u16(), status, "{what}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("application/json"), "{what}: {ct}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{what}: {body}");
        assert!(body["error"]["message"].is_string(), "{what}: {body}");
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python tools' virtual environment (`scripts/python-tools.sh` makes it once).
async fn python_tools() -> PathBuf {
    static READY: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let status = tokio::process::Command::new("bash")
                .arg(repo().join("scripts/python-tools.sh"))
                .status()
                .await
                .expect("bash runs");
            assert!(status.success(), "scripts/python-tools.sh failed");
            repo().join("target/py-tools/bin")
        })
        .await
        .clone()
}

#[tokio::test]
async fn the_description_is_valid_openapi_by_a_validator() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let bin = python_tools().await;
    let dir = std::env::temp_dir().join(format!("cf-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = tokio::process::Command::new(bin.join("openapi-spec-validator"))
        .arg(&file)
        .output()
        .await
        .expect("openapi-spec-validator runs");
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let head: String = said.chars().take(2_000).collect();
    assert!(out.status.success(), "{head}");
    assert!(said.contains("OK"), "{head}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs schemathesis against the live server: bounded examples per
/// operation and a bounded wall time; the simulator is Twilio.
async fn fuzz(app: &TestApp, token: &str, paths: &str, seed: &str) -> (bool, String) {
    let bin = python_tools().await;
    let mut cmd = tokio::process::Command::new(bin.join("schemathesis"));
    cmd.arg("run")
        .arg(format!("{}/api/openapi.json", app.base_url))
        .arg("--url")
        .arg(&app.base_url)
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"))
        .arg("--include-path-regex")
        .arg(paths)
        .args(["--max-examples", "10", "--seed", seed])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--request-timeout", "10", "--max-time", "75"])
        .args(["--generation-database", "none", "--no-color"])
        .current_dir(std::env::temp_dir())
        .kill_on_drop(true)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("schemathesis runs");
    let out = tokio::time::timeout(Duration::from_secs(420), child.wait_with_output())
        .await
        .expect("schemathesis finishes within its bound")
        .expect("schemathesis output");
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), said)
}

#[tokio::test]
async fn a_fuzzer_driven_by_the_description_finds_no_5xx_and_no_schema_break() {
    let app = spawn_app_with(|env| {
        env.insert("ADMIN_TOKEN", ADMIN_TOKEN.into());
        // The fuzzer sends hundreds of requests from one address and token.
        env.insert("API_IP_RATE_LIMIT_PER_S", "0".into());
        env.insert("API_RATE_LIMIT_PER_S", "0".into());
    })
    .await;
    for (token, paths, seed) in [
        (API_TOKEN, "^/api/(?!admin)", "1"),
        (ADMIN_TOKEN, "^/api/admin", "2"),
    ] {
        let (ok, said) = fuzz(&app, token, paths, seed).await;
        let tail: String = said
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        eprintln!("schemathesis on {paths}:\n{tail}");
        assert!(ok, "schemathesis on {paths}:\n{said}");
        assert!(said.contains("passed"), "it ran cases: {tail}");
    }
    // The fuzzer never reached past the simulator: every Twilio request it
    // caused was one the simulator saw.
    assert!(app
        .sim
        .requests()
        .iter()
        .all(|r| r.path.starts_with("/2010-04-01/")));
}
