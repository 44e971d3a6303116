//! The API's own documentation: `GET /api/openapi.json` (the original Caliopen
//! spec, plus the admin API under the tag `admin`) and `GET /api/docs` (one
//! self-contained HTML page made from it; no script, no external resource).
//!
//! The spec is `openapi/swagger.json` (a copy of the contract in
//! `../shared/caliopen-api/`), the admin API's description `openapi/admin.json`;
//! both are embedded at build time and merged once, at the first request.

use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::state::AppState;
use crate::views;

const SWAGGER: &str = include_str!("../../openapi/swagger.json");
const ADMIN: &str = include_str!("../../openapi/admin.json");

/// Marks the operations that another listener serves.
pub const LISTENER_KEY: &str = "x-caliopen-listener";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs_page))
}

/// The served document: the spec with the admin API merged in.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let spec = serde_json::from_str(SWAGGER).expect("openapi/swagger.json is JSON");
        let admin = serde_json::from_str(ADMIN).expect("openapi/admin.json is JSON");
        with_admin(spec, &admin)
    })
}

async fn openapi_json() -> impl IntoResponse {
    static BODY: OnceLock<String> = OnceLock::new();
    let body = BODY.get_or_init(|| document().to_string());
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}

async fn docs_page() -> Html<&'static str> {
    static PAGE: OnceLock<String> = OnceLock::new();
    Html(PAGE.get_or_init(|| views::docs::page(document())).as_str())
}

/// Adds the admin fragment (`{tag, securityDefinitions, definitions, paths}`) to
/// the spec: each admin operation gets the tag `admin`, the admin token as its
/// security unless it says otherwise, and [`LISTENER_KEY`] `admin`.
fn with_admin(mut spec: Value, admin: &Value) -> Value {
    let tag = admin["tag"].clone();
    let tag_name = tag["name"].as_str().unwrap_or("admin").to_owned();
    let doc = spec.as_object_mut().expect("the spec is an object");
    push(doc, "tags", tag);
    for section in ["securityDefinitions", "definitions"] {
        if let Some(entries) = admin.get(section).and_then(Value::as_object) {
            object(doc, section).extend(entries.clone());
        }
    }
    let paths = object(doc, "paths");
    for (path, item) in admin["paths"].as_object().into_iter().flatten() {
        let mut item = item.clone();
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            op.insert("tags".into(), json!([tag_name]));
            op.insert(LISTENER_KEY.into(), json!("admin"));
            op.entry("security")
                .or_insert_with(|| json!([{ "adminToken": [] }]));
        }
        paths.insert(path.clone(), item);
    }
    spec
}

fn object<'a>(doc: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = doc.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("just made an object")
}

fn push(doc: &mut Map<String, Value>, key: &str, value: Value) {
    let entry = doc.entry(key).or_insert_with(|| json!([]));
    if !entry.is_array() {
        *entry = json!([]);
    }
    entry
        .as_array_mut()
        .expect("just made an array")
        .push(value);
}
