//! Identities: `GET /v2/identities/locals`, `GET|POST /v2/identities/remotes`,
//! `GET|DELETE|PATCH /v2/identities/remotes/{identifier}` (the identity's id).
//!
//! Remote credentials are answered masked by core (secrets as `********`); a
//! patch that sends a mask back keeps the stored secret.
//!
//! Ours, beside the spec: a remote identity's `infos.ownership` is `pending`
//! until the user confirms the code mailed to the address when the identity was
//! added (`GET /v2/validate-identity/{code}`, as the caller: `204`), then
//! `verified`; only a verified identity sends (else 403 naming why).
//! `POST /v2/identities/remotes/{identifier}/actions` with
//! `{"actions": ["identity-validation"]}` mails a new code (`204`). An address of
//! this server is never a remote identity (403). `status` stays the user's
//! `active`/`inactive` switch, as the original spelled it.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use caliopen_core::CoreError;
use caliopen_core::model::IdentityKind;
use caliopen_core::service::patch::MergePatch;
use caliopen_core::service::remote_identities::NewRemoteIdentity;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::messages::{JsonBody, parse_id};
use crate::routes::users::{Action, Actions};
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/identities/locals", get(locals))
        .route("/v2/identities/remotes", get(remotes).post(create))
        .route(
            "/v2/identities/remotes/{identifier}",
            get(read).delete(remove).patch(update),
        )
        .route("/v2/identities/remotes/{identifier}/actions", post(actions))
        .route("/v2/validate-identity/{code}", get(validate))
}

/// `{total, local_identities}`.
async fn locals(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let identities = state
        .core
        .identities(caller.user_id(), IdentityKind::Local)
        .await?;
    Ok(Json(json!({
        "total": identities.len(),
        "local_identities": identities.iter().map(views::identity::identity).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
struct RemotesQuery {
    pending: Option<String>,
}

/// `{total, remote_identities}`. `pending=true` asks for identities waiting for
/// an OAuth authorisation: there are none without OAuth providers.
async fn remotes(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<RemotesQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let pending = match q.pending.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "query parameter `pending` must be `true` or `false`",
            ));
        }
    };
    let identities = if pending {
        Vec::new()
    } else {
        state.core.remote_identities(caller.user_id()).await?
    };
    Ok(Json(json!({
        "total": identities.len(),
        "remote_identities": identities.iter().map(views::identity::identity).collect::<Vec<_>>(),
    })))
}

/// The spec's `NewUserIdentity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewIdentityBody {
    identifier: String,
    protocol: Protocol,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<Kind>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    credentials: BTreeMap<String, String>,
    #[serde(default)]
    infos: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Protocol {
    Email,
    Twitter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Local,
    Remote,
}

/// `200 {location, remote_id, identifier}`: both keys are the new identity's
/// id, as in the path of `/v2/identities/remotes/{identifier}`; the web client
/// reads `remote_id` (the original's key, `go/ops/identities/identities.go`
/// `NewRemoteIdentity`), the spec declares `identifier`. An address the user
/// already has is 422 with the original's entry of code 6 (`fac/identities.go`
/// `CreateUserIdentity`), which the client shows as "already configured".
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewIdentityBody>,
) -> ApiResult<Json<Value>> {
    if body.kind == Some(Kind::Local) {
        return Err(ApiError::bad_request(
            "`type` must be `remote`: local identities are created with the user",
        ));
    }
    if body.protocol != Protocol::Email {
        return Err(ApiError::bad_request(
            "`protocol`: only `email` is supported",
        ));
    }
    if let Some(user_id) = &body.user_id
        && user_id != &caller.user_id().to_string()
    {
        return Err(ApiError::bad_request("`user_id` is not yours"));
    }
    let identity = state
        .core
        .create_remote_identity(
            caller.user_id(),
            NewRemoteIdentity {
                identifier: body.identifier.clone(),
                protocol: "email".into(),
                display_name: body.display_name,
                status: body.status,
                credentials: body.credentials,
                infos: body.infos,
            },
        )
        .await
        .map_err(|e| match e {
            CoreError::Conflict(message) => ApiError::unprocessable(message).with_cause(
                6,
                "Forbidden",
                format!(
                    "[CreateUserIdentity] tuple({}, email, {}) breaks uniqueness constraint",
                    body.identifier.trim().to_lowercase(),
                    caller.user_id()
                ),
            ),
            e => e.into(),
        })?;
    let id = identity.id.to_string();
    Ok(Json(json!({
        "location": views::identity::remote_location(&identity),
        "remote_id": id,
        "identifier": id,
    })))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(identifier): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("identity", &identifier)?;
    let identity = state.core.remote_identity(caller.user_id(), id).await?;
    Ok(Json(views::identity::identity(&identity)))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(identifier): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id("identity", &identifier)?;
    state
        .core
        .delete_remote_identity(caller.user_id(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `204`; changes `display_name`, `status`, `credentials`, `infos`.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(identifier): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let id = parse_id("identity", &identifier)?;
    let patch = MergePatch::from_json(body)?;
    state
        .core
        .patch_remote_identity(caller.user_id(), id, &patch)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"actions": ["identity-validation"]}`: `204` once a new code is queued for
/// the address; 404 for an unknown identity, 409 for a verified one, 429 past
/// the sending limit.
async fn actions(
    State(state): State<AppState>,
    caller: Caller,
    Path(identifier): Path<String>,
    JsonBody(body): JsonBody<Actions>,
) -> ApiResult<StatusCode> {
    let id = parse_id("identity", &identifier)?;
    body.single(&[Action::IdentityValidation], "remote identity")?;
    if let Some(key) = body.params.as_ref().and_then(|p| p.keys().next()) {
        return Err(ApiError::bad_request(format!(
            "unknown field `params.{key}`: identity-validation takes no parameter"
        )));
    }
    state
        .core
        .request_identity_validation(caller.user_id(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `204` when the code is live and was mailed for one of the caller's identities
/// (it becomes verified), else 404; 400 for an over-long code.
async fn validate(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .core
        .validate_identity(caller.user_id(), &code)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
