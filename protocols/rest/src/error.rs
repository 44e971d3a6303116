//! The API's errors: `{"errors": [{"code", "message", "name"}]}` with the matching
//! status. Core's typed errors map here; internals (storage messages) are logged,
//! never sent. A 429 says when to come back in `Retry-After` (seconds).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use caliopen_core::CoreError;
use serde_json::json;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub name: &'static str,
    pub message: String,
    /// Seconds to wait, answered as `Retry-After` (with 429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message)
    }
}

impl ApiError {
    /// The error body: `{"errors": [{"code", "name", "message"}]}`.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "errors": [{
                "code": self.status.as_u16(),
                "name": self.name,
                "message": self.message,
            }]
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"caliopen\""),
            );
        }
        response
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid { .. } => Self::bad_request(e.to_string()),
            CoreError::NotFound { .. } => Self::not_found(e.to_string()),
            CoreError::Conflict(_) => Self::new(StatusCode::CONFLICT, "Conflict", e.to_string()),
            CoreError::Unauthenticated(_) => Self::unauthorized(e.to_string()),
            CoreError::Forbidden(_) => Self::new(StatusCode::FORBIDDEN, "Forbidden", e.to_string()),
            CoreError::RateLimited { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    e.to_string(),
                )
            },
            CoreError::NotConfigured(_) => {
                Self::new(StatusCode::NOT_IMPLEMENTED, "NotImplemented", e.to_string())
            }
            CoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "service unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    e.to_string(),
                )
            }
            CoreError::Storage(ref inner) if inner.is_transient() => {
                tracing::warn!(error = %e, "storage unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "storage is unavailable, retry later",
                )
            }
            CoreError::Storage(_) | CoreError::Corrupt { .. } => {
                tracing::error!(error = %e, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "internal error",
                )
            }
        }
    }
}

/// Answer of unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such resource")
}

pub type ApiResult<T> = Result<T, ApiError>;
