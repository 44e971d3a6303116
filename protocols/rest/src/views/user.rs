//! `User` (what `GET /v1/me` answers) and `Settings`.

use caliopen_core::model::contact::PublicKey;
use caliopen_core::model::{Contact, Settings};
use caliopen_core::service::account::Me;
use serde_json::{Value, json};

use super::{date, pi};

/// The spec's `User`: the user and their own contact card. As the original
/// (`py/user/user.py` `MeUserAPI`), `name` is the username (the web client shows
/// it as such) and `privacy_features.password_strength` the password's score as a
/// string `"0"`..`"4"` (its Security page reads it unguarded); a password set
/// before scores were kept counts as `"0"`. The password (hash) is never answered.
pub fn user(me: &Me) -> Value {
    let u = &me.user;
    json!({
        "user_id": u.id.to_string(),
        "name": u.username,
        "privacy_features": {
            "password_strength": u.password_strength.unwrap_or(0).to_string(),
        },
        "given_name": u.given_name,
        "family_name": u.family_name,
        "recovery_email": u.recovery_email,
        "params": u.params,
        "pi": pi(&u.pi),
        "date_insert": date(&u.date_insert),
        "contact": contact(&me.contact),
    })
}

/// The spec's `Settings`.
pub fn settings(s: &Settings) -> Value {
    json!({
        "default_locale": s.default_locale,
        "message_display_format": s.message_display_format,
        "contact_display_order": s.contact_display_order,
        "contact_display_format": s.contact_display_format,
        "notification_enabled": s.notification_enabled,
        "notification_message_preview": s.notification_message_preview,
        "notification_sound_enabled": s.notification_sound_enabled,
        "notification_delay_disappear": s.notification_delay_disappear,
    })
}

/// The user's own card as the spec's `Contact`.
// TODO(rest): use the contacts view (`views::contact`) once it exists, so that
// `/me` and `/v2/contacts/{id}` cannot drift apart.
fn contact(c: &Contact) -> Value {
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
        "emails": c.emails.iter().map(|e| json!({
            "email_id": e.email_id.to_string(),
            "address": e.address,
            "is_primary": e.is_primary,
            "label": e.label,
            "type": e.kind,
        })).collect::<Vec<_>>(),
        "phones": c.phones.iter().map(|p| json!({
            "phone_id": p.phone_id.to_string(),
            "number": p.number,
            "normalized_number": p.normalized_number,
            "is_primary": p.is_primary,
            "type": p.kind,
            "uri": p.uri,
        })).collect::<Vec<_>>(),
        "addresses": c.addresses.iter().map(|a| json!({
            "address_id": a.address_id.to_string(),
            "city": a.city,
            "country": a.country,
            "is_primary": a.is_primary,
            "label": a.label,
            "postal_code": a.postal_code,
            "region": a.region,
            "street": a.street,
            "type": a.kind,
        })).collect::<Vec<_>>(),
        "ims": c.ims.iter().map(|i| json!({
            "im_id": i.im_id.to_string(),
            "address": i.address,
            "is_primary": i.is_primary,
            "label": i.label,
            "protocol": i.protocol,
            "type": i.kind,
        })).collect::<Vec<_>>(),
        "organizations": c.organizations.iter().map(|o| json!({
            "organization_id": o.organization_id.to_string(),
            "name": o.name,
            "department": o.department,
            "is_primary": o.is_primary,
            "job_description": o.job_description,
            "label": o.label,
            "title": o.title,
            "type": o.kind,
            "deleted": o.deleted,
        })).collect::<Vec<_>>(),
        "identities": c.identities.iter().map(|s| json!({
            "social_id": s.social_id.to_string(),
            "name": s.name,
            "type": s.kind,
            "infos": s.infos,
        })).collect::<Vec<_>>(),
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

fn public_key(c: &Contact, k: &PublicKey) -> Value {
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
    if let Some(expires) = &k.expire_date {
        out["expire_date"] = json!(date(expires));
    }
    out
}
