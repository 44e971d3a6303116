//! Attachments of messages: `POST /v2/messages/{message_id}/attachments`
//! (multipart upload to a draft, field `attachment`),
//! `GET|DELETE /v2/messages/{message_id}/attachments/{attachment_id}`.
//!
//! A received attachment is a leaf part of its raw mail: core has it read out by
//! the parser component, in its sandbox and a few at a time; nothing here parses
//! mail.

use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use caliopen_core::service::attachments::{MAX_ATTACHMENT_BYTES, NewAttachment};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::messages::parse_id;
use crate::state::AppState;

/// Room for the multipart framing around the largest attachment.
const UPLOAD_LIMIT: usize = MAX_ATTACHMENT_BYTES + 64 * 1024;
/// The multipart field that carries the file.
const FIELD: &str = "attachment";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/messages/{message_id}/attachments",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route(
            "/v2/messages/{message_id}/attachments/{attachment_id}",
            get(download).delete(remove),
        )
}

/// `201 {temp_id}`.
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = parse_id("message_id", &message_id)?;
    let mut multipart = multipart.map_err(|e| multipart_rejection(&headers, &e))?;
    let multipart_error = |e: axum::extract::multipart::MultipartError| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge",
            format!("an attachment is at most {MAX_ATTACHMENT_BYTES} bytes"),
        ),
        _ => ApiError::bad_request(format!("malformed multipart body: {}", e.body_text())),
    };
    let mut new = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some(FIELD) {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let content_type = field.content_type().unwrap_or_default().to_owned();
        let content = field.bytes().await.map_err(multipart_error)?.to_vec();
        new = Some(NewAttachment {
            file_name,
            content_type,
            is_inline: false,
            content,
        });
        break;
    }
    let new = new.ok_or_else(|| {
        ApiError::bad_request(format!("multipart field `{FIELD}` (the file) is required"))
    })?;
    let attachment = state
        .core
        .add_draft_attachment(caller.user_id(), id, new)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "temp_id": attachment.index.to_string() })),
    ))
}

/// The attachment's bytes, with its type and file name.
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((message_id, attachment_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let id = parse_id("message_id", &message_id)?;
    let index = parse_index(&attachment_id)?;
    let data = state
        .core
        .attachment_content(caller.user_id(), id, index)
        .await?;
    let bytes = data.content;
    let content_type = if data.attachment.content_type.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        data.attachment.content_type
    };
    let disposition = format!(
        "attachment; filename=\"{}\"",
        data.attachment
            .file_name
            .replace(|c: char| c == '"' || c == '\\' || c.is_control(), "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from(bytes),
    )
        .into_response())
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((message_id, attachment_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = parse_id("message_id", &message_id)?;
    let index = parse_index(&attachment_id)?;
    state
        .core
        .delete_draft_attachment(caller.user_id(), id, index)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A body that is not `multipart/form-data` is `415`; a malformed one `400`.
pub(crate) fn multipart_rejection(headers: &HeaderMap, e: &MultipartRejection) -> ApiError {
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if is_multipart {
        ApiError::bad_request(format!("malformed multipart body: {}", e.body_text()))
    } else {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "the body must be `multipart/form-data`",
        )
    }
}

fn parse_index(s: &str) -> ApiResult<u32> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("attachment `{s}` not found")))
}
