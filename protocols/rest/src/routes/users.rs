//! Users: `POST /v1/users` (signup), `GET /v1/me`, `PATCH /v2/users/{user_id}`
//! (password change), `POST /v2/users/{user_id}/actions` (account deletion),
//! `GET /v2/username/isAvailable`.
//!
//! A user may act on their own id only: any other id, existing or not, is 403.
//! Signup may be closed by the configuration (403) and is limited per client
//! address; the current password asked by a password change or an account
//! deletion is throttled as logins are (429 with `Retry-After`); a password change
//! ends the user's other sessions.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use caliopen_core::CoreError;
use caliopen_core::model::Settings;
use caliopen_core::service::users::NewUser;
use caliopen_core::service::validate;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::auth::Caller;
use crate::client::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::routes::messages::JsonBody;
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/users", post(signup))
        .route("/v1/me", get(me))
        .route("/v2/users/{user_id}", patch(change_password))
        .route("/v2/users/{user_id}/actions", post(actions))
        .route("/v2/username/isAvailable", get(is_available))
}

/// The spec's `NewUser`. `tos` and `privacy` are the client's checkboxes; the
/// device is registered by the first login, as every device is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    username: String,
    password: String,
    recovery_email: String,
    #[serde(default)]
    contact: Option<SignupContact>,
    #[serde(default)]
    #[allow(dead_code)]
    tos: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)]
    privacy: Option<bool>,
    #[serde(default)]
    settings: Option<Settings>,
    #[serde(default)]
    #[allow(dead_code)]
    device: Option<SignupDevice>,
}

/// The spec's `NewContact` at signup: the names make the user's own card; the
/// other properties are accepted empty only (the card is edited afterwards);
/// `other` catches them, and unknown ones (serde cannot deny unknown fields
/// beside a flattened map).
#[derive(Debug, Deserialize)]
struct SignupContact {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// `NewContact` properties that signup does not take when they are not empty.
const CONTACT_LATER: &[&str] = &[
    "title",
    "additional_name",
    "name_prefix",
    "name_suffix",
    "avatar",
    "emails",
    "phones",
    "addresses",
    "ims",
    "organizations",
    "identities",
    "public_keys",
    "groups",
    "infos",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SignupDevice {
    device_id: String,
    #[serde(default)]
    ecdsa_key: Option<Value>,
}

/// `200 {"location": "/api/v2/users/{user_id}"}`.
async fn signup(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(body): JsonBody<NewUserBody>,
) -> ApiResult<Json<Value>> {
    let (given_name, family_name) = match body.contact {
        None => (String::new(), String::new()),
        Some(c) => {
            for (key, value) in &c.other {
                if !CONTACT_LATER.contains(&key.as_str()) {
                    return Err(ApiError::bad_request(format!(
                        "unknown field `contact.{key}`"
                    )));
                }
                if !is_empty(value) {
                    return Err(ApiError::bad_request(format!(
                        "`contact.{key}` cannot be set at signup: edit your contact card afterwards"
                    )));
                }
            }
            (c.given_name, c.family_name)
        }
    };
    let new = NewUser {
        username: body.username,
        password: body.password,
        recovery_email: body.recovery_email,
        given_name,
        family_name,
        settings: body.settings,
    };
    let user = state.core.signup(new, client).await?;
    Ok(Json(
        json!({ "location": format!("/api/v2/users/{}", user.id) }),
    ))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The spec's `User`, with the user's own contact card.
async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let me = state.core.me(caller.user_id()).await?;
    Ok(Json(views::user::user(&me)))
}

/// The only patch of a user: `{"password": new, "current_state": {"password": current}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordPatch {
    password: String,
    current_state: PasswordState,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordState {
    password: String,
}

/// `204`, and every other session of the user ends; a wrong current password is
/// 424 `old password is incorrect`, as the original answered (`go/ops/users/user.go`
/// `PatchUser`, `users/password.go`): the web client shows "wrong old password"
/// on a 424 and a generic error otherwise (`web/scenes/UserSecurity/presenter.jsx`).
/// Too many wrong ones are 429.
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Path(user_id): Path<String>,
    JsonBody(body): JsonBody<PasswordPatch>,
) -> ApiResult<StatusCode> {
    own_user(&caller, &user_id)?;
    state
        .core
        .change_password(
            &caller.0,
            client,
            &body.current_state.password,
            &body.password,
        )
        .await
        .map_err(|e| match e {
            CoreError::Forbidden(_) => ApiError::new(
                StatusCode::FAILED_DEPENDENCY,
                "FailedDependency",
                "old password is incorrect",
            ),
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// The spec's `Actions`, shared by the resources that take actions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    pub actions: Vec<Action>,
    #[serde(default)]
    pub params: Option<Map<String, Value>>,
}

/// The action names of the spec (`Actions.actions[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Action {
    #[serde(rename = "send")]
    Send,
    #[serde(rename = "set_read")]
    SetRead,
    #[serde(rename = "set_unread")]
    SetUnread,
    #[serde(rename = "reset_password")]
    ResetPassword,
    #[serde(rename = "delete")]
    Delete,
    #[serde(rename = "device-validation")]
    DeviceValidation,
    /// Ours: mails a remote identity a new confirmation code.
    #[serde(rename = "identity-validation")]
    IdentityValidation,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::SetRead => "set_read",
            Self::SetUnread => "set_unread",
            Self::ResetPassword => "reset_password",
            Self::Delete => "delete",
            Self::DeviceValidation => "device-validation",
            Self::IdentityValidation => "identity-validation",
        }
    }
}

