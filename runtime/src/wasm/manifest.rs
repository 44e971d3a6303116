//! Component manifests (TOML): what a component is, where it plugs in, what it
//! may call, its limits and what happens to the message when it fails.
//!
//! ```toml
//! name = "spam-rules"
//! version = "1.2.0"
//! world = "qualifier"          # parser | broker | qualifier
//! slot = "qualifier:spam"      # parser:email, broker:email, qualifier:<name>
//! order = 30                   # position in the qualifier chain (ascending)
//! grants = ["log", "config"]   # host interfaces linked for it
//! wasi = false                 # true for interpreted guests (Python, JS): WASI that grants nothing
//!
//! [limits]
//! memory_mib = 64
//! deadline_ms = 1000
//! fuel = 0                     # 0: no fuel budget
//! max_output_kib = 4096
//! max_log_lines = 100
//!
//! [policy]
//! on_failure = "skip"          # quarantine | skip | retry
//!
//! [config]                     # values for the `config` interface
//! threshold = "5.0"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::WasmError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub world: World,
    pub slot: String,
    #[serde(default)]
    pub order: i32,
    #[serde(default)]
    pub grants: Vec<Grant>,
    #[serde(default)]
    pub wasi: bool,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum World {
    Parser,
    Broker,
    Qualifier,
}

impl World {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parser => "parser",
            Self::Broker => "broker",
            Self::Qualifier => "qualifier",
        }
    }
    /// The host interfaces a component of this world may be granted.
    pub fn allowed_grants(self) -> &'static [Grant] {
        match self {
            Self::Parser => &[Grant::Log, Grant::Clock, Grant::Config],
            Self::Broker => &[Grant::Log, Grant::Clock, Grant::Config, Grant::User],
            Self::Qualifier => &[
                Grant::Log,
                Grant::Clock,
                Grant::Config,
                Grant::Contacts,
                Grant::User,
            ],
        }
    }
}

/// A host interface of `caliopen:platform` a manifest may grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grant {
    Log,
    Clock,
    Config,
    Contacts,
    User,
}

impl Grant {
    /// The interface name without package, as in WIT.
    pub fn interface(self) -> &'static str {
        match self {
            Self::Log => "log",
            Self::Clock => "clock",
            Self::Config => "config",
            Self::Contacts => "contacts",
            Self::User => "user",
        }
    }
    pub fn from_interface(name: &str) -> Option<Self> {
        Some(match name {
            "log" => Self::Log,
            "clock" => Self::Clock,
            "config" => Self::Config,
            "contacts" => Self::Contacts,
            "user" => Self::User,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub memory_mib: u32,
    pub deadline_ms: u64,
    /// 0 means no fuel budget.
    pub fuel: u64,
    pub max_output_kib: u32,
    pub max_log_lines: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mib: 64,
            deadline_ms: 1000,
            fuel: 0,
            max_output_kib: 4096,
            max_log_lines: 100,
        }
    }
}

/// What happens to the message when the component fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Hold the message in quarantine for an operator (fail closed).
    Quarantine,
    /// Go on without this component; the message is marked as not qualified by it.
    Skip,
    /// Retry the whole delivery later, with backoff (quarantined after the last attempt).
    Retry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub on_failure: OnFailure,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            on_failure: OnFailure::Retry,
        }
    }
}

impl fmt::Display for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

