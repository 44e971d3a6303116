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
//! - `GET  /metrics` — Prometheus text, unauthenticated (keep the listener private)
//! - `GET  /health` — whether the critical parts run: `{"status": "ok"}` (200), or
//!   `{"status": "unhealthy", "unhealthy": [{"component", "reason"}]}` (503);
//!   unauthenticated, like `/metrics`
//!
//! Every `/admin` route wants `Authorization: Bearer <token>`: the `[admin] token` of
//! the configuration, else the one generated at first start in `<data_dir>/admin.token`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use caliopen_core::service::users::NewUser;
use caliopen_core::{Core, CoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::registry::{DeployError, Registry};
use crate::wasm::WasmEngine;

/// Largest deploy request (interpreted guests are tens of MB).
const DEPLOY_LIMIT: usize = 128 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct AdminState {
    pub core: Core,
    pub registry: Arc<Registry>,
    pub engine: Arc<WasmEngine>,
    pub token: Arc<str>,
}

pub fn router(state: AdminState) -> Router {
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
        .layer(DefaultBodyLimit::max(DEPLOY_LIMIT));
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
    // Compare in constant time: the token guards component deployment.
    let expected = state.token.as_bytes();
    let ok = given.len() == expected.len()
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
