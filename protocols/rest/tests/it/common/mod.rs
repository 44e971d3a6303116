//! The in-process test bench of the REST API: `router(state)` over a core on a
//! real embedded store in a temporary directory, called with
//! `tower::ServiceExt::oneshot`. Every answer is checked against the original
//! spec ([`schema::Spec::check_response`]) unless a call says `.unchecked()`.
//!
//! ```ignore
//! let app = TestApp::new().await;
//! let alice = app.user("alice").await;            // signup + login on device "default"
//! let res = app.get("/api/v2/devices").auth(&alice).send().await;
//! res.assert_status(StatusCode::OK);
//! let body = res.json();
//! ```
#![allow(dead_code)] // Each test file uses part of it.

#[path = "../../../../../core/tests/services/credentials_key.rs"]
pub mod credentials_key;
#[path = "../../../../../core/tests/services/gpg.rs"]
pub mod gpg;
pub mod mail;
pub mod schema;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use base64::Engine as _;
use caliopen_core::{Core, CoreConfig};
use caliopen_rest::{AppState, router};
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use credentials_key::with_test_key;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt as _;
use uuid::Uuid;

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A core and the API's router over a fresh store.
#[derive(Debug)]
pub struct TestApp {
    /// For what tests arrange or check around the API (never instead of it).
    pub core: Core,
    router: Router,
    /// The store under `core`, for tests that look at what it keeps.
    pub storage: EmbeddedStorage,
    /// Where the store lives.
    pub dir: TempDir,
    /// Each signup through [`TestApp::signup`] comes from its own address, as
    /// different people's do (signups are limited per address).
    signups: AtomicU32,
}

/// A logged-in user on one device.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub username: String,
    pub device_id: String,
    pub access_token: String,
}

impl Session {
    /// `Bearer base64(user_id:access_token)`, as the web client sends it.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.credentials())
    }

    /// `Basic base64(user_id:access_token)`, the spec's `basicAuth`.
    pub fn basic(&self) -> String {
        format!("Basic {}", self.credentials())
    }

    fn credentials(&self) -> String {
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.user_id, self.access_token))
    }
}

impl TestApp {
    /// With core's default settings.
    pub async fn new() -> Self {
        Self::with_config(CoreConfig::default()).await
    }

    /// With these core settings (short token lifetimes, few login attempts, ...).
    pub async fn with_config(config: CoreConfig) -> Self {
        let config = with_test_key(config);
        let dir = tempfile::tempdir().expect("temporary directory");
        let options = EmbeddedOptions {
            cache_bytes: 8 * 1024 * 1024,
            search_writer_memory_bytes: 15_000_000,
            ..EmbeddedOptions::default()
        };
        let storage =
            EmbeddedStorage::open(&dir.path().join("data"), options).expect("open the store");
        let core = Core::new(storage.stores(), config);
        let router = router(AppState::new(core.clone()));
        Self {
            core,
            router,
            storage,
            dir,
            signups: AtomicU32::new(0),
        }
    }

    /// Replaces the core (and the router over it) by one with other settings on
    /// the same store, as a restart with another configuration would.
    pub fn restart_with(&mut self, config: CoreConfig) {
        self.core = Core::new(self.storage.stores(), with_test_key(config));
        self.router = router(AppState::new(self.core.clone()));
    }

    /// A request to send; `uri` includes `/api`.
    pub fn call(&self, method: Method, uri: &str) -> Call<'_> {
        Call {
            app: self,
            method,
            uri: uri.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            checked: true,
            peer: None,
        }
    }

    pub fn get(&self, uri: &str) -> Call<'_> {
        self.call(Method::GET, uri)
    }

    pub fn post(&self, uri: &str) -> Call<'_> {
        self.call(Method::POST, uri)
    }

    pub fn patch(&self, uri: &str) -> Call<'_> {
        self.call(Method::PATCH, uri)
    }

    pub fn put(&self, uri: &str) -> Call<'_> {
        self.call(Method::PUT, uri)
    }

    pub fn delete(&self, uri: &str) -> Call<'_> {
        self.call(Method::DELETE, uri)
    }

    /// Signs `username` up through `POST /api/v1/users` (password [`PASSWORD`],
    /// recovery address `<username>@example.org`); answers the new user's id.
    pub async fn signup(&self, username: &str) -> Uuid {
        let n = self.signups.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        let res = self
            .post("/api/v1/users")
            .from(&format!("198.18.{}.{}", n[2], n[3]))
            .json(&json!({
                "username": username,
                "password": PASSWORD,
                "recovery_email": format!("{username}@example.org"),
            }))
            .send()
            .await
            .assert_status(StatusCode::OK);
        let location = res.json()["location"]
            .as_str()
            .expect("signup answers a location")
            .to_owned();
        location
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("no user id in {location}"))
    }

    /// Logs `username` in on `device_id` through `POST /api/v1/authentications`.
    pub async fn login(&self, username: &str, device_id: &str) -> Session {
        let res = self
            .post("/api/v1/authentications")
            .json(&json!({
                "username": username,
                "password": PASSWORD,
                "context": "test",
                "device": {"device_id": device_id},
            }))
            .send()
            .await
            .assert_status(StatusCode::OK);
        let body = res.json();
        Session {
            user_id: body["user_id"].as_str().unwrap().parse().unwrap(),
            username: username.to_owned(),
            device_id: device_id.to_owned(),
            access_token: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A new user, signed up and logged in on device `default`.
    pub async fn user(&self, username: &str) -> Session {
        self.signup(username).await;
        self.login(username, "default").await
    }
}

/// A request being built; [`Call::send`] sends it.
#[derive(Debug)]
pub struct Call<'a> {
    app: &'a TestApp,
    method: Method,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    checked: bool,
    peer: Option<SocketAddr>,
}

