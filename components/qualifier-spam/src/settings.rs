//! What the operator set in the manifest's `[config]`, read through a lookup function
//! so that it is testable without the host:
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `threshold` | `5.0` | a message whose score reaches it is spam |
//! | `weight.<RULE>` | see [`Rule::default_weight`] | a rule's weight; `0` disables it |
//! | `many_recipients` | `20` | recipients (To + Cc + Bcc) from which `MANY_RECIPIENTS` fires |
//! | `max_phrases` | `6` | spam phrases counted at most by `SPAM_PHRASES` |
//!
//! In the manifest, quote a dotted key (`"weight.X" = "1.5"`): a bare `weight.X`
//! would be a TOML table, which the manifest's string map refuses.
//!
//! A value that does not parse is ignored (the default is used) and reported in
//! [`Settings::warnings`], which the component logs.

use std::collections::BTreeMap;

use crate::rules::Rule;

/// The default spam threshold.
pub const DEFAULT_THRESHOLD: f32 = 5.0;
/// The default recipient count from which `MANY_RECIPIENTS` fires.
pub const DEFAULT_MANY_RECIPIENTS: usize = 20;
/// The default cap on the phrases `SPAM_PHRASES` counts.
pub const DEFAULT_MAX_PHRASES: usize = 6;

/// The qualifier's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub threshold: f32,
    pub many_recipients: usize,
    pub max_phrases: usize,
    weights: BTreeMap<Rule, f32>,
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
        let threshold = number(&get, "threshold", &mut warnings).unwrap_or(DEFAULT_THRESHOLD);
        let many_recipients =
            count(&get, "many_recipients", &mut warnings).unwrap_or(DEFAULT_MANY_RECIPIENTS);
        let max_phrases = count(&get, "max_phrases", &mut warnings).unwrap_or(DEFAULT_MAX_PHRASES);
        let weights = Rule::ALL
            .into_iter()
            .map(|rule| {
                let key = format!("weight.{}", rule.name());
                let weight = number(&get, &key, &mut warnings).unwrap_or(rule.default_weight());
                (rule, weight)
            })
            .collect();
        Self {
            threshold,
            many_recipients,
            max_phrases,
            weights,
            warnings,
        }
    }

    /// The weight of `rule`.
    pub fn weight(&self, rule: Rule) -> f32 {
        self.weights
            .get(&rule)
            .copied()
            .unwrap_or(rule.default_weight())
    }
}

/// A finite number, or none (with a warning when the key is set but unusable).
fn number(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    warnings: &mut Vec<String>,
) -> Option<f32> {
    let text = get(key)?;
    match text.trim().parse::<f32>() {
        Ok(value) if value.is_finite() => Some(value),
        _ => {
            warnings.push(format!(
                "config `{key}` = `{text}` is not a number: ignored"
            ));
            None
        }
    }
}

/// A positive whole number, or none (with a warning when set but unusable).
fn count(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    warnings: &mut Vec<String>,
) -> Option<usize> {
    let text = get(key)?;
    match text.trim().parse::<usize>() {
        Ok(value) if value > 0 => Some(value),
        _ => {
            warnings.push(format!(
                "config `{key}` = `{text}` is not a positive whole number: ignored"
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Settings {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_config(|key| map.get(key).cloned())
    }

    #[test]
    fn defaults_without_config() {
        let s = Settings::default();
        assert_eq!(s.threshold, DEFAULT_THRESHOLD);
        assert_eq!(s.many_recipients, DEFAULT_MANY_RECIPIENTS);
        assert_eq!(s.max_phrases, DEFAULT_MAX_PHRASES);
        for rule in Rule::ALL {
            assert_eq!(s.weight(rule), rule.default_weight());
        }
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn overrides_are_read_by_rule_name() {
        let s = config(&[
            ("threshold", " 7.5 "),
            ("weight.GTUBE", "50"),
            ("weight.KNOWN_CONTACT", "-1"),
            ("many_recipients", "5"),
            ("max_phrases", "2"),
        ]);
        assert_eq!(s.threshold, 7.5);
        assert_eq!(s.weight(Rule::Gtube), 50.0);
        assert_eq!(s.weight(Rule::KnownContact), -1.0);
        assert_eq!(
            s.weight(Rule::SpamPhrases),
            Rule::SpamPhrases.default_weight()
        );
        assert_eq!((s.many_recipients, s.max_phrases), (5, 2));
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn unusable_values_fall_back_to_defaults_with_a_warning() {
        let s = config(&[
            ("threshold", "high"),
            ("weight.GTUBE", "NaN"),
            ("many_recipients", "0"),
            ("max_phrases", "-3"),
            ("weight.gtube", "1"), // names are case-sensitive: not a key we read
        ]);
        assert_eq!(s.threshold, DEFAULT_THRESHOLD);
        assert_eq!(s.weight(Rule::Gtube), 1000.0);
        assert_eq!(s.many_recipients, DEFAULT_MANY_RECIPIENTS);
        assert_eq!(s.max_phrases, DEFAULT_MAX_PHRASES);
        assert_eq!(s.warnings.len(), 4, "{:?}", s.warnings);
        assert!(s.warnings[0].contains("`threshold`"));
    }
}
