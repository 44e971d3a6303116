//! Imports: `POST /v2/imports`, contacts from a vCard file (multipart field
//! `file`). Every card becomes a contact or says why it did not; a file from
//! which no contact could be made is `422`.
//!
//! Mail is not taken here: the original specification and web client send vCard
//! files only. An mbox (plain or gzip-compressed) is refused with `422` naming the
//! operator's `caliopen import` (docs/import.md).

use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use caliopen_core::service::import_vcard::{CardOutcome, VcardImport};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::attachments::multipart_rejection;
use crate::state::AppState;

/// Largest upload: core refuses larger vCard files with its own message.
const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;
/// The multipart field that carries the file.
const FIELD: &str = "file";

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/v2/imports",
        post(import).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
    )
}

/// `200 {total, created, failed, cards: [...]}`.
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<Value>> {
    let mut multipart = multipart.map_err(|e| multipart_rejection(&headers, &e))?;
    let mut data = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        if field.name() == Some(FIELD) {
            data = Some(field.bytes().await.map_err(|e| multipart_error(&e))?);
            break;
        }
    }
    let data = data.ok_or_else(|| {
        ApiError::bad_request(format!(
            "multipart field `{FIELD}` (the vCard file) is required"
        ))
    })?;
    if data.starts_with(b"From ") || data.starts_with(&[0x1f, 0x8b]) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable",
            "this endpoint imports contacts from a vCard file; mail (an mbox) is imported by \
             the operator with `caliopen import`"
                .to_owned(),
        ));
    }
    let report = state.core.import_vcards(caller.user_id(), &data).await?;
    if report.created() == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable",
            format!(
                "no contact could be made from the file: {}",
                reasons(&report)
            ),
        ));
    }
    Ok(Json(summary(&report)))
}

fn multipart_error(e: &MultipartError) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge",
            format!("an import file is at most {UPLOAD_LIMIT} bytes"),
        ),
        _ => ApiError::bad_request(format!("malformed multipart body: {}", e.body_text())),
    }
}

fn summary(report: &VcardImport) -> Value {
    let cards: Vec<Value> = report
        .cards
        .iter()
        .map(|c| {
            let mut card = json!({ "index": c.index, "line": c.line, "name": c.name });
            let obj = card.as_object_mut().expect("json! object");
            match &c.outcome {
                CardOutcome::Created {
                    contact_id,
                    warnings,
                } => {
                    obj.insert("status".into(), json!("created"));
                    obj.insert("contact_id".into(), json!(contact_id.to_string()));
                    obj.insert("warnings".into(), json!(warnings));
                }
                CardOutcome::Failed { reason } => {
                    obj.insert("status".into(), json!("failed"));
                    obj.insert("reason".into(), json!(reason));
                }
            }
            card
        })
        .collect();
    json!({
        "total": report.cards.len(),
        "created": report.created(),
        "failed": report.failed(),
        "cards": cards,
    })
}

/// The failures of the first few cards, for the error message.
fn reasons(report: &VcardImport) -> String {
    let shown: Vec<String> = report
        .cards
        .iter()
        .filter_map(|c| match &c.outcome {
            CardOutcome::Failed { reason } => {
                Some(format!("card {} (line {}): {reason}", c.index, c.line))
            }
            CardOutcome::Created { .. } => None,
        })
        .take(3)
        .collect();
    shown.join("; ")
}
