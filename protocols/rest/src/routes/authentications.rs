//! `POST /v1/authentications`: log in on a device.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use caliopen_core::service::auth::DeviceInfo;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::date;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/authentications", post(login))
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
        user_agent,
        ..DeviceInfo::default()
    };
    let outcome = state
        .core
        .login(&auth.username, &auth.password, device)
        .await?;
    Ok(Json(json!({
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
    })))
}
