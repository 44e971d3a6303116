//! Tags: `GET|POST /v2/tags`, `GET|PATCH|DELETE /v2/tags/{tag_id}` (the tag's
//! name). System tags cannot be deleted nor relabelled (403).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use caliopen_core::service::patch::MergePatch;
use caliopen_core::service::tags::NewTag;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::routes::messages::JsonBody;
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/tags", get(list).post(create))
        .route("/v2/tags/{tag_id}", get(read).patch(update).delete(remove))
}

/// `{total, tags}`.
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let tags = state.core.tags(caller.user_id()).await?;
    Ok(Json(json!({
        "total": tags.len(),
        "tags": tags.iter().map(views::tag::tag).collect::<Vec<_>>(),
    })))
}

/// The spec's `NewTag`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTagBody {
    label: String,
    #[serde(default)]
    importance_level: Option<i64>,
}

/// `200 {location, Location}`: `/api/v2/tags/{name}`, the name derived from the
/// label. The original answered `Location` (capitalised, `go/ops/tags/tags.go`
/// `CreateTag`), the swagger `location`: both are given.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewTagBody>,
) -> ApiResult<Json<Value>> {
    let tag = state
        .core
        .create_tag(
            caller.user_id(),
            NewTag {
                label: body.label,
                importance_level: body.importance_level,
            },
        )
        .await?;
    let location = views::tag::location(&tag);
    Ok(Json(json!({ "location": location, "Location": location })))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(tag_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let tag = state.core.tag(caller.user_id(), &tag_id).await?;
    Ok(Json(views::tag::tag(&tag)))
}

/// `204`: `label` and `importance_level`, checked against `current_state`.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(tag_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let patch = MergePatch::from_json(body)?;
    state
        .core
        .patch_tag(caller.user_id(), &tag_id, &patch)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(tag_id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.delete_tag(caller.user_id(), &tag_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