impl Call<'_> {
    /// From this client address (the TCP peer a server would see); without it,
    /// the request has no peer address.
    pub fn from(mut self, ip: &str) -> Self {
        let ip: IpAddr = ip.parse().expect("an IP address");
        self.peer = Some(SocketAddr::new(ip, 40000));
        self
    }

    /// As `session`: `Authorization: Bearer ...` and `X-Caliopen-Device-ID`.
    pub fn auth(self, session: &Session) -> Self {
        self.header("authorization", &session.bearer())
            .header("x-caliopen-device-id", &session.device_id)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A JSON body.
    pub fn json(self, body: &Value) -> Self {
        self.body(
            serde_json::to_vec(body).expect("JSON body"),
            "application/json",
        )
    }

    /// A body of any type.
    pub fn body(mut self, body: Vec<u8>, content_type: &str) -> Self {
        self.body = body;
        self.header("content-type", content_type)
    }

    /// Do not check the answer against the spec (for answers the spec cannot
    /// describe, e.g. a route it lacks).
    pub fn unchecked(mut self) -> Self {
        self.checked = false;
        self
    }

    /// Sends the request through the router; panics when the answer does not
    /// conform to the spec (see [`schema::Spec::check_response`]).
    pub async fn send(self) -> TestResponse {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&self.uri);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let mut request = request.body(Body::from(self.body)).expect("request");
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let response = self
            .app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("response body")
            .to_bytes()
            .to_vec();
        if self.checked
            && let Err(e) = schema::Spec::caliopen().check_response(
                self.method.as_str(),
                &self.uri,
                status.as_u16(),
                &bytes,
            )
        {
            panic!("{e}");
        }
        TestResponse {
            method: self.method,
            uri: self.uri,
            status,
            headers,
            bytes,
        }
    }
}

/// An answer.
#[derive(Debug)]
pub struct TestResponse {
    pub method: Method,
    pub uri: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl TestResponse {
    /// Panics, showing the body, unless the status is `expected`.
    #[track_caller]
    pub fn assert_status(self, expected: StatusCode) -> Self {
        assert_eq!(
            self.status,
            expected,
            "{} {}: {}",
            self.method,
            self.uri,
            String::from_utf8_lossy(&self.bytes)
        );
        self
    }

    /// The body as JSON (panics when it is not).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "{} {}: body is not JSON ({e}): {}",
                self.method,
                self.uri,
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The message of the first error of an error answer.
    #[track_caller]
    pub fn error_message(&self) -> String {
        self.json()["errors"][0]["message"]
            .as_str()
            .expect("an error answer")
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers.get(name)
    }
}

/// The boundary of [`Call::multipart`] bodies.
const BOUNDARY: &str = "caliopen-test-boundary-7f3a";

impl Call<'_> {
    /// A `multipart/form-data` body with one file field.
    pub fn multipart(self, field: &str, file_name: &str, content_type: &str, data: &[u8]) -> Self {
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        self.body(body, &format!("multipart/form-data; boundary={BOUNDARY}"))
    }
}

impl TestApp {
    /// The id at the end of a `location`.
    pub fn location_id(res: &TestResponse) -> String {
        let body = res.json();
        let location = body["location"].as_str().expect("a location");
        location.rsplit('/').next().unwrap().to_owned()
    }
}

/// `web/services/api-patch/index.js` `calcObjectForPatch` of the original web client:
/// for each top-level property that differs, the new value when it is truthy, and
/// the previous one in `current_state` when it is truthy.
pub fn web_client_patch(new: &Value, previous: &Value) -> Value {
    let truthy = |v: Option<&Value>| match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(_) => true,
    };
    let (new, previous) = (
        new.as_object().expect("an object"),
        previous.as_object().expect("an object"),
    );
    let mut patch = serde_json::Map::new();
    let mut state = serde_json::Map::new();
    for key in new.keys().chain(previous.keys()) {
        let (n, p) = (new.get(key), previous.get(key));
        if n == p {
            continue;
        }
        if truthy(n) {
            patch.insert(key.clone(), n.cloned().unwrap_or_default());
        }
        if truthy(p) {
            state.insert(key.clone(), p.cloned().unwrap_or_default());
        }
    }
    patch.insert("current_state".into(), Value::Object(state));
    Value::Object(patch)
}

impl TestApp {
    /// The id of `who`'s local identity.
    pub async fn local_identity(&self, who: &Session) -> String {
        let body = self
            .get("/api/v2/identities/locals")
            .auth(who)
            .send()
            .await
            .assert_status(StatusCode::OK)
            .json();
        body["local_identities"][0]["identity_id"]
            .as_str()
            .expect("a local identity")
            .to_owned()
    }
}
