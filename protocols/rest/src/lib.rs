//! The Caliopen REST API: the original `/api/v1` and `/api/v2` operations
//! (`../shared/caliopen-api/swagger.json`), over core only.
//!
//! - [`router`]: the whole API as a function of the app state, testable in process.
//! - [`state`]: [`AppState`], what every handler gets (core and settings).
//! - [`auth`]: the [`auth::Caller`] extractor: `Authorization` (Bearer
//!   base64(user_id:access_token), or Basic user_id:access_token) plus
//!   `X-Caliopen-Device-ID`, checked by core.
//! - [`client`]: the [`client::ClientAddr`] extractor (the TCP peer, or what a
//!   trusted proxy says in `X-Forwarded-For`) and [`client::RestSettings`]; core
//!   throttles logins, signups and lookups by it.
//! - [`headers`]: the security headers layer (nosniff, no framing, no referrer,
//!   no cache, a CSP without scripts) over every answer.
//! - [`error`]: [`error::ApiError`], the one error body clients get
//!   (`{"errors": [{code, message, name}]}`), mapped from core's typed errors.
//! - [`ranges`]: the [`ranges::Ranges`] extractor: the `X-Caliopen-IL` and
//!   `X-Caliopen-PI` range headers, read as the original did (never refused).
//! - [`routes`]: one module per resource.
//! - [`views`]: the JSON shapes of the spec, built from core's model.
//! - [`health`]: `GET /health`, outside the API: whether the node's critical
//!   parts still run.

pub mod auth;
pub mod client;
pub mod error;
pub mod headers;
pub mod health;
pub mod ranges;
pub mod routes;
pub mod state;
pub mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;

pub use state::AppState;

/// Request bodies above this size are refused with 413 (attachments excepted).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The API router. Everything lives under `/api`, but `/health`.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .nest("/api", routes::api())
        .route("/health", axum::routing::get(health::health))
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(reads_in_place))
        .with_state(state);
    headers::secure(api)
}

/// A request's reads are short (a token, a page of records): the embedded store
/// answers them on the worker that runs the request instead of handing each one to
/// the blocking pool and back (`GET /api/v2/messages` under `wrk`: see BENCHMARKS.md).
async fn reads_in_place(request: Request, next: Next) -> Response {
    caliopen_core::inline_reads(next.run(request)).await
}
