//! The API's description: OpenAPI 3.1, generated from the route table and
//! the handlers' annotations (`GET /api/openapi.json`), and the same as a
//! page to read (`GET /api/docs`). Neither needs a token.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use serde_json::{json, Value};
use utoipa::OpenApi;

use super::Paths;
use crate::http::error::ErrorBody;

/// What every operation can answer besides its own: errors of the request,
/// the credentials, the limits and the store, in the one JSON shape.
const COMMON_ERRORS: &[(&str, &str)] = &[
    ("400", "The request is malformed: bad JSON, a field, the query or the path (`error.field` says which)"),
    ("401", "Missing, unknown or expired bearer token"),
    ("404", "Not found (or another tenant's)"),
    ("413", "The body is over the route's limit"),
    ("429", "Over the API rate limit; see `Retry-After`"),
    ("503", "Storage unavailable"),
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "callflow",
        description = "Outbound calls and campaigns on Twilio, the call log, the do-not-call list, phone numbers and tenants. Every request carries `Authorization: Bearer <token>`: a tenant's API token or JWT, or `ADMIN_TOKEN` for `/api/admin`. Every error is `{\"error\": {\"code\", \"message\", \"field\"?}}`.",
    ),
    components(schemas(ErrorBody)),
    security(("tenant_token" = [])),
    tags(
        (name = "calls", description = "Place calls and campaigns; read calls, transcripts and recordings"),
        (name = "campaigns", description = "Follow and steer campaigns"),
        (name = "dnc", description = "The do-not-call list"),
        (name = "numbers", description = "Phone numbers: search, buy or attach, release"),
        (name = "sms", description = "Send texts; the notification log"),
        (name = "admin", description = "Tenants and their tokens (`ADMIN_TOKEN`)"),
        (name = "stats", description = "Process counters"),
        (name = "docs", description = "This description"),
    ),
)]
struct Base;

/// The description as JSON, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Value {
    let mut doc = Base::openapi().merge_from(Paths::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let mut doc = serde_json::to_value(&doc).expect("the description serializes");
    doc["components"]["securitySchemes"] = json!({
        "tenant_token": {"type": "http", "scheme": "bearer", "description": "A tenant's API token (or `API_TOKEN`), or an HS256 JWT with `tenant_id`"},
        "admin_token": {"type": "http", "scheme": "bearer", "description": "`ADMIN_TOKEN`"},
    });
    let error = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
    if let Some(paths) = doc["paths"].as_object_mut() {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in operation.values_mut() {
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                    continue;
                };
                for (status, description) in COMMON_ERRORS {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| json!({"description": description, "content": error}));
                }
            }
        }
    }
    doc
}

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "docs",
    security(()),
    responses((status = 200, description = "This description (OpenAPI 3.1)", body = Object)),
)]
/// The OpenAPI 3.1 description of `/api`.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "docs",
    security(()),
    responses((status = 200, description = "The description as a page", content_type = "text/html", body = String)),
)]
/// The description as a page to read: no scripts, nothing loaded from elsewhere.
pub async fn docs_page() -> HttpResponse {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| super::docs_page::render(document()));
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(page.as_str())
}
