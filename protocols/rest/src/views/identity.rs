//! `UserIdentity`: local and remote identities.

use caliopen_core::model::identity::IdentityStatus;
use caliopen_core::model::{Identity, IdentityKind};
use serde_json::{Value, json};

use super::date;

/// An identity as the spec's `UserIdentity`. Remote credentials come masked from
/// core (only server settings in clear); they are answered as core gives them.
pub fn identity(i: &Identity) -> Value {
    let mut out = json!({
        "identity_id": i.id.to_string(),
        "user_id": i.user_id.to_string(),
        "type": match i.kind {
            IdentityKind::Local => "local",
            IdentityKind::Remote => "remote",
        },
        "protocol": i.protocol,
        "identifier": i.identifier,
        "display_name": i.display_name,
        "status": match i.status {
            IdentityStatus::Active => "active",
            IdentityStatus::Inactive => "inactive",
            IdentityStatus::Deleted => "deleted",
        },
        "credentials": i.credentials,
        "infos": i.infos,
    });
    if let Some(checked) = &i.last_check {
        out["last_check"] = json!(date(checked));
    }
    out
}

/// Where a remote identity is read.
pub fn remote_location(i: &Identity) -> String {
    format!("/api/v2/identities/remotes/{}", i.id)
}
