//! Discussions: `GET /v2/discussions`, `GET /v2/discussions/{discussion_id}`,
//! and `PATCH /v2/discussions/{discussion_id}/tags` (not in the spec, but called
//! by the web client: it sets the tags of every message of the discussion).
//!
//! The list takes the spec's range headers ([`crate::ranges`]): `X-Caliopen-IL`
//! narrows it to the messages in its range, as the original's did;
//! `X-Caliopen-PI` is read and, as in the original, applied to no discussion.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use caliopen_core::service::patch::MergePatch;
use caliopen_core::service::validate;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::ranges::Ranges;
use crate::routes::messages::JsonBody;
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/discussions", get(list))
        .route("/v2/discussions/{discussion_id}", get(read))
        .route("/v2/discussions/{discussion_id}/tags", patch(patch_tags))
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
struct ListQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `{total, discussions}`, the one with the newest message first.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ranges: Ranges,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (limit, offset) = validate::page(q.limit, q.offset, 20, 1000)?;
    let (total, discussions) = state
        .core
        .list_discussions(caller.user_id(), ranges.il, limit, offset)
        .await?;
    Ok(Json(json!({
        "total": total,
        "discussions": discussions.iter().map(views::discussion::discussion).collect::<Vec<_>>(),
    })))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(discussion_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = state
        .core
        .discussion(caller.user_id(), &discussion_id)
        .await?;
    Ok(Json(views::discussion::discussion(&view)))
}

/// `204`: `{tags, current_state: {tags}}`, set on every message of the discussion.
async fn patch_tags(
    State(state): State<AppState>,
    caller: Caller,
    Path(discussion_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let patch = MergePatch::from_json(body)?;
    state
        .core
        .patch_discussion_tags(caller.user_id(), &discussion_id, &patch)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
