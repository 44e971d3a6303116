//! Contacts: `GET|POST /v2/contacts`, `GET|PATCH|DELETE /v2/contacts/{contact_id}`,
//! `GET|PATCH /v2/contacts/{contact_id}/identities`,
//! `PATCH /v2/contacts/{contact_id}/tags`, and public keys under
//! `/v2/contacts/{contact_id}/publickeys[/{pubkey_id}]`.
//!
//! PATCH bodies are merge patches with `current_state` (checked by core: a
//! mismatch is `409 Conflict`; a field that may not be patched is `403`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use caliopen_core::CoreError;
use caliopen_core::model::Contact;
use caliopen_core::service::contact_keys::NewPublicKey;
use caliopen_core::service::contacts::ContactFilter;
use caliopen_core::service::patch::MergePatch;
use caliopen_core::service::validate;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::ranges::Ranges;
use crate::routes::messages::{JsonBody, parse_id};
use crate::state::AppState;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/contacts", get(list).post(create))
        .route(
            "/v2/contacts/{contact_id}",
            get(read).patch(update).delete(remove),
        )
        .route(
            "/v2/contacts/{contact_id}/identities",
            get(identities).patch(patch_identities),
        )
        .route("/v2/contacts/{contact_id}/tags", patch(patch_tags))
        .route(
            "/v2/contacts/{contact_id}/publickeys",
            get(keys).post(add_key),
        )
        .route(
            "/v2/contacts/{contact_id}/publickeys/{pubkey_id}",
            get(key).patch(patch_key).delete(remove_key),
        )
}

#[derive(Debug, Deserialize)]
// Unknown parameters are ignored, as the original did (docs/api-compatibility.md X3, D18).
struct ListQuery {
    limit: Option<i64>,
    offset: Option<i64>,
    /// `protocol:address` (or a bare address): the contacts that own it.
    uri: Option<String>,
}

/// `{total, contacts}`, by title; `X-Caliopen-PI` narrows by the contact's PI.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ranges: Ranges,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (limit, offset) = validate::page(q.limit, q.offset, 20, 1000)?;
    let user = caller.user_id();
    let (total, contacts) = match q.uri.as_deref() {
        Some(uri) => {
            let address = uri.split_once(':').map_or(uri, |(_, a)| a);
            let found = state.core.contacts_by_address(user, address).await?;
            (found.len() as u64, found)
        }
        None => {
            let filter = ContactFilter {
                pi: ranges.pi,
                limit,
                offset,
            };
            state.core.list_contacts(user, &filter).await?
        }
    };
    Ok(Json(json!({
        "total": total,
        "contacts": contacts.iter().map(views::contact::contact).collect::<Vec<_>>(),
    })))
}

/// The properties of the spec's `NewContact`.
const NEW_CONTACT_FIELDS: &[&str] = &[
    "additional_name",
    "addresses",
    "avatar",
    "emails",
    "family_name",
    "given_name",
    "title",
    "groups",
    "identities",
    "ims",
    "infos",
    "name_prefix",
    "name_suffix",
    "organizations",
    "phones",
    "public_keys",
];

/// `200 {location, contact_id}`. Keys given with the contact are added as by
/// `POST .../publickeys`.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let (contact, keys) = new_contact(body)?;
    let user = caller.user_id();
    let contact = state.core.create_contact(user, contact).await?;
    for key in keys {
        state
            .core
            .add_public_key(user, contact.id, key)
            .await
            .map_err(key_error)?;
    }
    Ok(Json(json!({
        "location": format!("/api/v2/contacts/{}", contact.id),
        "contact_id": contact.id.to_string(),
    })))
}

