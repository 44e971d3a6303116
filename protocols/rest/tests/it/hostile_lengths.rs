//! A property of every operation of the spec: no value of any length makes the API
//! answer a 5xx or stop writing.
//!
//! Every parameter of every operation (path, query and header parameters, each leaf
//! of a JSON body down to [`MAX_DEPTH`] levels, a multipart file's name and content)
//! is sent in turn at the lengths where limits sit and just past them ([`LENGTHS`]:
//! a username's 42 characters, an address's 254 bytes, a storage key's 1,024 bytes,
//! the 65,535 bytes an lsm-tree key may have), in one-byte and four-byte
//! characters, with real ids in the other parameters so that each request goes as
//! deep into the handlers as a real one. Every answer must be below 500, but for
//! the [`DOCUMENTED_5XX`]. Afterwards the server still signs up, logs in, stores
//! delivered mail and writes.

use crate::common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use common::{PASSWORD, Session, TestApp};
use serde_json::{Map, Value, json};

/// Where limits sit, and just past them.
const LENGTHS: &[usize] = &[42, 43, 254, 255, 1_024, 1_025, 65_535, 70_000];

/// The longest value a URI carries here: the `http` crate refuses longer URIs, and
/// the server's HTTP layer refuses a request line of 64 KiB.
const URI_VALUE: usize = 60_000;

/// How deep into a JSON body leaves are looked for.
const MAX_DEPTH: usize = 3;

/// The 5xx answers the API documents: the original never implemented `POST
/// /v2/search`, whose only documented answer is 501.
const DOCUMENTED_5XX: &[(&str, &str, u16)] = &[("POST", "/v2/search", 501)];

const SPEC: &str = include_str!("../../openapi/swagger.json");

/// The hostile values of one parameter: each length in one-byte characters, and in
/// four-byte ones where the value travels in a body (a URI or header value is ASCII).
fn values(ascii_only: bool) -> Vec<String> {
    let mut out = Vec::new();
    for &n in LENGTHS {
        out.push("a".repeat(n));
        if !ascii_only {
            out.push("\u{1D11E}".repeat(n));
        }
    }
    if !ascii_only {
        // Control characters and a NUL, which some stores and parsers stop at.
        out.push("\u{0}\u{1}\r\n\u{7f}".repeat(300));
    }
    out
}

/// What each request's other parameters hold: ids of real records of the user.
struct Fixtures {
    alice: Session,
    remote_id: String,
    contact_id: String,
    discussion_id: String,
    received_id: String,
    draft_id: String,
    raw_id: String,
    tag_id: String,
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let alice = app.user("alice").await;
    app.signup("mallory").await;
    let received = app
        .deliver(
            &alice,
            "From: Bob <bob@example.org>\nTo: alice@caliopen.local\nSubject: hello\n\
             Message-ID: <hello@example.org>\n\nHello.\n",
        )
        .await;
    let created = |res: common::TestResponse| {
        let body = res.json();
        ["location", "remote_id", "identifier", "tag_id"]
            .iter()
            .find_map(|k| {
                body[k]
                    .as_str()
                    .map(|s| s.rsplit('/').next().unwrap().to_owned())
            })
            .unwrap_or_else(|| panic!("an id in {body}"))
    };
    let post = |uri: &str, body: Value| app.post(uri).auth(&alice).json(&body).unchecked().send();
    let remote_id = created(
        post(
            "/api/v2/identities/remotes",
            json!({"identifier": "alice@elsewhere.example", "protocol": "email", "type": "remote",
                   "credentials": {"username": "alice", "password": "s3cret"}}),
        )
        .await
        .assert_status(StatusCode::OK),
    );
    let contact_id = created(
        post(
            "/api/v2/contacts",
            json!({"given_name": "Bob", "emails": [{"address": "bob@example.org"}]}),
        )
        .await
        .assert_status(StatusCode::OK),
    );
    let identity = app.local_identity(&alice).await;
    let draft_id = created(
        post(
            "/api/v1/messages",
            json!({"user_identities": [identity], "subject": "draft", "body": "b",
                   "participants": [{"type": "To", "protocol": "email", "address": "bob@example.org"}]}),
        )
        .await
        .assert_status(StatusCode::OK),
    );
    let tag_id = created(
        post("/api/v2/tags", json!({"label": "Projects"}))
            .await
            .assert_status(StatusCode::OK),
    );
    Fixtures {
        alice,
        remote_id,
        contact_id,
        discussion_id: received.discussion_id.clone(),
        received_id: received.id.to_string(),
        draft_id,
        raw_id: received.raw_msg_id.clone().expect("a raw mail id"),
        tag_id,
    }
}

