//! Tags: labels on messages and contacts. Every user starts with the system tags.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagKind {
    System,
    User,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// Stable identifier, lower case; what messages and contacts carry.
    pub name: String,
    /// What the user sees.
    pub label: String,
    pub kind: TagKind,
    /// −10..10: a tagged message's importance is raised (or lowered) by this.
    pub importance_level: i8,
    pub date_insert: DateTime<Utc>,
}

/// The system tags every user has: (name, importance level).
pub const SYSTEM_TAGS: &[(&str, i8)] = &[
    ("inbox", 0),
    ("spam", -10),
    ("important", 5),
    ("internal", 0),
];

pub const TAG_SPAM: &str = "spam";
pub const TAG_INBOX: &str = "inbox";
pub const TAG_IMPORTANT: &str = "important";
pub const TAG_INTERNAL: &str = "internal";
