//! Password reset, for users who cannot log in: `POST /v2/passwords/reset`,
//! `GET|POST /v2/passwords/reset/{token}`. No authentication.
//!
//! Core creates a reset token (one live per user, used once, expiring after
//! `password_reset_ttl`). It is meant to reach the user by mail at their recovery
//! address; this installation cannot send mail yet (outbound mail is future
//! work), so the request is answered `424 Failed Dependency` saying so, once
//! the username and recovery address have checked out. The token is neither
//! answered nor logged: whoever knows a username and its recovery address would
//! otherwise take the account over. When outbound mail exists, the answer becomes
//! the spec's `204` after the mail is queued.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use caliopen_core::CoreError;
use serde::Deserialize;

use crate::client::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::routes::messages::JsonBody;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/passwords/reset", post(request))
        .route("/v2/passwords/reset/{token}", get(check).post(reset))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    #[serde(default)]
    username: String,
    #[serde(default)]
    recovery_email: String,
}

/// 400 (missing, malformed or over-long fields), 404 (no such user with this
/// recovery address), 429 (too many requests for this username or from this
/// address), else 424 (see the module docs).
async fn request(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(body): JsonBody<ResetRequest>,
) -> ApiResult<StatusCode> {
    let reset = state
        .core
        .request_password_reset(&body.username, &body.recovery_email, client)
        .await?;
    tracing::warn!(
        user_id = %reset.user_id,
        expires_at = %reset.expires_at,
        "password reset token created but not mailed: outbound mail is not available"
    );
    Err(not_mailed())
}

/// The answer of requests whose token would be mailed.
pub fn not_mailed() -> ApiError {
    ApiError::new(
        StatusCode::FAILED_DEPENDENCY,
        "FailedDependency",
        "this server cannot send mail yet, so the token that confirms this request \
         could not be sent; ask the administrator",
    )
}

/// `204` when the token is live, else 404.
async fn check(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<StatusCode> {
    state.core.password_reset_user(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
}

/// `204`: the password is changed, the token used up, every session of the
/// user ended. An unknown, used or expired token is 401 (what the spec declares
/// for this operation; `GET` says 404 for the same token).
async fn reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    JsonBody(body): JsonBody<NewPassword>,
) -> ApiResult<StatusCode> {
    state
        .core
        .reset_password(&token, &body.password)
        .await
        .map_err(|e| match e {
            CoreError::NotFound { .. } => {
                ApiError::unauthorized("unknown, used or expired password reset token")
            }
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
