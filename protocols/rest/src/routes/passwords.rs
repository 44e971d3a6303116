//! Password reset, for users who cannot log in: `POST /v2/passwords/reset`,
//! `GET|POST /v2/passwords/reset/{token}`. No authentication.
//!
//! Core creates a reset token (one live per user, used once, expiring after
//! `password_reset_ttl`) and mails it to the user's recovery address; the token
//! is neither answered nor logged. Failures are answered as the original's
//! `go/ops/users/user.go` did, with the messages of `fac/users.go`
//! `RequestPasswordReset` that the web client translates
//! (`web/scenes/ForgotPassword/presenter.jsx`): 424 `[RESTfacility] user not
//! found`, 424 `[RESTfacility] username and recovery email mismatch`, 400 when
//! no field is given. Accounts are found by username, or with only a recovery
//! address by that address (core's recovery index, as the original's
//! `user_recovery_email` table).

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

/// `204` once the token is mailed; 400 (no field, malformed or over-long
/// fields), 424 (see the module docs), 429 (too many requests
/// for this username or from this address).
async fn request(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(body): JsonBody<ResetRequest>,
) -> ApiResult<StatusCode> {
    if body.username.is_empty() && body.recovery_email.is_empty() {
        return Err(ApiError::bad_request(
            "at least one of `username` and `recovery_email` is required",
        ));
    }
    let failed =
        |message: &str| ApiError::new(StatusCode::FAILED_DEPENDENCY, "FailedDependency", message);
    let reset = state
        .core
        .request_password_reset(&body.username, &body.recovery_email, client)
        .await
        .map_err(|e| match e {
            CoreError::NotFound { .. } => failed("[RESTfacility] user not found"),
            CoreError::Conflict(_) => failed("[RESTfacility] username and recovery email mismatch"),
            e => e.into(),
        })?;
    tracing::info!(user_id = %reset.user_id, expires_at = %reset.expires_at, "password reset token mailed");
    Ok(StatusCode::NO_CONTENT)
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
/// user ended. An unknown, used or expired token is 424, as the original's
/// `go/ops/users/user.go` `ResetPassword` answered (the web client tells the
/// user the link is dead on it: `web/scenes/ResetPassword/presenter.jsx`).
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
            CoreError::NotFound { .. } => ApiError::new(
                StatusCode::FAILED_DEPENDENCY,
                "FailedDependency",
                "unknown, used or expired password reset token",
            ),
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
