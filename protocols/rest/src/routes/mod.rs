//! One module per resource of the API.

pub mod authentications;
pub mod messages;

use axum::Router;

use crate::state::AppState;

/// Every operation, under `/api`.
pub fn api() -> Router<AppState> {
    Router::new()
        .merge(authentications::routes())
        .merge(messages::routes())
}
