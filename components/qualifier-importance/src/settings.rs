//! What the operator set in the manifest's `[config]`, read through a lookup function
//! so that it is testable without the host:
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `weight.<rule>` | see [`TABLE`] | a rule's steps; `0` disables it |
//! | `low_pi` | `25` | `low-pi` fires when the mean of the three PI scores is under it |
//! | `trusted_comportment` | `60` | `trusted-sender` fires from this comportment score |
//!
//! In the manifest, quote a dotted key (`"weight.X" = "1.5"`): a bare `weight.X`
//! would be a TOML table, which the manifest's string map refuses.
//!
//! A value that cannot be used is ignored (the default is used) and reported in
//! [`Settings::warnings`], which the component logs.

use std::collections::BTreeMap;

pub const SPAM: &str = "spam";
pub const LOW_PI: &str = "low-pi";
pub const TRUSTED_SENDER: &str = "trusted-sender";
pub const REPLY: &str = "reply";
pub const ADDRESSED_TO: &str = "addressed-to";
pub const VIA_LIST: &str = "via-list";

/// The fixed rules and their default steps (tag rules take the tag's own level).
pub const TABLE: &[(&str, f32)] = &[
    (SPAM, -10.0),
    (LOW_PI, -1.0),
    (TRUSTED_SENDER, 1.0),
    (REPLY, 2.0),
    (ADDRESSED_TO, 1.0),
    (VIA_LIST, -1.0),
];

pub const DEFAULT_LOW_PI: f32 = 25.0;
pub const DEFAULT_TRUSTED_COMPORTMENT: f32 = 60.0;

/// The qualifier's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub low_pi: f32,
    pub trusted_comportment: f32,
    steps: BTreeMap<&'static str, f32>,
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
        let mut number = |key: &str, default: f32| match get(key) {
            None => default,
            Some(text) => match text.trim().parse::<f32>() {
                Ok(v) if v.is_finite() => v,
                _ => {
                    warnings.push(format!(
                        "config `{key}` = `{text}` is not a number: ignored"
                    ));
                    default
                }
            },
        };
        let steps = TABLE
            .iter()
            .map(|(rule, default)| (*rule, number(&format!("weight.{rule}"), *default)))
            .collect();
        let low_pi = number("low_pi", DEFAULT_LOW_PI);
        let trusted_comportment = number("trusted_comportment", DEFAULT_TRUSTED_COMPORTMENT);
        Self {
            low_pi,
            trusted_comportment,
            steps,
            warnings,
        }
    }

    /// The steps of a fixed rule (a name of [`TABLE`]; 0 for any other name).
    pub fn steps(&self, rule: &str) -> f32 {
        self.steps.get(rule).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_overrides_and_bad_values() {
        let s = Settings::default();
        assert_eq!(
            (s.steps(SPAM), s.steps(REPLY), s.steps("nope")),
            (-10.0, 2.0, 0.0)
        );
        assert_eq!((s.low_pi, s.trusted_comportment), (25.0, 60.0));
        let s = Settings::from_config(|k| match k {
            "weight.reply" => Some("3".into()),
            "low_pi" => Some("40".into()),
            "trusted_comportment" => Some("inf".into()),
            "weight.spam" => Some("".into()),
            _ => None,
        });
        assert_eq!((s.steps(REPLY), s.low_pi), (3.0, 40.0));
        assert_eq!((s.steps(SPAM), s.trusted_comportment), (-10.0, 60.0));
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    }
}
