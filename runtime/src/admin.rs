//! The admin HTTP API (loopback by default), for operators and the `caliopen` CLI
//! while a server runs:
//!
//! - `GET  /admin/slots` — every slot: active version, shadow candidate, history
//! - `GET  /admin/components` — every stored component version
//! - `POST /admin/components` — deploy `{"manifest": "<toml>", "wasm": "<base64>", "shadow": false}`
//! - `POST /admin/slots/{slot}/rollback` · `/promote` · `/activate` `{"version": "1.2.0"}`
//! - `GET  /admin/slots/{slot}/shadow` — the shadow report
//! - `GET  /admin/quarantine` · `POST /admin/quarantine/{id}/replay`
//! - `POST /admin/users` — `{"username", "password", "recovery_email"?}`
//! - `POST /admin/users/{username}/import?read=&answered=&flagged=&date=&from=` — one raw
//!   mail as the body (at most `[lmtp] max_message_size`, else 413), imported for the user
//!   (`caliopen import`): `{"outcome": "imported", "delivery"}` or
//!   `{"outcome": "present", "message"}`
//! - `GET  /admin/pipeline` — `{"pending", "quarantined", "index_backlog"}`
//! - `GET  /metrics` — Prometheus text, unauthenticated (keep the listener private)
//! - `GET  /health` — whether the critical parts run: `{"status": "ok"}` (200), or
//!   `{"status": "unhealthy", "unhealthy": [{"component", "reason"}]}` (503);
//!   unauthenticated, like `/metrics`
//!
//! Every `/admin` route wants `Authorization: Bearer <token>`: the `[admin] token` of
//! the configuration, else the one generated at first start in `<data_dir>/admin.token`
//! ([`admin_token`]). A token that is empty, holds whitespace or is shorter than
//! [`MIN_TOKEN_CHARS`] is refused at start, wherever it comes from; the generated
//! file is written whole or not at all (a temporary file, fsynced, then linked
//! into place) and readable by the owner only.

