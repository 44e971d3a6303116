//! The record tables core keeps, and how their keys are built. One place, so that
//! every service and the reindex agree.

use caliopen_storage_traits::Table;

// Installation-wide (Scope::Global).
/// user id → User
pub const USERS: Table = Table::plain("users");
/// lower-case username → user id
pub const USERNAMES: Table = Table::plain("usernames");
/// lower-case address → IdentityRef (who receives mail for it)
pub const ADDRESSES: Table = Table::plain("addresses");
/// lower-case recovery address + NUL + user id → (): who may reset a password
/// with only that address (see `indexes`)
pub const RECOVERY_ADDRESSES: Table = Table::plain("recovery_addresses");
/// delivery id (v7) → PendingDelivery
pub const DELIVERIES: Table = Table::time_ordered("deliveries");
/// job id (v7) → OutboundJob, the durable outbound queue
pub const OUTBOUND: Table = Table::time_ordered("outbound_queue");
/// delivery id (v7) → QuarantinedDelivery
pub const QUARANTINE: Table = Table::time_ordered("quarantine");
/// entry id (v7) → IndexOp, the search outbox
pub const OUTBOX: Table = Table::time_ordered("index_outbox");
/// key → value, settings of the installation
pub const SYSTEM: Table = Table::plain("system");
/// component name + version → ComponentRecord
pub const COMPONENTS: Table = Table::plain("components");
/// slot → SlotState (active version, shadow, history)
pub const SLOTS: Table = Table::plain("component_slots");
/// node id → heartbeat, the members of a cluster (see `cluster`)
pub const NODES: Table = Table::plain("cluster_nodes");
/// blob id → how many records point at the blob (see `blob_refs`)
pub const BLOB_REFS: Table = Table::counter("blob_refs");
/// blob id + entry id (v7) → (): a reference dropped, the blob to delete if its
/// count reads zero (see `blob_refs`)
pub const BLOB_RELEASES: Table = Table::plain("blob_releases");

// Per user (Scope::User).
/// message id (v7) → Message
pub const MESSAGES: Table = Table::time_ordered("messages");
/// ordered `date_sort` (µs) + message id → (): the message list's order (see
/// `indexes`)
pub const MESSAGES_BY_DATE: Table = Table::plain("messages_by_date");
/// raw blob id → message id: one message per (user, raw mail)
pub const RAW_INDEX: Table = Table::plain("raw_index");
/// SHA-256 of an external Message-ID + message id → (): the messages carrying a
/// Message-ID ([`msgid_key`]). Several may: a Message-ID says nothing of the
/// content, so only the same raw mail folds into one message. (Records of earlier
/// versions, under the Message-ID itself, are removed with their message.)
pub const MSGID_INDEX: Table = Table::plain("msgid_index");
/// discussion id + message id → ()
pub const DISCUSSION_MESSAGES: Table = Table::plain("discussion_messages");
/// discussion id → Discussion
pub const DISCUSSIONS: Table = Table::plain("discussions");
/// last message date + discussion id → ()
pub const DISCUSSIONS_BY_DATE: Table = Table::plain("discussions_by_date");
/// name → counter (`messages`, `unread`, `d:<discussion>:total`, ...)
pub const COUNTERS: Table = Table::counter("counters");
/// identity id → Identity
pub const IDENTITIES: Table = Table::plain("identities");
/// tag name → Tag
pub const TAGS: Table = Table::plain("tags");
/// contact id → Contact
pub const CONTACTS: Table = Table::plain("contacts");
/// lower-case address + contact id → ()
pub const CONTACT_ADDRESSES: Table = Table::plain("contact_addresses");
/// device id → Device
pub const DEVICES: Table = Table::plain("devices");
/// notification id (v7) → Notification
pub const NOTIFICATIONS: Table = Table::time_ordered("notifications");
/// `settings` → Settings
pub const USER_SETTINGS: Table = Table::plain("settings");
/// lower-case address → SeenParticipant: who the user's mail involved, for suggestions
pub const SEEN_PARTICIPANTS: Table = Table::plain("seen_participants");

/// Every per-user table. Account deletion empties each of them, so a new
/// per-user table must be added here.
pub const USER_TABLES: &[Table] = &[
    MESSAGES,
    MESSAGES_BY_DATE,
    RAW_INDEX,
    MSGID_INDEX,
    DISCUSSION_MESSAGES,
    DISCUSSIONS,
    DISCUSSIONS_BY_DATE,
    COUNTERS,
    IDENTITIES,
    TAGS,
    CONTACTS,
    CONTACT_ADDRESSES,
    DEVICES,
    NOTIFICATIONS,
    USER_SETTINGS,
    SEEN_PARTICIPANTS,
];

/// The key of a message in [`MSGID_INDEX`]: the Message-ID's SHA-256 (bounded,
/// whatever the header's length), then the message id.
pub fn msgid_key(message_id_header: &str, message: uuid::Uuid) -> Vec<u8> {
    let mut key = crate::limits::digest(message_id_header).to_vec();
    key.extend_from_slice(message.as_bytes());
    key
}

/// Counter names.
pub mod counter {
    pub const MESSAGES: &[u8] = b"messages";
    pub const UNREAD: &[u8] = b"unread";

    pub fn discussion_total(discussion: &str) -> Vec<u8> {
        format!("d:{discussion}:total").into_bytes()
    }
    pub fn discussion_unread(discussion: &str) -> Vec<u8> {
        format!("d:{discussion}:unread").into_bytes()
    }
    pub fn discussion_attachments(discussion: &str) -> Vec<u8> {
        format!("d:{discussion}:attachments").into_bytes()
    }
}
