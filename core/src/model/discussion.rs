//! Discussions: a user's messages grouped by the set of people involved.
//!
//! A discussion is not a thread: two messages belong to the same discussion when
//! they share the same participants. Its id is a hash of the sorted
//! `protocol:address` participant URIs, or of the List-ID when the message came
//! through a mailing list.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Participant;

/// The stored summary of a discussion; counts live in counters beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discussion {
    pub id: String,
    pub participants: Vec<Participant>,
    pub last_message_id: uuid::Uuid,
    pub last_message_date: DateTime<Utc>,
    pub last_message_subject: String,
    pub excerpt: String,
    /// The highest importance level among its messages.
    pub importance_level: i8,
    pub protocol: String,
    pub date_insert: DateTime<Utc>,
    pub date_update: DateTime<Utc>,
}

/// The discussion id for a discussion key (see the module docs): 32 hex digits.
pub fn discussion_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..16])
}

/// The discussion key of a set of participants: the List-ID URI when there is
/// one, else the sorted, de-duplicated participant URIs joined by `,`.
pub fn discussion_key(participants: &[Participant]) -> String {
    if let Some(list) = participants
        .iter()
        .find(|p| p.role == super::ParticipantRole::ListId)
    {
        return format!("list:{}", list.address);
    }
    let mut uris: Vec<String> = participants.iter().map(Participant::uri).collect();
    uris.sort();
    uris.dedup();
    uris.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParticipantRole;

    fn p(role: ParticipantRole, address: &str) -> Participant {
        Participant {
            role,
            protocol: "email".into(),
            address: address.into(),
            label: String::new(),
            contact_ids: vec![],
        }
    }

    #[test]
    fn same_people_same_discussion_whatever_the_roles_and_order() {
        let a = [
            p(ParticipantRole::From, "a@x.org"),
            p(ParticipantRole::To, "b@y.org"),
        ];
        let b = [
            p(ParticipantRole::To, "a@x.org"),
            p(ParticipantRole::From, "b@y.org"),
            p(ParticipantRole::Cc, "a@x.org"),
        ];
        assert_eq!(
            discussion_id(&discussion_key(&a)),
            discussion_id(&discussion_key(&b))
        );
    }

    #[test]
    fn list_id_takes_priority() {
        let a = [
            p(ParticipantRole::From, "a@x.org"),
            p(ParticipantRole::ListId, "dev.lists.org"),
        ];
        let b = [
            p(ParticipantRole::From, "c@z.org"),
            p(ParticipantRole::ListId, "dev.lists.org"),
        ];
        assert_eq!(discussion_key(&a), "list:dev.lists.org");
        assert_eq!(discussion_key(&a), discussion_key(&b));
        assert_eq!(discussion_id(&discussion_key(&a)).len(), 32);
    }
}
