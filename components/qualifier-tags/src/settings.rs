//! What the operator set in the manifest's `[config]`, read through a lookup function
//! so that it is testable without the host:
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `internal_tag` | `internal` | the tag added to internal mail, when the user has it |
//! | `known_contact_tag` | none | a tag added when the sender is a known contact, when the user has it |
//! | `max_lookups` | `20` | contact lookups per message at most (1..=100) |
//!
//! A value that cannot be used is ignored (the default is used) and reported in
//! [`Settings::warnings`], which the component logs.

/// The default cap on contact lookups per message.
pub const DEFAULT_MAX_LOOKUPS: usize = 20;
/// The highest `max_lookups` accepted: each lookup is a host call on the delivery path.
pub const MAX_MAX_LOOKUPS: usize = 100;
/// The default tag of internal mail (a system tag every user has).
pub const DEFAULT_INTERNAL_TAG: &str = "internal";

/// The qualifier's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub internal_tag: String,
    pub known_contact_tag: Option<String>,
    pub max_lookups: usize,
    /// Config values that were ignored, and why.
    pub warnings: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self::from_config(|_| None)
    }
}

impl Settings {
    /// Reads every key through `get` (the `config` interface in the component).
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Self {
        let mut warnings = Vec::new();
        let tag = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let max_lookups = match get("max_lookups") {
            None => DEFAULT_MAX_LOOKUPS,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_MAX_LOOKUPS).contains(&n) => n,
                _ => {
                    warnings.push(format!(
                        "config `max_lookups` = `{text}` is not 1..={MAX_MAX_LOOKUPS}: ignored"
                    ));
                    DEFAULT_MAX_LOOKUPS
                }
            },
        };
        Self {
            internal_tag: tag("internal_tag").unwrap_or_else(|| DEFAULT_INTERNAL_TAG.to_owned()),
            known_contact_tag: tag("known_contact_tag"),
            max_lookups,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let s = Settings::default();
        assert_eq!(s.internal_tag, "internal");
        assert_eq!(s.known_contact_tag, None);
        assert_eq!(s.max_lookups, 20);
        let s = Settings::from_config(|k| match k {
            "internal_tag" => Some("corp".into()),
            "known_contact_tag" => Some(" friends ".into()),
            "max_lookups" => Some("5".into()),
            _ => None,
        });
        assert_eq!(s.internal_tag, "corp");
        assert_eq!(s.known_contact_tag.as_deref(), Some("friends"));
        assert_eq!(s.max_lookups, 5);
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn unusable_values_fall_back_with_a_warning() {
        for bad in ["0", "101", "many", "-1"] {
            let s = Settings::from_config(|k| (k == "max_lookups").then(|| bad.to_owned()));
            assert_eq!(s.max_lookups, DEFAULT_MAX_LOOKUPS);
            assert_eq!(s.warnings.len(), 1);
        }
        let s = Settings::from_config(|k| (k == "known_contact_tag").then(|| "  ".to_owned()));
        assert_eq!(s.known_contact_tag, None, "blank means none");
    }
}
