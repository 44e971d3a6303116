//! Messages: `GET /v2/messages`, `GET /v2/messages/{message_id}`, drafts
//! (`POST /v1/messages`, `PATCH|DELETE /v1/messages/{message_id}`), actions
//! (`POST /v2/messages/{message_id}/actions`: send, set_read, set_unread) and
//! tags (`PATCH /v2/messages/{message_id}/tags`). Attachments are in
//! [`super::attachments`].
//!
//! A list answer is bounded in memory by [`LIST_ANSWER_BYTES`]: it holds the
//! messages of the page in order until the next one would take it past that
//! size, and always the first. `total` is still the number of messages that
//! match, so a client pages on with `offset` = the messages it has, which is
//! what the original web client does (`getNextOffset` is its collection's
//! length, `hasMore` is `total` above it): large mail arrives in shorter pages,
//! bodies whole, as the client reads them from the list. Core reads the records
//! a few at a time and each message is serialised as soon as it is read.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use caliopen_core::error::CoreError;
use caliopen_core::service::drafts::NewDraft;
use caliopen_core::service::messages::{MessageFilter, MessageFlag};
use caliopen_core::service::patch::MergePatch;
use caliopen_core::service::validate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::ranges::Ranges;
use crate::state::AppState;
use crate::views;

/// Most bytes of JSON a message list answer holds (unless its first message
/// alone is bigger: it is never cut).
pub const LIST_ANSWER_BYTES: usize = 8 << 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/messages", get(list))
        .route("/v2/messages/{message_id}", get(read))
        .route("/v1/messages", post(create_draft))
        .route(
            "/v1/messages/{message_id}",
            patch(patch_draft).delete(remove),
        )
        .route("/v2/messages/{message_id}/actions", post(actions))
        .route("/v2/messages/{message_id}/tags", patch(patch_tags))
}

/// Most query parameters of a list request (the web client sends four).
const MAX_LIST_PARAMS: usize = 64;

/// `GET /v2/messages`'s query, read as the original did
/// (`go/ops/messages/messages.go`): `discussion_id`, `limit`, `offset`,
/// `msg_id` with `range[]` (which may repeat), and every other parameter an
/// equality filter on the message field of that name: the flags `is_draft`,
/// `is_received`, `is_unread`, `is_answered` (`true` / `false`), and for a name
/// that is no such field, a filter nothing passes (never a 400).
fn list_filter(pairs: Vec<(String, String)>) -> ApiResult<MessageFilter> {
    if pairs.len() > MAX_LIST_PARAMS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_LIST_PARAMS} query parameters"
        )));
    }
    let mut filter = MessageFilter::default();
    let (mut limit, mut offset) = (None, None);
    let (mut msg_id, mut ranges) = (None, 0usize);
    let int = |name: &str, v: &str| {
        v.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("query parameter `{name}` must be an integer"))
        })
    };
    for (name, value) in pairs {
        match name.as_str() {
            "discussion_id" => filter.discussion_id = Some(value),
            "limit" => limit = Some(int("limit", &value)?),
            "offset" => offset = Some(int("offset", &value)?),
            "msg_id" => msg_id = Some(value),
            "range[]" => ranges += 1,
            other => match MessageFlag::parse(other) {
                Some(flag) => {
                    let wanted = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(ApiError::bad_request(format!(
                                "query parameter `{other}` must be `true` or `false`"
                            )));
                        }
                    };
                    filter.flags.push((flag, wanted));
                }
                None => filter.matches_nothing = true,
            },
        }
    }
    if msg_id.is_some() != (ranges > 0) {
        return Err(ApiError::bad_request(
            "`msg_id` and `range[]` go together: one was given without the other",
        ));
    }
    (filter.limit, filter.offset) = validate::page(limit, offset, 20, 1000)?;
    Ok(filter)
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ranges: Ranges,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(pairs) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut filter = list_filter(pairs)?;
    filter.pi = ranges.pi;
    filter.importance = ranges.il;
    let user = caller.user_id();
    let settings = state.core.settings(user).await?;
    // Messages are serialised one by one as core reads them, until the answer
    // holds LIST_ANSWER_BYTES (always at least one message): see the module docs.
    let mut messages = Vec::new();
    let mut count = 0usize;
    let total = state
        .core
        .visit_messages(user, &filter, |m| {
            let mark = messages.len();
            if count > 0 {
                messages.push(b',');
            }
            let view = views::message::message(&m, &settings);
            if let Err(e) = serde_json::to_writer(&mut messages, &view) {
                // Views hold only strings, numbers and maps with string keys.
                unreachable!("a message view failed to serialise: {e}");
            }
            if count > 0 && messages.len() > LIST_ANSWER_BYTES {
                messages.truncate(mark);
                return false;
            }
            count += 1;
            messages.len() < LIST_ANSWER_BYTES
        })
        .await?;
    let head = format!("{{\"total\":{total},\"messages\":[");
    let parts: [Result<Bytes, Infallible>; 3] = [
        Ok(Bytes::from(head)),
        Ok(Bytes::from(messages)),
        Ok(Bytes::from_static(b"]}")),
    ];
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(futures_util::stream::iter(parts)),
    )
        .into_response())
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id("message_id", &message_id)?;
    let user = caller.user_id();
    let settings = state.core.settings(user).await?;
    let message = state.core.message(user, id).await?;
    let message = state.core.resolved(message).await?;
    Ok(Json(views::message::message(&message, &settings)).into_response())
}