use std::io::Write as _;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use caliopen_core::delivery::{ImportOutcome, ImportedMail};
use caliopen_core::service::users::NewUser;
use caliopen_core::{Core, CoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::Config;
use crate::registry::{DeployError, Registry};
use crate::wasm::WasmEngine;

/// Largest deploy request (interpreted guests are tens of MB).
const DEPLOY_LIMIT: usize = 128 * 1024 * 1024;

/// Shortest admin token accepted (a generated one has 43 characters: 32 random
/// bytes in base64).
pub const MIN_TOKEN_CHARS: usize = 32;

/// The admin token: the configured one, else the one in `<data_dir>/admin.token`,
/// generated there at the first start. Refused when empty, whitespace or short.
pub fn admin_token(config: &Config) -> anyhow::Result<String> {
    if !config.admin.token.is_empty() {
        check_token(&config.admin.token).context("[admin] token of the configuration")?;
        return Ok(config.admin.token.clone());
    }
    let path = config.data_dir.join("admin.token");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let token = text.trim_end_matches(['\n', '\r']);
            check_token(token).with_context(|| {
                format!(
                    "{}: delete it to have a new token generated at the next start, or set \
                     [admin] token",
                    path.display()
                )
            })?;
            Ok(token.to_owned())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = {
                use rand::RngCore as _;
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
            };
            write_new_private(&path, &token)
                .with_context(|| format!("cannot write {}", path.display()))?;
            // Another process may have created it first: its token is the one.
            admin_token(config)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Refuses a token a guess or a mistake would match: empty, with whitespace or
/// control characters, or shorter than [`MIN_TOKEN_CHARS`].
fn check_token(token: &str) -> anyhow::Result<()> {
    if token.trim().is_empty() {
        bail!("the admin token is empty or only whitespace: the admin API would be open");
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("the admin token contains whitespace or control characters");
    }
    let n = token.chars().count();
    if n < MIN_TOKEN_CHARS {
        bail!("the admin token has {n} characters; it needs at least {MIN_TOKEN_CHARS}");
    }
    Ok(())
}

/// Creates `path` with `text` whole, mode 0600, or not at all: a temporary file
/// beside it is written and fsynced, then hard-linked to `path` (which fails, and
/// leaves the existing file, when `path` exists), and the directory fsynced.
fn write_new_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".admin.token.{}.tmp", uuid::Uuid::new_v4()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = std::fs::remove_file(&tmp);
    linked?;
    std::fs::File::open(dir)?.sync_all()
}

#[derive(Debug, Clone)]
pub struct AdminState {
    pub core: Core,
    pub registry: Arc<Registry>,
    pub engine: Arc<WasmEngine>,
    pub token: Arc<str>,
    /// The largest mail taken (the LMTP listener's limit), for imports.
    pub max_message_size: usize,
}

pub fn router(state: AdminState) -> Router {
    // One mail per import request, at most the listener's limit.
    let cap = DefaultBodyLimit::max(state.max_message_size + 1);
    let admin = Router::new()
        .route("/slots", get(slots))
        .route("/components", get(components).post(deploy))
        .route("/slots/{slot}/rollback", post(rollback))
        .route("/slots/{slot}/promote", post(promote))
        .route("/slots/{slot}/activate", post(activate))
        .route("/slots/{slot}/shadow", get(shadow))
        .route("/quarantine", get(quarantine))
        .route("/quarantine/{id}/replay", post(replay))
        .route("/users", post(add_user))
        .route("/pipeline", get(pipeline))
        .layer(DefaultBodyLimit::max(DEPLOY_LIMIT))
        .route("/users/{username}/import", post(import_mail).layer(cap));
    Router::new()
        .nest("/admin", admin)
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .with_state(state)
}

/// An admin error: `{"error": "..."}` with a status.
#[derive(Debug)]
pub struct AdminError(StatusCode, String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<DeployError> for AdminError {
    fn from(e: DeployError) -> Self {
        match e {
            DeployError::Core(e) => e.into(),
            e => AdminError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        }
    }
}

impl From<CoreError> for AdminError {
    fn from(e: CoreError) -> Self {
        let status = match &e {
            CoreError::Invalid { .. } => StatusCode::BAD_REQUEST,
            CoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            CoreError::Conflict(_) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        AdminError(status, e.to_string())
    }
}

type AdminResult = Result<Json<Value>, AdminError>;

fn check(state: &AdminState, headers: &HeaderMap) -> Result<(), AdminError> {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compare in constant time: the token guards component deployment. An empty
    // expected token (never accepted at start) matches nothing.
    let expected = state.token.as_bytes();
    let ok = !expected.is_empty()
        && given.len() == expected.len()
        && given
            .bytes()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if ok {
        Ok(())
    } else {
        Err(AdminError(
            StatusCode::UNAUTHORIZED,
            "admin token required: Authorization: Bearer <token>".into(),
        ))
    }
}

async fn slots(State(s): State<AdminState>, h: HeaderMap) -> AdminResult {
    check(&s, &h)?;
    Ok(Json(json!({ "slots": s.registry.list().await? })))
}

async fn components(State(s): State<AdminState>, h: HeaderMap) -> AdminResult {
    check(&s, &h)?;
    Ok(Json(
        json!({ "components": s.core.component_records().await? }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deploy {
    manifest: String,
    wasm: String,
    #[serde(default)]
    shadow: bool,
}

async fn deploy(
    State(s): State<AdminState>,
    h: HeaderMap,
    body: Result<Json<Deploy>, axum::extract::rejection::JsonRejection>,
) -> AdminResult {
    check(&s, &h)?;
    let Json(d) = body.map_err(|e| AdminError(StatusCode::BAD_REQUEST, e.body_text()))?;
    let wasm = base64::engine::general_purpose::STANDARD
        .decode(d.wasm.as_bytes())
        .map_err(|e| AdminError(StatusCode::BAD_REQUEST, format!("wasm is not base64: {e}")))?;
    Ok(Json(json!(
        s.registry.deploy(&d.manifest, wasm, d.shadow).await?
    )))
}

async fn rollback(
    State(s): State<AdminState>,
    h: HeaderMap,
    Path(slot): Path<String>,
) -> AdminResult {
    check(&s, &h)?;
    Ok(Json(json!(s.registry.rollback(&slot).await?)))
}

async fn promote(
    State(s): State<AdminState>,
    h: HeaderMap,
    Path(slot): Path<String>,
) -> AdminResult {
    check(&s, &h)?;
    Ok(Json(json!(s.registry.promote(&slot).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Activate {
    version: String,
}

async fn activate(
    State(s): State<AdminState>,
    h: HeaderMap,
    Path(slot): Path<String>,
    Json(a): Json<Activate>,
) -> AdminResult {
    check(&s, &h)?;
    let state = s.core.slot(&slot).await?;
    let name = state
        .active
        .as_deref()
        .or(state.shadow.as_deref())
        .and_then(|v| v.split_once('@'))
        .map(|(n, _)| n.to_owned())
        .ok_or_else(|| {
            AdminError(
                StatusCode::NOT_FOUND,
                format!("slot `{slot}` has no component"),
            )
        })?;
    Ok(Json(json!(
        s.registry.activate(&name, &a.version, "activate").await?
    )))
}

async fn shadow(
    State(s): State<AdminState>,
    h: HeaderMap,
    Path(slot): Path<String>,
) -> AdminResult {
    check(&s, &h)?;
    let report = s.registry.slots().shadow_report(&slot).ok_or_else(|| {
        AdminError(
            StatusCode::NOT_FOUND,
            format!("slot `{slot}` has no shadow candidate"),
        )
    })?;
    Ok(Json(json!(report)))
}

async fn quarantine(State(s): State<AdminState>, h: HeaderMap) -> AdminResult {
    check(&s, &h)?;
    Ok(Json(json!({ "quarantine": s.core.quarantined().await? })))
}

async fn replay(
    State(s): State<AdminState>,
    h: HeaderMap,
    Path(id): Path<uuid::Uuid>,
) -> AdminResult {
    check(&s, &h)?;
    s.core.replay(id).await?;
    Ok(Json(json!({ "replayed": id })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddUser {
    username: String,
    password: String,
    recovery_email: Option<String>,
}

async fn add_user(
    State(s): State<AdminState>,
    h: HeaderMap,
    Json(u): Json<AddUser>,
) -> AdminResult {
    check(&s, &h)?;
    let recovery_email = u
        .recovery_email
        .unwrap_or_else(|| format!("{}@{}", u.username, s.core.config().default_domain));
    let user = s
        .core
        .create_user(NewUser {
            username: u.username,
            password: u.password,
            recovery_email,
            ..NewUser::default()
        })
        .await?;
    Ok(Json(
        json!({ "user_id": user.id, "username": user.username, "address": user.local_identity }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    #[serde(default)]
    read: bool,
    #[serde(default)]
    answered: bool,
    #[serde(default)]
    flagged: bool,
    /// The date the source gave (an mbox `From ` line), RFC 3339.
    date: Option<chrono::DateTime<chrono::Utc>>,
    /// The envelope sender the source gave.
    #[serde(default)]
    from: String,
}

async fn import_mail(
    State(s): State<AdminState>,
    h: HeaderMap,
    Path(username): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> AdminResult {
    check(&s, &h)?;
    let raw = body.map_err(|e| AdminError(e.status(), e.body_text()))?;
    if raw.len() > s.max_message_size {
        return Err(AdminError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("over the size limit of {} bytes", s.max_message_size),
        ));
    }
    if raw.is_empty() {
        return Err(AdminError(StatusCode::BAD_REQUEST, "an empty mail".into()));
    }
    let recipient = s.core.import_recipient(&username).await?;
    let flags = ImportedMail {
        source_date: q.date,
        read: q.read,
        answered: q.answered,
        flagged: q.flagged,
    };
    Ok(Json(
        match s
            .core
            .import_mail(&recipient, raw.to_vec(), &q.from, flags)
            .await?
        {
            ImportOutcome::Accepted(id) => json!({ "outcome": "imported", "delivery": id }),
            ImportOutcome::AlreadyPresent(id) => json!({ "outcome": "present", "message": id }),
        },
    ))
}

async fn pipeline(State(s): State<AdminState>, h: HeaderMap) -> AdminResult {
    check(&s, &h)?;
    let stats = s.core.pipeline_stats().await?;
    Ok(Json(json!({
        "pending": stats.pending,
        "quarantined": stats.quarantined,
        "index_backlog": stats.index_backlog,
    })))
}

async fn health(State(s): State<AdminState>) -> Response {
    let report = s.core.health().report();
    if report.is_healthy() {
        return (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response();
    }
    let unhealthy: Vec<Value> = report
        .unhealthy
        .iter()
        .map(|u| json!({ "component": u.component, "reason": u.reason }))
        .collect();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unhealthy", "unhealthy": unhealthy })),
    )
        .into_response()
}

async fn metrics(State(s): State<AdminState>) -> impl IntoResponse {
    let mut out = String::new();
    s.engine.metrics().render(&mut out);
    if let Ok(stats) = s.core.pipeline_stats().await {
        out.push_str(
            "# HELP caliopen_deliveries_pending Deliveries accepted and not processed yet.\n",
        );
        out.push_str("# TYPE caliopen_deliveries_pending gauge\n");
        out.push_str(&format!("caliopen_deliveries_pending {}\n", stats.pending));
        out.push_str("# HELP caliopen_deliveries_quarantined Deliveries held for an operator.\n");
        out.push_str("# TYPE caliopen_deliveries_quarantined gauge\n");
        out.push_str(&format!(
            "caliopen_deliveries_quarantined {}\n",
            stats.quarantined
        ));
        out.push_str(
            "# HELP caliopen_index_backlog Search-index operations not applied yet (outbox).\n",
        );
        out.push_str("# TYPE caliopen_index_backlog gauge\n");
        out.push_str(&format!("caliopen_index_backlog {}\n", stats.index_backlog));
    }
    out.push_str(
        "# HELP caliopen_cluster_nodes Nodes this one counts live on its store, itself included.\n",
    );
    out.push_str("# TYPE caliopen_cluster_nodes gauge\n");
    out.push_str(&format!(
        "caliopen_cluster_nodes {}\n",
        s.core.live_nodes().len()
    ));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
}
