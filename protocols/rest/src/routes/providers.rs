//! OAuth providers for remote identities: `GET /v2/providers`,
//! `GET /v2/providers/{provider_name}`, `GET /v2/providers/{provider_name}/callback`,
//! `GET /v2/test/oauth`.
//!
//! This installation configures no OAuth provider (remote accounts are added
//! with their IMAP/SMTP credentials through `/v2/identities/remotes`). So the
//! list is empty, a named provider is 404 (it does not exist here), its callback
//! is 404 too, and so is the OAuth test page (there is no process to test).
//! Nothing pretends to succeed, and nothing answers a 5xx: the server works as
//! configured, the resource just does not exist here.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/providers", get(list))
        .route("/v2/providers/{provider_name}", get(read))
        .route("/v2/providers/{provider_name}/callback", get(callback))
        .route("/v2/test/oauth", get(test_page))
}

/// `{"total": 0, "providers": []}`.
async fn list(_caller: Caller) -> Json<Value> {
    Json(json!({ "total": 0, "providers": [] }))
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
#[allow(dead_code)]
struct ProviderQuery {
    identifier: Option<String>,
}

async fn read(
    _caller: Caller,
    Path(name): Path<String>,
    query: Result<Query<ProviderQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Err(no_provider(&name))
}

/// Where a provider would send the user back; there is none to come from. The
/// provider's query parameters (`code`, `state`, ...) are not looked at.
async fn callback(Path(name): Path<String>) -> ApiError {
    no_provider(&name)
}

async fn test_page() -> ApiError {
    ApiError::not_found(
        "there is no OAuth process to test: this installation configures no OAuth provider",
    )
}

fn no_provider(name: &str) -> ApiError {
    let mut shown: String = name.chars().take(64).collect();
    shown.retain(|c| !c.is_control());
    ApiError::not_found(format!(
        "provider `{shown}` not found: this installation configures no OAuth provider; \
         add remote accounts with their credentials at /api/v2/identities/remotes"
    ))
}
