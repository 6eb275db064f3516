//! `GET /api/docs`: the OpenAPI description as one server-rendered page,
//! operation by operation (parameters, body, answers) and then the schemas.

use std::fmt::Write;

use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "patch", "put", "delete"];

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;line-height:1.45}\
code,pre{font-family:ui-monospace,monospace}pre{background:#f4f4f4;padding:.6rem;overflow-x:auto}\
section{border-top:1px solid #ccc;padding-top:.4rem}h3 code{font-size:1rem}\
.m{display:inline-block;min-width:4.5rem;font-weight:bold}table{border-collapse:collapse}\
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}";

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A schema in a line: its `$ref` name, its type, or its JSON.
fn schema_summary(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    match schema.get("type") {
        Some(Value::String(t)) => esc(t),
        Some(Value::Array(types)) => esc(&types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | ")),
        _ => format!("<code>{}</code>", esc(&schema.to_string())),
    }
}

fn content_schemas(content: Option<&Value>) -> String {
    let Some(content) = content.and_then(Value::as_object) else {
        return String::new();
    };
    content
        .iter()
        .map(|(media, c)| {
            let schema = c.get("schema").map(schema_summary).unwrap_or_default();
            format!("<code>{}</code> {schema}", esc(media))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let _ = write!(
        out,
        "<section id=\"{id}\"><h3><span class=\"m\">{m}</span><code>{p}</code></h3>",
        id = esc(&format!("{method}-{path}")),
        m = method.to_uppercase(),
        p = esc(path),
    );
    for key in ["summary", "description"] {
        if !text(op, key).is_empty() {
            let _ = write!(out, "<p>{}</p>", esc(text(op, key)));
        }
    }
    if op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
        })
    {
        out.push_str("<p>No token needed.</p>");
    }
    if let Some(params) = op.get("parameters").and_then(Value::as_array) {
        out.push_str("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>");
        for p in params {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(text(p, "name")),
                esc(text(p, "in")),
                if p.get("required") == Some(&Value::Bool(true)) {
                    "yes"
                } else {
                    "no"
                },
                p.get("schema").map(schema_summary).unwrap_or_default(),
                esc(text(p, "description")),
            );
        }
        out.push_str("</table>");
    }
    if let Some(body) = op.get("requestBody") {
        let _ = write!(
            out,
            "<h4>Body</h4><p>{} {}</p>",
            esc(text(body, "description")),
            content_schemas(body.get("content"))
        );
    }
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        out.push_str(
            "<h4>Answers</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>",
        );
        for (status, r) in responses {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(status),
                esc(text(r, "description")),
                content_schemas(r.get("content")),
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

/// The whole page for `doc`.
pub fn render(doc: &Value) -> String {
    let info = &doc["info"];
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} API</title><style>{STYLE}</style></head><body><main>\
         <h1>{title} API <small>{version}</small></h1><p>{description}</p>\
         <p>The same as OpenAPI 3.1: <a href=\"/api/openapi.json\"><code>/api/openapi.json</code></a>.</p>",
        title = esc(text(info, "title")),
        version = esc(text(info, "version")),
        description = esc(text(info, "description")),
    );
    let paths = doc["paths"].as_object();
    out.push_str("<h2>Operations</h2><ul>");
    for (path, item) in paths.into_iter().flatten() {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let _ = write!(
                out,
                "<li><a href=\"#{id}\"><span class=\"m\">{m}</span><code>{p}</code></a></li>",
                id = esc(&format!("{method}-{path}")),
                m = method.to_uppercase(),
                p = esc(path),
            );
        }
    }
    out.push_str("</ul>");
    for (path, item) in paths.into_iter().flatten() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                operation(&mut out, method, path, op);
            }
        }
    }
    out.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                out,
                "<section id=\"schema-{n}\"><h3>{n}</h3><pre>{}</pre></section>",
                esc(&pretty),
                n = esc(name),
            );
        }
    }
    out.push_str("</main></body></html>");
    out
}
