//! Raw mail: `GET /v1/raws/{raw_msg_id}`, the bytes a message was stored from
//! (or a sent message was rendered to). Another user's raw mail is not found.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/raws/{raw_msg_id}", get(read))
}

/// The raw mail as `text/plain` (the spec's type; mail is 7- or 8-bit text).
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_msg_id): Path<String>,
) -> ApiResult<Response> {
    let raw = state
        .core
        .raw_message(caller.user_id(), &raw_msg_id)
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain")], Body::from(raw)).into_response())
}