impl Fixtures {
    /// A real value for the path parameter `name` of `template`.
    fn path_value(&self, template: &str, name: &str) -> String {
        match name {
            "user_id" => self.alice.user_id.to_string(),
            "identifier" => self.remote_id.clone(),
            "contact_id" => self.contact_id.clone(),
            "discussion_id" => self.discussion_id.clone(),
            "message_id" if template.starts_with("/v1/") || template.contains("attachments") => {
                self.draft_id.clone()
            }
            "message_id" => self.received_id.clone(),
            "raw_msg_id" => self.raw_id.clone(),
            "tag_id" => self.tag_id.clone(),
            "device_id" => self.alice.device_id.clone(),
            "provider_name" => "gmail".to_owned(),
            _ => "00000000-0000-4000-8000-000000000000".to_owned(),
        }
    }
}

/// `schema` with `$ref`s to definitions followed; references outside the document
/// (left in the original spec) become an empty schema.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    static EMPTY: Value = Value::Null;
    match schema["$ref"].as_str() {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| spec.pointer(p))
            .map_or(&EMPTY, |s| resolve(spec, s)),
        None => schema,
    }
}

/// A body that has what `schema` requires, with plain values.
fn base(spec: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(spec, schema);
    match schema["type"].as_str() {
        Some("object") | None if schema["properties"].is_object() => {
            let mut out = Map::new();
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            for name in required.iter().filter_map(Value::as_str) {
                let property = &schema["properties"][name];
                out.insert(name.to_owned(), plain(spec, name, property, depth + 1));
            }
            if schema["properties"].get("current_state").is_some() {
                out.insert("current_state".to_owned(), json!({}));
            }
            Value::Object(out)
        }
        Some("array") if depth < MAX_DEPTH => json!([base(spec, &schema["items"], depth + 1)]),
        Some("array") => json!([]),
        _ => json!({}),
    }
}

/// A plain value of a property, by its name where a type is not enough.
fn plain(spec: &Value, name: &str, schema: &Value, depth: usize) -> Value {
    let schema = resolve(spec, schema);
    if let Some(first) = schema["enum"].get(0) {
        return first.clone();
    }
    match (name, schema["type"].as_str()) {
        // Another user's: a login that succeeds on the same device would replace the
        // session the sweep uses.
        ("username", _) => json!("mallory"),
        ("password", _) => json!(PASSWORD),
        ("protocol", _) => json!("email"),
        ("address" | "recovery_email" | "email", _) => json!("bob@example.org"),
        (_, Some("integer" | "number")) => json!(0),
        (_, Some("boolean")) => json!(false),
        (_, Some("array" | "object")) => base(spec, schema, depth),
        _ => json!("x"),
    }
}

/// The JSON pointers of the leaves of `schema` (strings, numbers, booleans, and
/// objects the spec leaves open), each array entered through its first item.
fn leaves(spec: &Value, schema: &Value, at: &str, depth: usize, out: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if depth > MAX_DEPTH {
        return;
    }
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            if name == "$ref" {
                continue;
            }
            leaves(spec, property, &format!("{at}/{name}"), depth + 1, out);
        }
    } else if schema["type"] == "array" {
        leaves(spec, &schema["items"], &format!("{at}/0"), depth + 1, out);
    } else if !at.is_empty() {
        out.push(at.to_owned());
    }
}

/// `body` with `value` at `pointer`, building the objects and arrays on the way.
fn with_leaf(mut body: Value, pointer: &str, value: &str) -> Value {
    let mut here = &mut body;
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let next = if last {
            json!(value)
        } else if parts[i + 1].parse::<usize>().is_ok() {
            json!([])
        } else {
            json!({})
        };
        here = match part.parse::<usize>() {
            Ok(index) => {
                if !here.is_array() {
                    *here = json!([]);
                }
                let items = here.as_array_mut().unwrap();
                while items.len() <= index {
                    items.push(next.clone());
                }
                if last {
                    items[index] = next;
                }
                &mut items[index]
            }
            Err(_) => {
                if !here.is_object() {
                    *here = json!({});
                }
                let object = here.as_object_mut().unwrap();
                if last {
                    object.insert((*part).to_owned(), next.clone());
                }
                object.entry(*part).or_insert(next)
            }
        };
    }
    body
}

/// One request of the sweep.
struct Probe {
    what: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    file: Option<(String, Vec<u8>)>,
}

