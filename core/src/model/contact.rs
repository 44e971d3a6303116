//! Contacts: the people a user knows, with every way to reach them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Pi;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactEmail {
    pub email_id: Uuid,
    /// Lower case.
    pub address: String,
    pub is_primary: bool,
    pub label: String,
    /// `type` in the API.
    #[serde(alias = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Phone {
    pub phone_id: Uuid,
    pub number: String,
    pub normalized_number: String,
    pub is_primary: bool,
    /// `type` in the API.
    #[serde(alias = "type")]
    pub kind: String,
    pub uri: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PostalAddress {
    pub address_id: Uuid,
    pub city: String,
    pub country: String,
    pub is_primary: bool,
    pub label: String,
    pub postal_code: String,
    pub region: String,
    pub street: String,
    /// `type` in the API.
    #[serde(alias = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Im {
    pub im_id: Uuid,
    pub address: String,
    pub is_primary: bool,
    pub label: String,
    pub protocol: String,
    /// `type` in the API.
    #[serde(alias = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Organization {
    pub organization_id: Uuid,
    pub name: String,
    pub department: String,
    pub is_primary: bool,
    pub job_description: String,
    pub label: String,
    pub title: String,
    /// `type` in the API.
    #[serde(alias = "type")]
    pub kind: String,
    pub deleted: bool,
}

/// An account of the contact on another network (the API's `SocialIdentity`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SocialIdentity {
    pub social_id: Uuid,
    pub name: String,
    /// `type` in the API.
    #[serde(alias = "type")]
    pub kind: String,
    pub infos: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PublicKey {
    pub key_id: Uuid,
    pub label: String,
    /// The key as given (PEM or base64 DER).
    pub key: String,
    pub fingerprint: String,
    /// `type` in the API.
    #[serde(alias = "type")]
    pub kind: String,
    pub emails: Vec<String>,
    pub size: u32,
    pub expire_date: Option<DateTime<Utc>>,
    pub date_insert: DateTime<Utc>,
    pub date_update: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The display name, computed from the name parts when not given.
    pub title: String,
    pub given_name: String,
    pub family_name: String,
    pub additional_name: String,
    pub name_prefix: String,
    pub name_suffix: String,
    pub avatar: String,
    pub emails: Vec<ContactEmail>,
    pub phones: Vec<Phone>,
    pub addresses: Vec<PostalAddress>,
    pub ims: Vec<Im>,
    pub organizations: Vec<Organization>,
    pub identities: Vec<SocialIdentity>,
    pub public_keys: Vec<PublicKey>,
    pub groups: Vec<String>,
    pub tags: Vec<String>,
    pub infos: BTreeMap<String, String>,
    pub pi: Pi,
    pub privacy_features: BTreeMap<String, String>,
    pub date_insert: DateTime<Utc>,
    pub date_update: DateTime<Utc>,
}

/// One way to reach a contact, as `GET /v2/contacts/{id}/identities` lists them:
/// derived from the contact's addresses, instant messaging accounts and social
/// identities, never stored on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactIdentity {
    /// The address or account name.
    pub identifier: String,
    pub label: String,
    /// `email`, an instant messaging protocol, or a social network.
    pub protocol: String,
}
