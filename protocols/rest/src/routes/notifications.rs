//! Notifications: `GET|DELETE /v2/notifications`,
//! `GET|DELETE /v2/notifications/{notification_id}`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use caliopen_core::model::Notification;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::messages::parse_id;
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/notifications", get(list).delete(remove_all))
        .route(
            "/v2/notifications/{notification_id}",
            get(read).delete(remove),
        )
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
struct ListQuery {
    from: Option<String>,
    to: Option<String>,
}

/// One end of a range: an RFC 3339 time (that instant included), or a
/// notification id (ids are time-ordered UUIDv7, so an id stands for its place
/// in time; that notification excluded, as the original's `from` was: its web
/// client polls with `from=<the last notif_id it has>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Time(DateTime<Utc>),
    Id(Uuid),
}

impl Bound {
    fn parse(field: &str, s: &str) -> ApiResult<Self> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(Self::Time(t.with_timezone(&Utc)));
        }
        s.parse().map(Self::Id).map_err(|_| {
            ApiError::bad_request(format!(
                "query parameter `{field}` must be an RFC 3339 time or a notification id"
            ))
        })
    }

    /// Whether this bound is at or before `n` (`n` passes a `from`).
    fn not_after(self, n: &Notification) -> bool {
        match self {
            Self::Time(t) => t <= n.date_insert,
            Self::Id(id) => id < n.id,
        }
    }

    /// Whether this bound is at or after `n` (`n` passes a `to`).
    fn not_before(self, n: &Notification) -> bool {
        match self {
            Self::Time(t) => n.date_insert <= t,
            Self::Id(id) => n.id < id,
        }
    }
}

/// `{total, notifications}`: the live notifications, oldest first as the
/// original listed them (`cas/notifications.go`), from `from` to `to` (both
/// optional; see [`Bound`]), both of one kind. Notifications live a few days at
/// most (their TTL class), so the list is not paged.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let from = q
        .from
        .as_deref()
        .map(|s| Bound::parse("from", s))
        .transpose()?;
    let to = q.to.as_deref().map(|s| Bound::parse("to", s)).transpose()?;
    if let (Some(a), Some(b)) = (from, to)
        && std::mem::discriminant(&a) != std::mem::discriminant(&b)
    {
        return Err(ApiError::bad_request(
            "`from` and `to` must both be times or both be notification ids",
        ));
    }
    let (_, mut all) = state
        .core
        .list_notifications(caller.user_id(), usize::MAX, 0)
        .await?;
    // Core lists them newest first.
    all.reverse();
    let picked: Vec<Value> = all
        .iter()
        .filter(|n| from.is_none_or(|b| b.not_after(n)) && to.is_none_or(|b| b.not_before(n)))
        .map(views::notification::notification)
        .collect();
    Ok(Json(
        json!({ "total": picked.len(), "notifications": picked }),
    ))
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
struct DeleteQuery {
    until: Option<String>,
}

/// `204`: deletes the notifications inserted before `until` (RFC 3339), or all.
async fn remove_all(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DeleteQuery>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let until = match q.until.as_deref() {
        None => None,
        Some(s) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|_| {
                    ApiError::bad_request("query parameter `until` must be an RFC 3339 time")
                })?
                .with_timezone(&Utc),
        ),
    };
    state
        .core
        .delete_notifications(caller.user_id(), until)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(notification_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("notification", &notification_id)?;
    let n = state.core.notification(caller.user_id(), id).await?;
    Ok(Json(views::notification::notification(&n)))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(notification_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id("notification", &notification_id)?;
    state.core.delete_notification(caller.user_id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
