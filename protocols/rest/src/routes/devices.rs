//! Devices: `GET /v2/devices`, `GET|DELETE|PATCH /v2/devices/{device_id}`,
//! `POST /v2/devices/{device_id}/actions` (`device-validation`),
//! `GET /v2/validate-device/{token}`.
//!
//! Deleting a device revokes it: its token stops working at once, and it is no
//! longer listed nor found (logging in from it again registers it anew,
//! unverified). The `device-validation` action (`params.channel` must be
//! `email`, as the original's `go/ops/devices/devices.go` `Actions` required)
//! has core mail a token to the user's recovery address; the token is neither
//! answered nor logged (the unverified device itself could use it).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use caliopen_core::service::patch::MergePatch;
use caliopen_core::service::validate;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::messages::JsonBody;
use crate::routes::users::{Action, Actions};
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/devices", get(list))
        .route(
            "/v2/devices/{device_id}",
            get(read).delete(revoke).patch(update),
        )
        .route("/v2/devices/{device_id}/actions", post(actions))
        .route("/v2/validate-device/{token}", get(validate_device))
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
struct ListQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `{total, devices}`: the live (not revoked) devices, by id. `X-Caliopen-PI`
/// is not applied: devices are not filtered by privacy index.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (limit, offset) = validate::page(q.limit, q.offset, 100, 1000)?;
    let devices = state.core.list_devices(caller.user_id()).await?;
    Ok(Json(json!({
        "total": devices.len(),
        "devices": devices
            .iter()
            .skip(offset)
            .take(limit)
            .map(views::device::device)
            .collect::<Vec<_>>(),
    })))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(device_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let device = state.core.live_device(caller.user_id(), &device_id).await?;
    Ok(Json(views::device::device(&device)))
}

/// `204`: the device is revoked and its token stops working at once (the
/// caller's own device included: that is a logout for good). An unverified
/// device may revoke itself only (403 for another one).
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(device_id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.revoke_device_as(&caller.0, &device_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `204`; changes `name` and `type`.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(device_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let patch = MergePatch::from_json(body)?;
    state
        .core
        .patch_device(caller.user_id(), &device_id, &patch)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"actions": ["device-validation"], "params": {"channel": "email"}}`: 204 once
/// the token is mailed; 422 when `params.channel` is missing, empty or not
/// `email` (the original's only channel), 404 for an unknown device, 409 for a
/// verified one.
async fn actions(
    State(state): State<AppState>,
    caller: Caller,
    Path(device_id): Path<String>,
    JsonBody(body): JsonBody<Actions>,
) -> ApiResult<StatusCode> {
    body.single(&[Action::DeviceValidation], "device")?;
    let params = body.params.as_ref();
    if let Some(key) = params.and_then(|p| p.keys().find(|k| *k != "channel")) {
        return Err(ApiError::unprocessable(format!(
            "unknown field `params.{key}`: device-validation takes `params.channel` only"
        )));
    }
    match params.and_then(|p| p.get("channel")) {
        Some(Value::String(channel)) if channel == "email" => {}
        Some(Value::String(channel)) if !channel.is_empty() => {
            return Err(ApiError::unprocessable(format!(
                "`params.channel` must be `email`, not `{}`",
                channel.chars().take(32).collect::<String>()
            )));
        }
        _ => {
            return Err(ApiError::unprocessable(
                "`params.channel` is required: the channel the token is sent by (`email`)",
            ));
        }
    }
    state
        .core
        .request_device_validation(caller.user_id(), &device_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `204` when the token is live and the caller's (the device becomes verified),
/// else 404; 400 for an over-long token. The token itself says which device.
async fn validate_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(token): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.validate_device(caller.user_id(), &token).await?;
    Ok(StatusCode::NO_CONTENT)
}
