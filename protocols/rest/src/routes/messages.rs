//! Messages: `GET /v2/messages`, `GET /v2/messages/{message_id}`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use caliopen_core::service::messages::MessageFilter;
use caliopen_core::service::validate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/messages", get(list))
        .route("/v2/messages/{message_id}", get(read))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    discussion_id: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    #[allow(dead_code)]
    msg_id: Option<String>,
    #[serde(rename = "range[]")]
    #[allow(dead_code)]
    range: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (limit, offset) = validate::page(q.limit, q.offset, 20, 1000)?;
    let (pi_min, pi_max) = range_header(&headers, "x-caliopen-pi", 0, 100)?.unwrap_or((0, 100));
    let (il_min, il_max) = range_header(&headers, "x-caliopen-il", -10, 10)?.unwrap_or((-10, 10));
    // The bounds were checked against 0..100 and -10..10, so the narrowing is exact.
    let filter = MessageFilter {
        discussion_id: q.discussion_id,
        pi: (pi_min as u8, pi_max as u8),
        importance: (il_min as i8, il_max as i8),
        limit,
        offset,
    };
    let user = caller.user_id();
    let settings = state.core.settings(user).await?;
    let (total, messages) = state.core.list_messages(user, &filter).await?;
    Ok(Json(json!({
        "total": total,
        "messages": messages.iter().map(|m| views::message::message(m, &settings)).collect::<Vec<_>>(),
    })))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("message_id", &message_id)?;
    let user = caller.user_id();
    let settings = state.core.settings(user).await?;
    let message = state.core.message(user, id).await?;
    Ok(Json(views::message::message(&message, &settings)))
}

/// A path id: 404 rather than 400 for ids that cannot exist, as for unknown ones.
pub fn parse_id(what: &'static str, s: &str) -> ApiResult<Uuid> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("{what} `{s}` not found")))
}

/// `X-Caliopen-PI: min;max` style range headers, checked against their bounds.
fn range_header(
    headers: &HeaderMap,
    name: &str,
    lo: i64,
    hi: i64,
) -> ApiResult<Option<(i64, i64)>> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad_request(format!(
            "{name} must be `min;max` with {lo} <= min <= max <= {hi}"
        ))
    };
    let text = value.to_str().map_err(|_| bad())?;
    let (a, b) = text.split_once(';').ok_or_else(bad)?;
    let (a, b): (i64, i64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a < lo || b > hi || a > b {
        return Err(bad());
    }
    Ok(Some((a, b)))
}

/// A JSON body whose rejections use the API's error shape.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(JsonRejection::BytesRejection(e)) => {
                Err(ApiError::new(e.status(), "PayloadTooLarge", e.body_text()))
            }
            Err(e) => Err(ApiError::new(e.status(), "BadRequest", e.body_text())),
        }
    }
}
