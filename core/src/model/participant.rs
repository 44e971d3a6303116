//! Who a user's mail involved, kept to suggest participants while composing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An address seen among the participants of a user's received mail; one record
/// per address, updated by every delivery that involves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenParticipant {
    pub protocol: String,
    /// Lower case.
    pub address: String,
    /// The last display name seen with it.
    pub label: String,
    /// How many stored messages involved it.
    pub count: u64,
    pub last_seen: DateTime<Utc>,
}

/// Where a suggestion came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuggestionSource {
    Contact,
    Participant,
}

/// One answer of `GET /v2/participants/suggest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantSuggestion {
    pub address: String,
    pub contact_id: Option<Uuid>,
    pub label: String,
    pub protocol: String,
    pub source: SuggestionSource,
}