/// `200 {location}`: a draft from one of the user's identities, under the
/// `message_id` the client chose when it gave one. As the original
/// (`caliopen_main/message/parameters/draft.py`, `validate_uuid`): a
/// `message_id` that is not a UUID, or that the user already has, is a 422.
async fn create_draft(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(draft): JsonBody<NewDraft>,
) -> ApiResult<Json<Value>> {
    let unprocessable =
        |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable", message);
    let message = match state.core.create_draft(caller.user_id(), draft).await {
        Ok(message) => message,
        Err(CoreError::Invalid { field, reason }) if field == "message_id" => {
            return Err(unprocessable(format!("invalid message_id: {reason}")));
        }
        Err(CoreError::Conflict(message)) => return Err(unprocessable(message)),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(
        json!({ "location": views::message::location(&message) }),
    ))
}

/// `204`: a merge patch of a draft's subject, body, participants or identity.
async fn patch_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let id = parse_id("message_id", &message_id)?;
    let patch = MergePatch::from_json(body)?;
    state.core.patch_draft(caller.user_id(), id, &patch).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id("message_id", &message_id)?;
    state.core.delete_message(caller.user_id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The spec's `Actions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionsBody {
    actions: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    params: Option<serde_json::Map<String, Value>>,
}

/// `200` with the message as the actions left it.
async fn actions(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
    JsonBody(body): JsonBody<ActionsBody>,
) -> ApiResult<Response> {
    let id = parse_id("message_id", &message_id)?;
    let user = caller.user_id();
    let message = state.core.message_actions(user, id, &body.actions).await?;
    let message = state.core.resolved(message).await?;
    let settings = state.core.settings(user).await?;
    Ok(Json(views::message::message(&message, &settings)).into_response())
}

/// `204`: `{tags, current_state: {tags}}`.
async fn patch_tags(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let id = parse_id("message_id", &message_id)?;
    let patch = MergePatch::from_json(body)?;
    state
        .core
        .patch_message_tags(caller.user_id(), id, &patch)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A path id: 404 rather than 400 for ids that cannot exist, as for unknown ones.
pub fn parse_id(what: &'static str, s: &str) -> ApiResult<Uuid> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("{what} `{s}` not found")))
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
            Err(JsonRejection::MissingJsonContentType(e)) => Err(ApiError::new(
                e.status(),
                "UnsupportedMediaType",
                e.body_text(),
            )),
            // A body that does not fit the schema (unknown or missing field, wrong
            // type) is a 400 naming the field, like a syntax error.
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}
