//! Discussions: `GET /v2/discussions`, `GET /v2/discussions/{discussion_id}`,
//! and `PATCH /v2/discussions/{discussion_id}/tags` (not in the spec, but called
//! by the web client: it sets the tags of every message of the discussion).
//!
//! The list takes the spec's `X-Caliopen-PI` / `X-Caliopen-IL` range headers;
//! they are checked, but core lists discussions by date only, so they do not
//! narrow the list.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch};
use axum::{Json, Router};
use caliopen_core::service::patch::MergePatch;
use caliopen_core::service::validate;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::messages::{JsonBody, range_header};
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

/// `{total, discussions}`, most recent activity first.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (limit, offset) = validate::page(q.limit, q.offset, 20, 1000)?;
    range_header(&headers, "x-caliopen-pi", 0, 100)?;
    range_header(&headers, "x-caliopen-il", -10, 10)?;
    let (total, discussions) = state
        .core
        .list_discussions(caller.user_id(), limit, offset)
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