impl Manifest {
    /// Reads and validates a manifest file.
    pub fn load(path: &Path) -> Result<Self, WasmError> {
        let text = std::fs::read_to_string(path).map_err(|e| WasmError::Manifest {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&text).map_err(|message| WasmError::Manifest {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let m: Manifest = toml::from_str(text).map_err(|e| e.to_string())?;
        m.validate()?;
        Ok(m)
    }

    pub fn validate(&self) -> Result<(), String> {
        let ident = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        if !ident(&self.name) {
            return Err(format!(
                "name `{}` must be 1-64 of a-z, 0-9, `-`, `_`",
                self.name
            ));
        }
        if self.version.is_empty()
            || self.version.len() > 64
            || !self
                .version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c))
        {
            return Err(format!("version `{}` must be like 1.2.0", self.version));
        }
        let world = self.world.as_str();
        match self.slot.split_once(':') {
            Some((w, name)) if w == world && ident(name) => {}
            _ => {
                return Err(format!(
                    "slot `{}` must be `{world}:<name>` for a {world} component",
                    self.slot
                ));
            }
        }
        for g in &self.grants {
            if !self.world.allowed_grants().contains(g) {
                return Err(format!(
                    "a {world} component cannot be granted `{}`",
                    g.interface()
                ));
            }
        }
        let l = &self.limits;
        if !(1..=4096).contains(&l.memory_mib) {
            return Err("limits.memory_mib must be 1..4096".into());
        }
        if !(1..=600_000).contains(&l.deadline_ms) {
            return Err("limits.deadline_ms must be 1..600000".into());
        }
        if l.max_output_kib == 0 {
            return Err("limits.max_output_kib must be at least 1".into());
        }
        if self.world != World::Qualifier && self.policy.on_failure == OnFailure::Skip {
            return Err(format!(
                "a {world} cannot be skipped: on_failure must be `quarantine` or `retry`"
            ));
        }
        Ok(())
    }

    /// Why this parser or broker cannot take a mail of `max_message_size` bytes, the
    /// largest the LMTP/SMTP listener acknowledges; `None` when it can, or when it is a
    /// qualifier (qualifiers see the first MiB of each body only).
    ///
    /// A parser holds the raw mail and its decoded parts, a broker the parsed mail and
    /// the message it builds: each needs at least twice the mail's size in memory (a
    /// 50 MiB mail passed at 128 MiB, `runtime/tests/large_mail.rs`), and its output
    /// cap must hold a body as large as the mail. Below that, such a mail is acknowledged
    /// and then quarantined.
    pub fn too_small_for(&self, max_message_size: usize) -> Option<String> {
        if self.world == World::Qualifier {
            return None;
        }
        let memory = self.limits.memory_mib as usize * 1024 * 1024;
        let output = self.limits.max_output_kib as usize * 1024;
        let needed_mib = (2 * max_message_size).div_ceil(1024 * 1024);
        let mut problems = Vec::new();
        if memory < 2 * max_message_size {
            problems.push(format!(
                "limits.memory_mib = {} is below {needed_mib}, twice the mail size",
                self.limits.memory_mib
            ));
        }
        if output < max_message_size {
            problems.push(format!(
                "limits.max_output_kib = {} is below {}, the mail size",
                self.limits.max_output_kib,
                max_message_size.div_ceil(1024)
            ));
        }
        (!problems.is_empty()).then(|| {
            format!(
                "{self} cannot take a mail of max_message_size = {max_message_size} bytes: {}; \
                 such mail would be acknowledged and then quarantined",
                problems.join(" and ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        name = "spam-rules"
        version = "1.2.0"
        world = "qualifier"
        slot = "qualifier:spam"
        grants = ["log", "contacts"]
        [limits]
        deadline_ms = 200
        [policy]
        on_failure = "skip"
        [config]
        threshold = "5"
    "#;

    #[test]
    fn parses_a_complete_manifest() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.to_string(), "spam-rules@1.2.0");
        assert_eq!(m.limits.deadline_ms, 200);
        assert_eq!(m.limits.memory_mib, 64);
        assert_eq!(m.policy.on_failure, OnFailure::Skip);
        assert_eq!(m.config["threshold"], "5");
    }

    #[test]
    fn a_parser_or_broker_too_small_for_the_size_limit_is_named() {
        let parser = |memory: u32, output: u32| {
            Manifest::parse(&format!(
                "name = \"p\"\nversion = \"1\"\nworld = \"parser\"\nslot = \"parser:email\"\n\
                 [limits]\nmemory_mib = {memory}\nmax_output_kib = {output}\n[policy]\non_failure = \"quarantine\"\n"
            ))
            .unwrap()
        };
        let mib = 1024 * 1024;
        assert_eq!(parser(128, 65536).too_small_for(50 * mib), None);
        let memory = parser(64, 65536).too_small_for(50 * mib).unwrap();
        assert!(memory.contains("memory_mib = 64 is below 100"), "{memory}");
        assert!(!memory.contains("max_output_kib"), "{memory}");
        let output = parser(128, 4096).too_small_for(50 * mib).unwrap();
        assert!(
            output.contains("max_output_kib = 4096 is below 51200"),
            "{output}"
        );
        assert!(output.contains("p@1"), "{output}");
        // Qualifiers see the first MiB of each body only.
        assert_eq!(Manifest::parse(GOOD).unwrap().too_small_for(50 * mib), None);
    }

    #[test]
    fn refuses_bad_manifests_with_a_reason() {
        let cases = [
            (GOOD.replace("qualifier:spam", "parser:spam"), "slot"),
            (
                GOOD.replace("\"contacts\"", "\"network\""),
                "unknown variant",
            ),
            (GOOD.replace("spam-rules", "Spam Rules"), "name"),
            (
                GOOD.replace("deadline_ms = 200", "deadline_ms = 0"),
                "deadline_ms",
            ),
            (
                GOOD.replace("world = \"qualifier\"", "world = \"parser\"")
                    .replace("qualifier:spam", "parser:spam"),
                "cannot be granted",
            ),
            (format!("surprise = 1\n{GOOD}"), "unknown field"),
        ];
        for (text, expected) in cases {
            let err = Manifest::parse(&text).unwrap_err();
            assert!(
                err.contains(expected),
                "`{err}` should mention `{expected}`"
            );
        }
    }
}
