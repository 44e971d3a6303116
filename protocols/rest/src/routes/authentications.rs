//! `POST /v1/authentications`: log in on a device; `POST
//! /v1/authentications/refresh`: trade a refresh token for new tokens.
//!
//! The original issued a refresh token but had no way to use it (its web client
//! left a "TODO: refresh token" and signs in again on expiry); the refresh route
//! is ours. It takes `{"user_id", "refresh_token"}` (the device from
//! `X-Caliopen-Device-ID`, or the one the token was issued to), answers what a
//! login answers, and uses the refresh token up. Failed logins are throttled by
//! core per account and per client address; a 429 carries `Retry-After`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use caliopen_core::service::auth::DeviceInfo;
use serde::Deserialize;
use serde_json::{Value, json};

use caliopen_core::service::auth::LoginOutcome;
use uuid::Uuid;

use crate::auth::DEVICE_HEADER;
use crate::client::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::date;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/authentications", post(login))
        .route("/v1/authentications/refresh", post(refresh))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Authentication {
    username: String,
    password: String,
    #[serde(default)]
    #[allow(dead_code)]
    context: Option<String>,
    #[serde(default)]
    device: Option<DefaultDevice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultDevice {
    device_id: String,
    #[serde(default)]
    #[allow(dead_code)]
    ecdsa_key: Option<Value>,
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: crate::routes::messages::JsonBody<Authentication>,
) -> ApiResult<Json<Value>> {
    let auth = body.0;
    if auth.username.is_empty() || auth.password.is_empty() {
        return Err(ApiError::bad_request("username and password are required"));
    }
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let device = DeviceInfo {
        device_id: auth.device.map(|d| d.device_id).unwrap_or_default(),
        user_agent: user_agent.chars().take(512).collect(),
        client,
        ..DeviceInfo::default()
    };
    let outcome = state
        .core
        .login(&auth.username, &auth.password, device)
        .await?;
    Ok(Json(session(&outcome)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Refresh {
    user_id: String,
    refresh_token: String,
}

/// What a login answers, with new tokens; 401 for an unknown, used or expired
/// refresh token.
async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: crate::routes::messages::JsonBody<Refresh>,
) -> ApiResult<Json<Value>> {
    let body = body.0;
    let user_id = body
        .user_id
        .parse::<Uuid>()
        .map_err(|_| ApiError::bad_request("`user_id` is not a user id"))?;
    let device = headers.get(DEVICE_HEADER).and_then(|v| v.to_str().ok());
    let outcome = state
        .core
        .refresh(user_id, &body.refresh_token, device)
        .await?;
    Ok(Json(session(&outcome)))
}

/// The answer of a login or a refresh.
fn session(outcome: &LoginOutcome) -> Value {
    json!({
        "username": outcome.user.username,
        "user_id": outcome.user.id.to_string(),
        "tokens": {
            "access_token": outcome.tokens.access_token,
            "refresh_token": outcome.tokens.refresh_token,
            "expires_in": outcome.tokens.expires_in,
            "expires_at": date(&outcome.tokens.expires_at),
        },
        "device": {
            "device_id": outcome.device.device_id,
            "status": serde_json::to_value(outcome.device.status).unwrap_or(Value::Null),
        },
    })
}