impl Actions {
    /// The one action of a request that must carry exactly one, among `allowed`
    /// (another action of the spec is 422: valid, but not for this resource).
    pub fn single(&self, allowed: &[Action], resource: &str) -> ApiResult<Action> {
        let [action] = self.actions.as_slice() else {
            return Err(ApiError::bad_request(
                "`actions` must hold exactly one action",
            ));
        };
        if allowed.contains(action) {
            Ok(*action)
        } else {
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "UnprocessableEntity",
                format!(
                    "action `{}` does not apply to a {resource}; allowed: {}",
                    action.name(),
                    allowed
                        .iter()
                        .map(|a| a.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }
}

/// `{"actions": ["delete"], "params": {"password": "..."}}` deletes the account
/// and everything of it (`204`); the password confirms it. A wrong one is 422
/// with the original's entry `{"code": 8, "message": "[RESTfacility] DeleteUser
/// Wrong password"}` (`fac/users.go` `DeleteUser`), the message the web client
/// looks for (`web/scenes/UserProfile/index.tsx`).
async fn actions(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Path(user_id): Path<String>,
    JsonBody(body): JsonBody<Actions>,
) -> ApiResult<StatusCode> {
    let user_id = own_user(&caller, &user_id)?;
    body.single(&[Action::Delete], "user")?;
    let params = body.params.unwrap_or_default();
    if let Some(key) = params.keys().find(|k| *k != "password") {
        return Err(ApiError::bad_request(format!(
            "unknown field `params.{key}`"
        )));
    }
    let password = match params.get("password") {
        Some(Value::String(p)) if !p.is_empty() => p,
        Some(Value::String(_)) | None => {
            return Err(ApiError::bad_request(
                "`params.password` is required to delete the account",
            ));
        }
        Some(_) => return Err(ApiError::bad_request("`params.password` must be a string")),
    };
    state
        .core
        .confirm_password(&caller.0, client, password)
        .await
        .map_err(|e| match e {
            CoreError::Forbidden(_) => {
                ApiError::unprocessable("`params.password` is not your password").with_cause(
                    8,
                    "WrongCredentials",
                    "[RESTfacility] DeleteUser Wrong password",
                )
            }
            CoreError::Invalid { reason, .. } => {
                ApiError::bad_request(format!("invalid params.password: {reason}"))
            }
            e => e.into(),
        })?;
    state.core.delete_account(user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own id, or 403 (for every other id, existing or not).
fn own_user(caller: &Caller, user_id: &str) -> ApiResult<Uuid> {
    match user_id.parse::<Uuid>() {
        Ok(id) if id == caller.user_id() => Ok(id),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "you can only act on your own user",
        )),
    }
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
struct AvailableQuery {
    username: Option<String>,
}

/// `200 {"username", "available"}`; an invalid username is not available. The
/// spec's 400 has the same shape: it also carries the API's `errors`. Limited per
/// client address (it tells whether an account exists).
async fn is_available(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    query: Result<Query<AvailableQuery>, QueryRejection>,
) -> Response {
    let username = match query {
        Ok(Query(AvailableQuery {
            username: Some(u), ..
        })) if !u.is_empty() => u,
        Ok(_) => {
            return unavailable(&ApiError::bad_request(
                "query parameter `username` is required",
            ));
        }
        Err(e) => return unavailable(&ApiError::bad_request(e.body_text())),
    };
    if username.len() > validate::MAX_USERNAME_INPUT {
        return unavailable(&ApiError::bad_request(format!(
            "query parameter `username` must be at most {} bytes long",
            validate::MAX_USERNAME_INPUT
        )));
    }
    match state.core.username_available_to(&username, client).await {
        Ok(available) => {
            Json(json!({ "username": username, "available": available })).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn unavailable(e: &ApiError) -> Response {
    let mut body = e.body();
    body["username"] = json!("");
    body["available"] = json!(false);
    (e.status, Json(body)).into_response()
}
