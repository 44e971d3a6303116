//! The API's errors: `{"errors": [{"code", "message", "name"}]}` with the matching
//! status. Core's typed errors map here; internals (storage messages) are logged,
//! never sent. A 429 says when to come back in `Retry-After` (seconds).
//!
//! Where the original web client looks for one of the original's facility error
//! entries (X2 of docs/api-compatibility.md: an internal `code` such as 6
//! forbidden or 8 wrong credentials, with an exact `message`), the answer carries
//! it after the first entry ([`ApiError::with_cause`]).

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
    /// Entries after the first: the original's facility errors
    /// (`obj/errors.go` codes, below 400), see the module docs.
    pub causes: Vec<Cause>,
}

/// One of the original's facility error entries: `{code, name, message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub code: u16,
    pub name: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
            retry_after: None,
            causes: Vec::new(),
        }
    }

    /// Adds one of the original's facility error entries after the first one.
    pub fn with_cause(mut self, code: u16, name: &'static str, message: impl Into<String>) -> Self {
        self.causes.push(Cause {
            code,
            name,
            message: message.into(),
        });
        self
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnprocessableEntity",
            message,
        )
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
        let first = json!({
            "code": self.status.as_u16(),
            "name": self.name,
            "message": self.message,
        });
        let causes = self.causes.iter().map(|c| {
            json!({
                "code": c.code,
                "name": c.name,
                "message": c.message,
            })
        });
        json!({ "errors": std::iter::once(first).chain(causes).collect::<Vec<_>>() })
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
            // The original's message as is: the web client parses it
            // (`web/scenes/contact/services/handleContactSaveErrors.ts`).
            CoreError::UriTaken { .. } => {
                Self::new(StatusCode::FORBIDDEN, "Forbidden", e.to_string())
            }
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
