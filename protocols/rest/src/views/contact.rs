//! `Contact`, `PublicKey`, `ContactIdentity`.

use caliopen_core::model::Contact;
use caliopen_core::model::contact::{ContactIdentity, PublicKey};
use serde::Serialize;
use serde_json::{Value, json};

use super::{date, pi};

/// A contact as the spec's `Contact`.
pub fn contact(c: &Contact) -> Value {
    json!({
        "contact_id": c.id.to_string(),
        "user_id": c.user_id.to_string(),
        "title": c.title,
        "given_name": c.given_name,
        "family_name": c.family_name,
        "additional_name": c.additional_name,
        "name_prefix": c.name_prefix,
        "name_suffix": c.name_suffix,
        "avatar": c.avatar,
        "emails": typed_list(&c.emails),
        "phones": typed_list(&c.phones),
        "addresses": typed_list(&c.addresses),
        "ims": typed_list(&c.ims),
        "organizations": typed_list(&c.organizations),
        "identities": typed_list(&c.identities),
        "public_keys": c.public_keys.iter().map(|k| public_key(c, k)).collect::<Vec<_>>(),
        "groups": c.groups,
        "tags": c.tags,
        "infos": c.infos,
        "pi": pi(&c.pi),
        "privacy_features": c.privacy_features,
        "date_insert": date(&c.date_insert),
        "date_update": date(&c.date_update),
    })
}

/// A key of contact `c` as the spec's `PublicKey` (its resource is the contact).
pub fn public_key(c: &Contact, k: &PublicKey) -> Value {
    let mut out = json!({
        "key_id": k.key_id.to_string(),
        "label": k.label,
        "key": k.key,
        "fingerprint": k.fingerprint,
        "type": k.kind,
        "emails": k.emails,
        "size": k.size,
        "resource_id": c.id.to_string(),
        "resource_type": "contact",
        "user_id": c.user_id.to_string(),
        "date_insert": date(&k.date_insert),
        "date_update": date(&k.date_update),
    });
    if let (Some(expire), Some(obj)) = (&k.expire_date, out.as_object_mut()) {
        obj.insert("expire_date".into(), json!(date(expire)));
    }
    out
}

pub fn public_key_location(c: &Contact, k: &PublicKey) -> String {
    format!("/api/v2/contacts/{}/publickeys/{}", c.id, k.key_id)
}

pub fn identity(i: &ContactIdentity) -> Value {
    json!({
        "identifier": i.identifier,
        "label": i.label,
        "protocol": i.protocol,
    })
}

/// Sub-records of a contact (emails, phones, ...) as JSON, with the model's
/// `kind` named `type` as in the spec.
fn typed_list<T: Serialize>(items: &[T]) -> Vec<Value> {
    items
        .iter()
        .map(|item| {
            let mut v = serde_json::to_value(item).unwrap_or(Value::Null);
            if let Some(obj) = v.as_object_mut()
                && let Some(kind) = obj.remove("kind")
            {
                obj.insert("type".into(), kind);
            }
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use caliopen_core::model::contact::ContactEmail;

    #[test]
    fn kind_is_named_type() {
        let c = Contact {
            emails: vec![ContactEmail {
                address: "a@example.org".into(),
                kind: "work".into(),
                ..ContactEmail::default()
            }],
            ..Contact::default()
        };
        let v = contact(&c);
        assert_eq!(v["emails"][0]["type"], "work");
        assert!(v["emails"][0].get("kind").is_none());
    }
}
