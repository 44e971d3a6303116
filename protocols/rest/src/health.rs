//! `GET /health`: whether the node's critical parts still run
//! (`caliopen_core::health`), for load balancers and supervisors. Unauthenticated,
//! outside `/api`, and tiny: `{"status": "ok"}` (200), or `{"status": "unhealthy",
//! "unhealthy": ["delivery dispatcher"]}` (503) naming the parts that stopped; the
//! reasons are logged and on the admin listener's `/health`, not here.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

pub async fn health(State(state): State<AppState>) -> Response {
    let report = state.core.health().report();
    if report.is_healthy() {
        return (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response();
    }
    let names: Vec<&str> = report
        .unhealthy
        .iter()
        .map(|u| u.component.as_str())
        .collect();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unhealthy", "unhealthy": names })),
    )
        .into_response()
}
