//! Participants: `GET /v2/participants/suggest` (addresses to write to, from the
//! user's contacts and mail) and `POST /v2/participants/discussion` (the
//! discussion a set of participants makes).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use caliopen_core::service::drafts::DraftParticipant;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::messages::JsonBody;
use crate::state::AppState;
use crate::views;

/// Suggestions answered when the request does not say.
const DEFAULT_SUGGESTIONS: usize = 10;
/// Most suggestions answered.
const MAX_SUGGESTIONS: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/participants/suggest", get(suggest))
        .route("/v2/participants/discussion", post(discussion))
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
struct SuggestQuery {
    context: String,
    q: String,
    limit: Option<usize>,
}

/// `[ParticipantSuggest]`: contacts first, then addresses seen in the user's mail.
async fn suggest(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SuggestQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if q.context != "msg_compose" {
        return Err(ApiError::bad_request(
            "query parameter `context` must be `msg_compose`",
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_SUGGESTIONS);
    if !(1..=MAX_SUGGESTIONS).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "query parameter `limit` must be between 1 and {MAX_SUGGESTIONS}"
        )));
    }
    let found = state
        .core
        .suggest_participants(caller.user_id(), &q.q, limit)
        .await?;
    Ok(Json(Value::Array(
        found.iter().map(views::search::suggestion).collect(),
    )))
}

/// `{hash, discussion_id}`: `discussion_id` is the empty string when the user
/// has no such discussion, as the original answered
/// (`go/ops/participants/discussion.go`).
async fn discussion(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(participants): JsonBody<Vec<DraftParticipant>>,
) -> ApiResult<Json<Value>> {
    let lookup = state
        .core
        .discussion_for_participants(caller.user_id(), &participants)
        .await?;
    Ok(Json(json!({
        "hash": lookup.hash,
        "discussion_id": lookup.discussion_id.unwrap_or_default(),
    })))
}
