//! The served OpenAPI document and API page, and the spec validator the other
//! tests rely on.

use crate::common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::TestApp;
use common::schema::Spec;
use serde_json::{Value, json};

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(*m).is_some() {
                out.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The admin routes as `runtime/src/admin.rs` declares them: `(METHOD, path)`.
fn admin_routes() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../runtime/src/admin.rs"),
    )
    .expect("runtime/src/admin.rs");
    let mut out = BTreeSet::new();
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix(".route(\"") else {
            continue;
        };
        let (path, handlers) = rest.split_once('"').unwrap();
        let full = if path == "/metrics" || path == "/health" {
            path.to_owned()
        } else {
            format!("/admin{path}")
        };
        for m in METHODS {
            if handlers.contains(&format!("{m}(")) {
                out.insert((m.to_uppercase(), full.clone()));
            }
        }
    }
    assert!(
        out.len() >= 10,
        "admin routes not found in admin.rs: {out:?}"
    );
    out
}

#[tokio::test]
async fn openapi_json_is_the_spec_plus_the_admin_api() {
    let app = TestApp::new().await;
    let res = app
        .get("/api/openapi.json")
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(res.header("content-type").unwrap(), "application/json");
    let served = res.json();
    let original: Value = serde_json::from_str(include_str!("../../openapi/swagger.json")).unwrap();
    assert_eq!(served["swagger"], "2.0");
    assert_eq!(served["basePath"], "/api");

    // Every original operation, unchanged.
    for (path, item) in original["paths"].as_object().unwrap() {
        assert_eq!(&served["paths"][path], item, "{path} changed");
    }
    let original_ops = operations(&original);
    assert_eq!(original_ops.len(), 67);

    // Plus every admin route, tagged and marked as served elsewhere.
    let served_ops = operations(&served);
    let admin: BTreeSet<_> = served_ops.difference(&original_ops).cloned().collect();
    assert_eq!(
        admin,
        admin_routes(),
        "openapi/admin.json and runtime/src/admin.rs differ"
    );
    for (method, path) in &admin {
        let op = &served["paths"][path][method.to_lowercase()];
        assert_eq!(op["tags"], json!(["admin"]), "{method} {path}");
        assert_eq!(op["x-caliopen-listener"], "admin", "{method} {path}");
        assert!(op["security"].is_array(), "{method} {path}");
    }
    let tag = served["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "admin")
        .expect("the admin tag");
    assert!(tag["description"].as_str().unwrap().contains("not under"));
    assert!(served["securityDefinitions"]["adminToken"].is_object());
}

#[tokio::test]
async fn the_api_page_lists_every_operation_and_needs_nothing_else() {
    let app = TestApp::new().await;
    let res = app
        .get("/api/docs")
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert!(
        res.header("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = res.text();
    assert!(page.starts_with("<!DOCTYPE html>"));
    let doc = app.get("/api/openapi.json").send().await.json();
    for (method, path) in operations(&doc) {
        let shown = if path.starts_with("/admin") || path == "/metrics" || path == "/health" {
            path.clone()
        } else {
            format!("/api{path}")
        };
        assert!(
            page.contains(&format!("{method}</span> <code>{shown}</code>")),
            "{method} {shown} is not on the page"
        );
    }
    for section in ["users", "devices", "notifications", "admin"] {
        assert!(page.contains(&format!("id=\"tag-{section}\"")), "{section}");
    }
    // Parameters and responses are shown.
    assert!(page.contains("<code>X-Caliopen-PI</code>"));
    assert!(page.contains("<td>424</td>"));
    // Self-contained: no script, no external resource.
    for forbidden in ["<script", "src=", "href=\"http", "@import", "url("] {
        assert!(!page.contains(forbidden), "the page has {forbidden}");
    }
}

#[test]
fn the_validator_catches_what_it_should() {
    let spec = Spec::caliopen();
    let device = json!({
        "device_id": "d", "user_id": "u", "name": "n", "type": "other",
        "status": "verified", "date_insert": "2024-01-01T00:00:00.000Z",
    });
    assert!(spec.validate_definition("Device", &device).is_empty());
    let mut bad = device.clone();
    bad["secret"] = json!(1);
    bad["date_insert"] = json!("yesterday");
    bad.as_object_mut().unwrap().remove("name");
    bad["locations"] = json!([{"address": "x", "type": "moon"}]);
    bad["pi"] = json!({"technic": "high"});
    bad["ip_creation"] = Value::Null;
    let errors = spec.validate_definition("Device", &bad).join("\n");
    for needle in [
        "`secret` is not declared",
        "not an RFC 3339",
        "`name` is missing",
        "$.locations[0].type",
        "$.pi.technic: expected integer",
        "$.ip_creation: expected string, got null",
    ] {
        assert!(errors.contains(needle), "{needle} in {errors}");
    }

    assert_eq!(
        spec.operation("GET", "/v2/identities/locals").unwrap().0,
        "/v2/identities/locals"
    );
    assert_eq!(
        spec.operation("PATCH", "/v2/devices/abc").unwrap().0,
        "/v2/devices/{device_id}"
    );
    assert!(spec.operation("PUT", "/v2/devices/abc").is_none());

    // Answers: declared statuses, error shape, empty 204.
    let ok = serde_json::to_vec(&json!({"total": 0, "devices": []})).unwrap();
    assert!(
        spec.check_response("GET", "/api/v2/devices?limit=1", 200, &ok)
            .is_ok()
    );
    let err = spec
        .check_response("GET", "/api/v2/devices", 201, &ok)
        .unwrap_err();
    assert!(err.contains("not declared"), "{err}");
    let error = |code: u16| {
        serde_json::to_vec(&json!({"errors": [{"code": code, "name": "X", "message": "m"}]}))
            .unwrap()
    };
    assert!(
        spec.check_response("GET", "/api/v2/devices/x", 404, &error(404))
            .is_ok()
    );
    assert!(
        spec.check_response("GET", "/api/v2/devices/x", 418, &error(418))
            .is_ok()
    );
    assert!(
        spec.check_response("GET", "/api/v2/devices/x", 404, &error(400))
            .is_err()
    );
    assert!(
        spec.check_response("GET", "/api/v2/devices/x", 404, b"{\"error\": \"x\"}")
            .is_err()
    );
    assert!(
        spec.check_response("DELETE", "/api/v2/devices/x", 204, b"")
            .is_ok()
    );
    assert!(
        spec.check_response("DELETE", "/api/v2/devices/x", 204, b"{}")
            .is_err()
    );
    // Paths the spec does not have are not checked.
    assert!(
        spec.check_response("GET", "/api/docs", 200, b"<html>")
            .is_ok()
    );
}