/// A `NewContact` body: the contact, and its keys apart.
fn new_contact(mut body: Map<String, Value>) -> ApiResult<(Contact, Vec<NewPublicKey>)> {
    if let Some(unknown) = body
        .keys()
        .find(|k| !NEW_CONTACT_FIELDS.contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "`{unknown}` is not a property of a new contact"
        )));
    }
    let keys = match body.remove("public_keys") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value::<Vec<NewKeyBody>>(v)
            .map_err(|e| ApiError::bad_request(format!("public_keys: {e}")))?
            .into_iter()
            .map(NewKeyBody::into_core)
            .collect(),
    };
    let contact = serde_json::from_value(Value::Object(body.clone())).map_err(|e| {
        // Name the property at fault: the first one that does not decode alone.
        let field = body
            .iter()
            .find(|(k, v)| {
                let one = Map::from_iter([((*k).clone(), (*v).clone())]);
                serde_json::from_value::<Contact>(Value::Object(one)).is_err()
            })
            .map_or("contact", |(k, _)| k.as_str());
        ApiError::bad_request(format!("`{field}`: {e}"))
    })?;
    Ok((contact, keys))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(contact_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("contact_id", &contact_id)?;
    let contact = state.core.contact(caller.user_id(), id).await?;
    Ok(Json(views::contact::contact(&contact)))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let id = parse_id("contact_id", &contact_id)?;
    let patch = MergePatch::from_json(body)?;
    state
        .core
        .update_contact(caller.user_id(), id, &patch)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(contact_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id("contact_id", &contact_id)?;
    state.core.delete_contact(caller.user_id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{total, contact_identities}`: mail addresses, IM accounts, social identities.
async fn identities(
    State(state): State<AppState>,
    caller: Caller,
    Path(contact_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("contact_id", &contact_id)?;
    let found = state.core.contact_identities(caller.user_id(), id).await?;
    Ok(Json(json!({
        "total": found.len(),
        "contact_identities": found.iter().map(views::contact::identity).collect::<Vec<_>>(),
    })))
}

/// The fields through which a contact is reached: what `PATCH .../identities` may change.
const IDENTITY_FIELDS: &[&str] = &["emails", "ims", "identities"];

/// `204`: a contact patch limited to its addresses, IM accounts and social identities.
async fn patch_identities(
    State(state): State<AppState>,
    caller: Caller,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let id = parse_id("contact_id", &contact_id)?;
    let patch = MergePatch::from_json(body)?;
    if let Some(other) = patch
        .changes()
        .keys()
        .find(|k| !IDENTITY_FIELDS.contains(&k.as_str()))
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("`{other}` is not an identity field (emails, ims, identities)"),
        ));
    }
    state
        .core
        .update_contact(caller.user_id(), id, &patch)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `204`: `{tags, current_state: {tags}}`.
async fn patch_tags(
    State(state): State<AppState>,
    caller: Caller,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let id = parse_id("contact_id", &contact_id)?;
    let patch = MergePatch::from_json(body)?;
    state
        .core
        .patch_contact_tags(caller.user_id(), id, &patch)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The spec's `NewPublicKey`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKeyBody {
    key: String,
    label: String,
}

impl NewKeyBody {
    fn into_core(self) -> NewPublicKey {
        NewPublicKey {
            label: self.label,
            key: self.key,
        }
    }
}

/// `{total, pubkeys}`.
async fn keys(
    State(state): State<AppState>,
    caller: Caller,
    Path(contact_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("contact_id", &contact_id)?;
    let contact = state.core.contact(caller.user_id(), id).await?;
    Ok(Json(json!({
        "total": contact.public_keys.len(),
        "pubkeys": contact
            .public_keys
            .iter()
            .map(|k| views::contact::public_key(&contact, k))
            .collect::<Vec<_>>(),
    })))
}

/// `200 {location, publickey_id}`.
async fn add_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody<NewKeyBody>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("contact_id", &contact_id)?;
    let user = caller.user_id();
    let key = state
        .core
        .add_public_key(user, id, body.into_core())
        .await
        .map_err(key_error)?;
    let contact = state.core.contact(user, id).await?;
    Ok(Json(json!({
        "location": views::contact::public_key_location(&contact, &key),
        "publickey_id": key.key_id.to_string(),
    })))
}

/// A key that is not base64 of an OpenPGP public key naming one of the
/// contact's addresses is 422, as the original answered
/// (`go/ops/contacts/keys.go`, `fac/keys.go` `CreatePGPPubKey`).
fn key_error(e: CoreError) -> ApiError {
    match e {
        CoreError::Invalid { ref field, .. } if field == "key" => {
            ApiError::unprocessable(e.to_string())
        }
        e => e.into(),
    }
}

fn key_ids(contact_id: &str, pubkey_id: &str) -> ApiResult<(Uuid, Uuid)> {
    Ok((
        parse_id("contact_id", contact_id)?,
        parse_id("pubkey_id", pubkey_id)?,
    ))
}

async fn key(
    State(state): State<AppState>,
    caller: Caller,
    Path((contact_id, pubkey_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (cid, kid) = key_ids(&contact_id, &pubkey_id)?;
    let user = caller.user_id();
    let contact = state.core.contact(user, cid).await?;
    let key = state.core.public_key(user, cid, kid).await?;
    Ok(Json(views::contact::public_key(&contact, &key)))
}

/// `204`: `{label, current_state: {label}}`.
async fn patch_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((contact_id, pubkey_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<StatusCode> {
    let (cid, kid) = key_ids(&contact_id, &pubkey_id)?;
    let patch = MergePatch::from_json(body)?;
    state
        .core
        .patch_public_key(caller.user_id(), cid, kid, &patch)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((contact_id, pubkey_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (cid, kid) = key_ids(&contact_id, &pubkey_id)?;
    state
        .core
        .delete_public_key(caller.user_id(), cid, kid)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