/// Every probe of one operation: each parameter in turn hostile, the others real.
fn probes(spec: &Value, fixtures: &Fixtures, template: &str, op: &Value) -> Vec<Probe> {
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let path_names: Vec<&str> = params
        .iter()
        .filter(|p| p["in"] == "path")
        .filter_map(|p| p["name"].as_str())
        .collect();
    let real_path = |hostile: Option<(&str, &str)>| {
        let mut path = template.to_owned();
        for name in &path_names {
            let value = match hostile {
                Some((n, v)) if n == *name => v.to_owned(),
                _ => fixtures.path_value(template, name),
            };
            path = path.replace(&format!("{{{name}}}"), &value);
        }
        path
    };
    let probe = |what: String| Probe {
        what,
        path: real_path(None),
        query: String::new(),
        headers: Vec::new(),
        body: None,
        file: None,
    };
    let body_schema = params
        .iter()
        .find(|p| p["in"] == "body")
        .map(|p| p["schema"].clone());
    let base_body = body_schema.as_ref().map(|s| base(spec, s, 0));
    let mut out = Vec::new();
    for param in &params {
        let name = param["name"].as_str().unwrap_or_default();
        let located = param["in"].as_str().unwrap_or_default();
        let ascii = located != "body" && located != "formData";
        let in_uri = located == "path" || located == "query";
        for mut value in values(ascii) {
            if in_uri {
                value.truncate(URI_VALUE);
            }
            let what = format!("{located} {name}: {} bytes", value.len());
            match located {
                "path" => out.push(Probe {
                    path: real_path(Some((name, &value))),
                    body: base_body.clone(),
                    ..probe(what)
                }),
                "query" => out.push(Probe {
                    query: format!("?{}={value}", name.replace('[', "%5B").replace(']', "%5D")),
                    ..probe(what)
                }),
                "header" => out.push(Probe {
                    headers: vec![(name.to_owned(), value)],
                    ..probe(what)
                }),
                "formData" => {
                    out.push(Probe {
                        file: Some((value.clone(), b"BEGIN:VCARD\r\nEND:VCARD\r\n".to_vec())),
                        ..probe(format!("{what} (file name)"))
                    });
                    out.push(Probe {
                        file: Some(("a.txt".to_owned(), value.into_bytes())),
                        ..probe(format!("{what} (content)"))
                    });
                }
                _ => {}
            }
        }
    }
    if let (Some(schema), Some(base_body)) = (&body_schema, &base_body) {
        let mut pointers = Vec::new();
        leaves(spec, schema, "", 0, &mut pointers);
        for pointer in pointers {
            for value in values(false) {
                out.push(Probe {
                    body: Some(with_leaf(base_body.clone(), &pointer, &value)),
                    ..probe(format!("body {pointer}: {} bytes", value.len()))
                });
            }
        }
        // A member whose name is longer than any key.
        let mut long_name = base_body.clone();
        if let Some(object) = long_name.as_object_mut() {
            object.insert("k".repeat(70_000), json!("x"));
            out.push(Probe {
                body: Some(long_name),
                ..probe("body member named with 70,000 bytes".to_owned())
            });
        }
    }
    if out.is_empty() {
        // No parameter: the credentials are what a request carries.
        for value in values(true) {
            out.push(Probe {
                headers: vec![("x-caliopen-device-id".to_owned(), value)],
                ..probe("header X-Caliopen-Device-ID".to_owned())
            });
        }
    }
    out
}

async fn send(app: &TestApp, alice: &Session, method: &Method, probe: Probe) -> StatusCode {
    let mut call = app
        .call(
            method.clone(),
            &format!("/api{}{}", probe.path, probe.query),
        )
        .auth(alice)
        .unchecked();
    for (name, value) in &probe.headers {
        call = call.header(name, value);
    }
    if let Some(body) = &probe.body {
        call = call.json(body);
    }
    if let Some((name, content)) = &probe.file {
        call = call.multipart("file", name, "text/plain", content);
    }
    call.send().await.status
}

#[tokio::test]
async fn no_length_of_any_parameter_gets_a_5xx_or_stops_writes() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let fixtures = fixtures(&app).await;
    let spec: Value = serde_json::from_str(SPEC).expect("the spec parses");
    let mut failures = Vec::new();
    let mut operations = BTreeSet::new();
    let mut sent = 0;
    for (template, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("an operation map") {
            let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            for probe in probes(&spec, &fixtures, template, op) {
                let what = format!("{method} {template}: {}", probe.what);
                let status = send(&app, &fixtures.alice, &method, probe).await;
                sent += 1;
                operations.insert(format!("{method} {template}"));
                let documented = DOCUMENTED_5XX.iter().any(|(m, t, s)| {
                    *m == method.as_str() && t == template && *s == status.as_u16()
                });
                if status.is_server_error() && !documented {
                    failures.push(format!("{what} -> {status}"));
                }
            }
        }
    }
    eprintln!("{sent} requests to {} operations", operations.len());
    assert!(failures.is_empty(), "5xx answers:\n{}", failures.join("\n"));
    let all = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum::<usize>();
    assert_eq!(
        operations.len(),
        all,
        "every operation of the spec was probed"
    );

    // Writes go on: a new user, a new session, delivered mail, a new tag, health.
    let carol = app.user("carol").await;
    app.login("alice", "another-device").await;
    let stored = app
        .deliver(
            &carol,
            "From: Dan <dan@example.org>\nTo: carol@caliopen.local\nSubject: after\n\nStill here.\n",
        )
        .await;
    assert_eq!(stored.subject, "after");
    let tag = app
        .post("/api/v2/tags")
        .auth(&carol)
        .json(&json!({"label": "After"}))
        .unchecked()
        .send()
        .await;
    assert!(tag.status.is_success(), "a tag is written: {}", tag.status);
    app.get("/api/v1/me")
        .auth(&fixtures.alice)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get("/health")
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::OK);
}
