//! The scoring table: every rule's stable name and default points. A rule's name
//! starts with the axis it counts on (`technic:`, `comportment:`, `context:`); its
//! points are overridable as `weight.<name>`.

/// One axis of the privacy index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Technic,
    Comportment,
    Context,
}

impl Axis {
    pub fn name(self) -> &'static str {
        match self {
            Axis::Technic => "technic",
            Axis::Comportment => "comportment",
            Axis::Context => "context",
        }
    }
}

pub const TLS_13: &str = "technic:tls-1.3";
pub const TLS_12: &str = "technic:tls-1.2";
pub const TLS_11: &str = "technic:tls-1.1";
pub const TLS_10: &str = "technic:tls-1.0";
pub const TLS_LEGACY: &str = "technic:tls-legacy";
pub const SSL_OBSOLETE: &str = "technic:ssl-obsolete";
pub const TLS_UNKNOWN: &str = "technic:tls-unknown";
pub const TLS_PATH_UNVERIFIED: &str = "technic:tls-path-unverified";
pub const DKIM: &str = "technic:dkim";
pub const PGP_MIME_ENCRYPTED: &str = "technic:pgp-mime-encrypted";
pub const PGP_INLINE_ENCRYPTED: &str = "technic:pgp-inline-encrypted";
pub const SMIME_ENCRYPTED: &str = "technic:smime-encrypted";
pub const PGP_MIME_SIGNED: &str = "technic:pgp-mime-signed";
pub const PGP_INLINE_SIGNED: &str = "technic:pgp-inline-signed";
pub const SMIME_SIGNED: &str = "technic:smime-signed";

pub const COMPORTMENT_BASELINE: &str = "comportment:baseline";
pub const KNOWN_SENDER: &str = "comportment:known-sender";
pub const SENDER_PUBLIC_KEY: &str = "comportment:sender-public-key";
pub const SENDER_TRUST: &str = "comportment:sender-trust";
pub const KNOWN_DISCUSSION: &str = "comportment:known-discussion";
pub const SPAM: &str = "comportment:spam";

pub const CONTEXT_BASELINE: &str = "context:baseline";
pub const INTERNAL: &str = "context:internal";
pub const NO_EXTERNAL_HOP: &str = "context:no-external-hop";
pub const ONE_EXTERNAL_HOP: &str = "context:one-external-hop";
pub const TWO_EXTERNAL_HOPS: &str = "context:two-external-hops";
pub const MANY_EXTERNAL_HOPS: &str = "context:many-external-hops";
pub const ADDRESSED_TO: &str = "context:addressed-to";
pub const ADDRESSED_CC: &str = "context:addressed-cc";
pub const ADDRESSED_BCC: &str = "context:addressed-bcc";
pub const VIA_LIST: &str = "context:via-list";
pub const ALL_PARTICIPANTS_KNOWN: &str = "context:all-participants-known";

/// Every rule and its default points. For [`TLS_PATH_UNVERIFIED`] the value is the
/// share of the TLS points taken back; for [`SENDER_TRUST`] the factor applied to the
/// contact's own comportment score.
pub const TABLE: &[(&str, f32)] = &[
    (TLS_13, 30.0),
    (TLS_12, 25.0),
    (TLS_11, 10.0),
    (TLS_10, 10.0),
    (TLS_LEGACY, 5.0),
    (SSL_OBSOLETE, 2.0),
    (TLS_UNKNOWN, 10.0),
    (TLS_PATH_UNVERIFIED, 0.5),
    (DKIM, 15.0),
    (PGP_MIME_ENCRYPTED, 40.0),
    (PGP_INLINE_ENCRYPTED, 35.0),
    (SMIME_ENCRYPTED, 35.0),
    (PGP_MIME_SIGNED, 15.0),
    (PGP_INLINE_SIGNED, 10.0),
    (SMIME_SIGNED, 15.0),
    (COMPORTMENT_BASELINE, 30.0),
    (KNOWN_SENDER, 25.0),
    (SENDER_PUBLIC_KEY, 20.0),
    (SENDER_TRUST, 0.1),
    (KNOWN_DISCUSSION, 15.0),
    (SPAM, -30.0),
    (CONTEXT_BASELINE, 20.0),
    (INTERNAL, 30.0),
    (NO_EXTERNAL_HOP, 20.0),
    (ONE_EXTERNAL_HOP, 15.0),
    (TWO_EXTERNAL_HOPS, 5.0),
    (MANY_EXTERNAL_HOPS, -10.0),
    (ADDRESSED_TO, 20.0),
    (ADDRESSED_CC, 10.0),
    (ADDRESSED_BCC, 10.0),
    (VIA_LIST, -15.0),
    (ALL_PARTICIPANTS_KNOWN, 10.0),
];

/// The default points of `rule`; 0 for a name not in [`TABLE`].
pub fn default_points(rule: &str) -> f32 {
    TABLE
        .iter()
        .find(|(name, _)| *name == rule)
        .map_or(0.0, |(_, points)| *points)
}

/// The axis a rule name counts on.
pub fn axis_of(rule: &str) -> Option<Axis> {
    match rule.split_once(':')?.0 {
        "technic" => Some(Axis::Technic),
        "comportment" => Some(Axis::Comportment),
        "context" => Some(Axis::Context),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_on_an_axis() {
        let mut names: Vec<&str> = TABLE.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
        assert!(TABLE.iter().all(|(n, _)| axis_of(n).is_some()));
        assert_eq!(default_points("technic:nope"), 0.0);
    }

    #[test]
    fn the_best_case_of_each_axis_is_100() {
        let p = default_points;
        assert_eq!(
            p(TLS_13) + p(DKIM) + p(PGP_MIME_ENCRYPTED) + p(PGP_MIME_SIGNED),
            100.0
        );
        let trust = p(SENDER_TRUST) * 100.0;
        let comportment = p(COMPORTMENT_BASELINE)
            + p(KNOWN_SENDER)
            + p(SENDER_PUBLIC_KEY)
            + trust
            + p(KNOWN_DISCUSSION);
        assert_eq!(comportment, 100.0);
        let context = p(CONTEXT_BASELINE)
            + p(INTERNAL)
            + p(NO_EXTERNAL_HOP)
            + p(ADDRESSED_TO)
            + p(ALL_PARTICIPANTS_KNOWN);
        assert_eq!(context, 100.0);
    }

    #[test]
    fn encryption_outweighs_every_transport_feature() {
        let p = default_points;
        for encrypted in [PGP_MIME_ENCRYPTED, PGP_INLINE_ENCRYPTED, SMIME_ENCRYPTED] {
            assert!(p(encrypted) > p(TLS_13) && p(encrypted) > p(DKIM));
        }
        assert!(p(TLS_13) > p(TLS_12) && p(TLS_12) > p(TLS_11) && p(TLS_11) > p(TLS_LEGACY));
        assert!(p(TLS_LEGACY) > p(SSL_OBSOLETE));
    }
}
