//! Search: `GET /v2/search?term=&doctype=message|contact&limit&offset` over the
//! user's messages and contacts; `POST /v2/search` is `501` as in the spec.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use caliopen_core::service::validate;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v2/search", get(search).post(not_implemented))
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
struct SearchQuery {
    term: Option<String>,
    field: Option<String>,
    doctype: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `{total, messages_hits, contact_hits}`; without `doctype`, at most 5 hits of
/// each kind (the original API's rule).
async fn search(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if let Some(field) = q.field.as_deref().filter(|f| !f.is_empty() && *f != "_all") {
        return Err(ApiError::bad_request(format!(
            "query parameter `field`: searching one field (`{field}`) is not supported, only `_all`"
        )));
    }
    let (limit, offset) = validate::page(q.limit, q.offset, 20, 100)?;
    let term = q.term.unwrap_or_default();
    let user = caller.user_id();
    let outcome = state
        .core
        .search(user, &term, q.doctype.as_deref(), limit, offset)
        .await?;
    let settings = state.core.settings(user).await?;
    let view = views::search::outcome(&outcome, &settings);
    let size_hint = view.size_hint();
    Ok(views::json_response(&view, size_hint))
}

async fn not_implemented(_caller: Caller) -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        "search by POST is not implemented: use GET /api/v2/search",
    )
}
