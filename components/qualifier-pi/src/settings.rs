//! What the operator set in the manifest's `[config]`, read through a lookup function
//! so that it is testable without the host:
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `weight.<rule>` | see [`rules::TABLE`](crate::rules::TABLE) | a rule's points; `0` disables it |
//! | `max_lookups` | `20` | contact lookups per message at most (1..=100) |
//!
//! In the manifest, quote a dotted key (`"weight.X" = "1.5"`): a bare `weight.X`
//! would be a TOML table, which the manifest's string map refuses.
//!
//! A value that cannot be used is ignored (the default is used) and reported in
//! [`Settings::warnings`], which the component logs.

use std::collections::BTreeMap;

use crate::rules::{self, TABLE};

/// The default cap on contact lookups per message.
pub const DEFAULT_MAX_LOOKUPS: usize = 20;
/// The highest `max_lookups` accepted: each lookup is a host call on the delivery path.
pub const MAX_MAX_LOOKUPS: usize = 100;

/// The qualifier's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub max_lookups: usize,
    points: BTreeMap<&'static str, f32>,
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
        let mut points = BTreeMap::new();
        for (rule, default) in TABLE {
            let key = format!("weight.{rule}");
            let value = match get(&key) {
                None => *default,
                Some(text) => match text.trim().parse::<f32>() {
                    Ok(v) if v.is_finite() => v,
                    _ => {
                        warnings.push(format!(
                            "config `{key}` = `{text}` is not a number: ignored"
                        ));
                        *default
                    }
                },
            };
            points.insert(*rule, value);
        }
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
            max_lookups,
            points,
            warnings,
        }
    }

    /// The points of `rule` (a name of [`TABLE`]).
    pub fn points(&self, rule: &str) -> f32 {
        self.points
            .get(rule)
            .copied()
            .unwrap_or_else(|| rules::default_points(rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{DKIM, TLS_13};

    #[test]
    fn defaults_overrides_and_bad_values() {
        let s = Settings::default();
        assert_eq!((s.points(DKIM), s.max_lookups), (15.0, 20));
        let s = Settings::from_config(|k| match k {
            "weight.technic:dkim" => Some("10".into()),
            "weight.technic:tls-1.3" => Some("lots".into()),
            "max_lookups" => Some("500".into()),
            _ => None,
        });
        assert_eq!(s.points(DKIM), 10.0);
        assert_eq!(s.points(TLS_13), 30.0);
        assert_eq!(s.max_lookups, DEFAULT_MAX_LOOKUPS);
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    }
}
