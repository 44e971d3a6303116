//! `GET /v1/settings`, `PATCH /v1/settings` (a merge patch with `current_state`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use caliopen_core::service::patch::MergePatch;
use serde_json::Value;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::routes::messages::JsonBody;
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/settings", get(read).patch(update))
}

async fn read(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let settings = state.core.settings(caller.user_id()).await?;
    Ok(Json(views::user::settings(&settings)))
}

/// `204`; a stale `current_state` is 409, a field that is not a setting 400.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let patch = MergePatch::from_json(body)?;
    state.core.patch_settings(caller.user_id(), &patch).await?;
    Ok(StatusCode::NO_CONTENT)
}
