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
    /// Its importance level, from [`Discussion::levels`] ([`Levels::importance`]).
    pub importance_level: i8,
    /// How many of its messages have each importance level. Empty in records
    /// written before it was kept, until the discussion next changes.
    #[serde(default)]
    pub levels: Levels,
    pub protocol: String,
    pub date_insert: DateTime<Utc>,
    pub date_update: DateTime<Utc>,
}

/// Lowest and highest importance level of a message.
pub const LEVEL_MIN: i8 = -10;
pub const LEVEL_MAX: i8 = 10;
/// The importance range that leaves nothing out.
pub const ANY_LEVEL: (i8, i8) = (LEVEL_MIN, LEVEL_MAX);

/// How many messages have each importance level (−10..=10): what a discussion's
/// importance level is computed from, and what tells whether any of its
/// messages is in an importance range, without reading the messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Levels(Vec<u64>);

impl Levels {
    /// The levels of `levels`.
    pub fn of(levels: impl IntoIterator<Item = i8>) -> Self {
        let mut out = Self::default();
        for level in levels {
            out.add(level);
        }
        out
    }

    /// Counts one more message of `level` (clamped to −10..=10).
    pub fn add(&mut self, level: i8) {
        if self.0.len() != (LEVEL_MAX - LEVEL_MIN + 1) as usize {
            self.0 = vec![0; (LEVEL_MAX - LEVEL_MIN + 1) as usize];
        }
        self.0[(level.clamp(LEVEL_MIN, LEVEL_MAX) - LEVEL_MIN) as usize] += 1;
    }

    /// (level, how many messages have it), lowest level first, counts above zero.
    fn counts(&self) -> impl DoubleEndedIterator<Item = (i8, u64)> + Clone + '_ {
        (LEVEL_MIN..=LEVEL_MAX)
            .zip(self.0.iter().copied())
            .filter(|(_, n)| *n > 0)
    }

    /// How many messages are counted.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// How many messages have a level in `min..=max`.
    pub fn within(&self, (min, max): (i8, i8)) -> u64 {
        self.counts()
            .filter(|(l, _)| (min..=max).contains(l))
            .map(|(_, n)| n)
            .sum()
    }

    /// The discussion's importance level as the original computed it
    /// (`src/backend/main/go.main/helpers/discussion.go`, `ComputeDiscussionIL`,
    /// called from `idx/discussions.go`): the mean of the levels at or above
    /// their 90th percentile (nearest rank: the level of rank ⌈0.9·n⌉ in
    /// ascending order), truncated towards zero (Go's `int32(float64)`); 0 when
    /// no message is counted.
    pub fn importance(&self) -> i8 {
        let n = self.total();
        if n == 0 {
            return 0;
        }
        let rank = (n * 9).div_ceil(10).max(1);
        let mut seen = 0;
        let percentile = self
            .counts()
            .find(|(_, count)| {
                seen += count;
                seen >= rank
            })
            .map_or(0, |(l, _)| l);
        let (sum, count) = self
            .counts()
            .filter(|(l, _)| *l >= percentile)
            .fold((0i64, 0i64), |(s, c), (l, n)| {
                (s + i64::from(l) * n as i64, c + n as i64)
            });
        // Integer division truncates towards zero, as the original's conversion.
        (sum / count.max(1)) as i8
    }
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

    /// The original's `ComputeDiscussionIL` (nearest-rank 90th percentile,
    /// mean of the levels at or above it, truncated), worked by hand.
    #[test]
    fn importance_is_the_mean_of_the_top_decile() {
        assert_eq!(Levels::default().importance(), 0);
        assert_eq!(Levels::of([7]).importance(), 7);
        // n = 4: rank ⌈3.6⌉ = 4 → 8; mean of [8] = 8 (the maximum would agree).
        assert_eq!(Levels::of([0, 8, 1, 2]).importance(), 8);
        // n = 3 → rank 3 → 5; levels ≥ 5: 5, 5 → 5.
        assert_eq!(Levels::of([5, 0, 5]).importance(), 5);
        // n = 20: rank 18 → the 18th of 18×0, 2×10 is 0: mean of all = 1.
        let mut many = vec![0; 18];
        many.extend([10, 10]);
        assert_eq!(Levels::of(many).importance(), 1);
        // n = 10: rank 9 → 3; levels ≥ 3: 3, 4 → 3.5 → 3 (truncated).
        assert_eq!(Levels::of([0, 0, 0, 0, 0, 0, 0, 0, 3, 4]).importance(), 3);
        // Negative means truncate towards zero: −5, −2 → −3.5 → −3.
        assert_eq!(Levels::of([-5, -2]).importance(), -2);
        assert_eq!(Levels::of([-5, -5, -2, -2]).importance(), -2);
        let mut negative = vec![-10; 8];
        negative.extend([-5, -2]);
        // n = 10: rank 9 → −5; levels ≥ −5: −5, −2 → −3.5 → −3.
        assert_eq!(Levels::of(negative).importance(), -3);
        // Out-of-range levels are counted at the nearest bound.
        assert_eq!(Levels::of([i8::MAX]).importance(), 10);
        assert_eq!(Levels::of([0, 0, 5]).within((1, 10)), 1);
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
