//! The configuration: one TOML file (default `configs/caliopen.toml`) plus
//! `CALIOPEN_*` environment overrides. A variable names a key path with `__`
//! between levels: `CALIOPEN_LISTEN__HTTP=0.0.0.0:8080`,
//! `CALIOPEN_CORE__DEFAULT_DOMAIN=example.org`. Values are read as TOML values
//! when they parse as a number, a boolean or an array
//! (`CALIOPEN_STORAGE__SCYLLA__CONTACT_POINTS='["10.0.0.1:9042"]'`), else as strings. Relative paths
//! are resolved against the directory of the configuration file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use caliopen_core::CoreConfig;
#[cfg(feature = "elasticsearch")]
pub use caliopen_storage_elasticsearch::ElasticConfig;
use caliopen_storage_embedded::EmbeddedOptions;
#[cfg(feature = "scylla")]
pub use caliopen_storage_scylla::ScyllaConfig;
use serde::Deserialize;

use crate::wasm::EngineSettings;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the embedded store and the compiled-component cache live.
    pub data_dir: PathBuf,
    #[serde(default)]
    pub listen: Listen,
    #[serde(default)]
    pub core: CoreConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub wasm: EngineSettings,
    /// Components deployed at start-up when their slot is empty.
    #[serde(default)]
    pub components: Vec<ComponentSource>,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    /// The REST API: which proxies' `X-Forwarded-For` is believed.
    #[serde(default)]
    pub rest: caliopen_rest::client::RestSettings,
    /// The LMTP server (or SMTP inbound, with `mode = "smtp"`).
    #[serde(default)]
    pub lmtp: caliopen_smtp::InboundSettings,
    /// The HTTP listeners' timeouts and the REST API's connection cap.
    #[serde(default)]
    pub http: crate::http::HttpSettings,
    /// Sending: the relay drafts go to.
    #[serde(default)]
    pub outbound: caliopen_smtp::outbound::OutboundSettings,
    /// DKIM, SPF and DMARC verification at delivery.
    #[serde(default)]
    pub mail_auth: caliopen_mail_auth::Settings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// The admin API's bearer token, at least 32 characters without whitespace;
    /// empty: generated once in `<data_dir>/admin.token`.
    pub token: String,
    /// Most admin API connections served at once; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            token: String::new(),
            max_connections: 32,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Listen {
    /// LMTP, for the MTA in front.
    pub lmtp: SocketAddr,
    /// The REST API.
    pub http: SocketAddr,
    /// The admin API and `/metrics`; keep it on loopback or a private network.
    pub admin: SocketAddr,
}

impl Default for Listen {
    fn default() -> Self {
        Self {
            lmtp: SocketAddr::from(([127, 0, 0, 1], 2424)),
            http: SocketAddr::from(([127, 0, 0, 1], 6543)),
            admin: SocketAddr::from(([127, 0, 0, 1], 6544)),
        }
    }
}

/// Which backend serves each storage role. The embedded store (in `data_dir`) is
/// opened only when a role uses it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Records, blobs and ephemeral values (always together).
    pub records: RecordsBackend,
    /// The search index.
    pub search: SearchBackend,
    pub embedded: EmbeddedOptions,
    /// Required when `records = "scylla"`.
    pub scylla: Option<ScyllaConfig>,
    /// Required when `search = "elasticsearch"`.
    pub elasticsearch: Option<ElasticConfig>,
}

/// The backend of records, blobs and ephemeral values (`storage.records`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordsBackend {
    #[default]
    Embedded,
    Scylla,
}

/// The backend of the search index (`storage.search`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchBackend {
    #[default]
    Embedded,
    Elasticsearch,
}

impl StorageConfig {
    /// Whether some role is served by the embedded store.
    pub fn uses_embedded(&self) -> bool {
        self.records == RecordsBackend::Embedded || self.search == SearchBackend::Embedded
    }

    /// Checks that each selected backend has its table and that the table is usable
    /// (serde checks the names; this checks what needs both keys).
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.records == RecordsBackend::Scylla {
            let Some(scylla) = &self.scylla else {
                bail!(
                    "`storage.records = \"scylla\"` needs a [storage.scylla] table with `contact_points`"
                );
            };
            scylla.validate().context("[storage.scylla]")?;
        }
        if self.search == SearchBackend::Elasticsearch {
            let Some(elastic) = &self.elasticsearch else {
                bail!(
                    "`storage.search = \"elasticsearch\"` needs a [storage.elasticsearch] table with `nodes`"
                );
            };
            elastic.validate().context("[storage.elasticsearch]")?;
        }
        Ok(())
    }
}

/// A backend's table in a build without that backend (see the `scylla` and
/// `elasticsearch` features): any table parses, and selecting the backend is refused
/// with a message that says how to get it.
#[cfg_attr(all(feature = "scylla", feature = "elasticsearch"), allow(dead_code))]
#[derive(Debug, Clone, Deserialize)]
pub struct NotBuilt {
    #[serde(flatten)]
    _table: toml::Table,
}

#[cfg_attr(all(feature = "scylla", feature = "elasticsearch"), allow(dead_code))]
impl NotBuilt {
    /// Always an error naming the cargo feature that builds the backend in.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        bail!(
            "this `caliopen` was built without this storage backend; build it with the default \
             features (`cargo build --release -p caliopen-runtime`) to use it"
        )
    }
}

#[cfg(not(feature = "scylla"))]
pub type ScyllaConfig = NotBuilt;
#[cfg(not(feature = "elasticsearch"))]
pub type ElasticConfig = NotBuilt;

/// A component to deploy: its manifest and its `.wasm`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSource {
    pub manifest: PathBuf,
    pub wasm: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A `tracing` filter, e.g. `info,caliopen_core=debug`; `RUST_LOG` wins.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "text".into(),
            filter: "info".into(),
        }
    }
}

impl Config {
    /// Reads `path`, applies the environment overrides, resolves relative paths.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let vars = std::env::vars().filter(|(k, _)| {
            (k.starts_with("CALIOPEN_") && k.contains("__")) || is_top_level_var(k)
        });
        let mut config = Self::parse(&text, vars)
            .with_context(|| format!("invalid configuration {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        if let Some(key) = &config.core.credentials.key_file
            && key.starts_with(&config.data_dir)
        {
            bail!(
                "[core.credentials] key_file {} is inside data_dir {}: keep the key apart \
                 from the credentials it seals",
                key.display(),
                config.data_dir.display()
            );
        }
        Ok(config)
    }

    /// Parses configuration text with the given `CALIOPEN_*` overrides.
    pub fn parse(
        text: &str,
        overrides: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut value: toml::Table = toml::from_str(text)?;
        for (var, raw) in overrides {
            let Some(path) = var.strip_prefix("CALIOPEN_") else {
                continue;
            };
            let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
            set(&mut value, &keys, scalar(&raw))
                .with_context(|| format!("environment variable {var}"))?;
        }
        let config: Self = toml::Value::Table(value).try_into()?;
        config.storage.validate()?;
        config.http.validate()?;
        if config.admin.max_connections == 0 {
            bail!("[admin] max_connections must be > 0");
        }
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut self.data_dir);
        if let Some(key) = self.core.credentials.key_file.as_mut() {
            resolve(key);
        }
        for c in &mut self.components {
            resolve(&mut c.manifest);
            resolve(&mut c.wasm);
        }
        #[cfg(feature = "scylla")]
        if let Some(tls) = self.storage.scylla.as_mut().and_then(|s| s.tls.as_mut()) {
            resolve(&mut tls.ca_file);
        }
        #[cfg(feature = "elasticsearch")]
        if let Some(tls) = self
            .storage
            .elasticsearch
            .as_mut()
            .and_then(|e| e.tls.as_mut())
        {
            resolve(&mut tls.ca_file);
        }
    }
}

/// Top-level keys can be overridden without `__` (`CALIOPEN_DATA_DIR`).
fn is_top_level_var(k: &str) -> bool {
    k == "CALIOPEN_DATA_DIR"
}

fn scalar(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => match t.remove("v") {
            Some(
                v @ (toml::Value::Integer(_)
                | toml::Value::Float(_)
                | toml::Value::Boolean(_)
                | toml::Value::Array(_)),
            ) => v,
            _ => toml::Value::String(raw.to_owned()),
        },
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

fn set(table: &mut toml::Table, keys: &[String], value: toml::Value) -> anyhow::Result<()> {
    match keys {
        [] => bail!("empty key"),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set(t, rest, value),
                _ => bail!("`{first}` is not a table"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole error chain of a configuration `Config::parse` refuses.
    fn refused(text: &str) -> String {
        format!("{:#}", Config::parse(text, std::iter::empty()).unwrap_err())
    }

    #[test]
    fn every_file_in_configs_parses_and_its_components_fit_its_size_limit() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let config =
                    Config::load(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
                // Its parser and broker take a mail at its size limit.
                for source in &config.components {
                    let manifest = crate::wasm::Manifest::load(&source.manifest).unwrap();
                    let problem = manifest.too_small_for(config.lmtp.max_message_size);
                    assert_eq!(problem, None, "{}", path.display());
                }
                seen += 1;
            }
        }
        assert!(seen > 0, "no configuration found in {}", dir.display());
    }

    #[test]
    fn environment_overrides_nested_keys_with_types() {
        let vars = [
            (
                "CALIOPEN_LISTEN__HTTP".to_owned(),
                "127.0.0.1:9999".to_owned(),
            ),
            (
                "CALIOPEN_CORE__DEFAULT_DOMAIN".to_owned(),
                "example.org".to_owned(),
            ),
            ("CALIOPEN_WASM__POOLING".to_owned(), "false".to_owned()),
            ("CALIOPEN_DATA_DIR".to_owned(), "/tmp/x".to_owned()),
        ];
        let c = Config::parse("data_dir = \"data\"", vars.into_iter()).unwrap();
        assert_eq!(c.listen.http.port(), 9999);
        assert_eq!(c.core.default_domain, "example.org");
        assert!(!c.wasm.pooling);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn the_relay_comes_from_the_file_or_the_environment() {
        let vars = [(
            "CALIOPEN_OUTBOUND__PASSWORD".to_owned(),
            "from-env".to_owned(),
        )];
        let c = Config::parse(
            "data_dir = \"d\"\n[outbound]\nrelay = \"smtp.example.org:587\"\nusername = \"u\"",
            vars.into_iter(),
        )
        .unwrap();
        assert_eq!(c.outbound.relay, "smtp.example.org:587");
        assert_eq!(c.outbound.password, "from-env");
        assert_eq!(c.outbound.tls, caliopen_smtp::outbound::RelayTls::Starttls);
        let err = Config::parse(
            "data_dir = \"d\"\n[outbound]\ntls = \"maybe\"",
            std::iter::empty(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("maybe"), "{err:#}");
    }

    #[test]
    fn storage_defaults_to_embedded_for_every_role() {
        let c = Config::parse("data_dir = \"d\"", std::iter::empty()).unwrap();
        assert_eq!(c.storage.records, RecordsBackend::Embedded);
        assert_eq!(c.storage.search, SearchBackend::Embedded);
        assert!(c.storage.uses_embedded());
        assert!(c.storage.scylla.is_none() && c.storage.elasticsearch.is_none());
    }

    #[test]
    fn a_backend_left_out_of_the_build_is_refused_with_how_to_get_it() {
        let table: NotBuilt = toml::from_str("contact_points = [\"10.0.0.1:9042\"]").unwrap();
        let err = table.validate().unwrap_err().to_string();
        assert!(err.contains("built without"), "{err}");
        assert!(
            err.contains("cargo build --release -p caliopen-runtime"),
            "{err}"
        );
    }

    #[cfg(all(feature = "scylla", feature = "elasticsearch"))]
    #[test]
    fn storage_selects_scylla_and_elasticsearch() {
        let text = "data_dir = \"d\"\n[storage]\nrecords = \"scylla\"\nsearch = \"elasticsearch\"\n\
                    [storage.scylla]\ncontact_points = [\"10.0.0.1:9042\", \"10.0.0.2:9042\"]\n\
                    keyspace = \"mail\"\n\
                    [storage.elasticsearch]\nnodes = [\"http://10.0.0.3:9200\"]\n";
        let c = Config::parse(text, std::iter::empty()).unwrap();
        assert_eq!(c.storage.records, RecordsBackend::Scylla);
        assert_eq!(c.storage.search, SearchBackend::Elasticsearch);
        assert!(!c.storage.uses_embedded());
        let scylla = c.storage.scylla.unwrap();
        assert_eq!(scylla.contact_points, ["10.0.0.1:9042", "10.0.0.2:9042"]);
        assert_eq!(scylla.keyspace, "mail");
        assert_eq!(
            c.storage.elasticsearch.unwrap().nodes,
            ["http://10.0.0.3:9200"]
        );
    }

    #[cfg(feature = "elasticsearch")]
    #[test]
    fn storage_mixes_embedded_and_distributed_roles() {
        let text = "data_dir = \"d\"\n[storage]\nsearch = \"elasticsearch\"\n\
                    [storage.elasticsearch]\nnodes = [\"http://127.0.0.1:9200\"]\n";
        let c = Config::parse(text, std::iter::empty()).unwrap();
        assert_eq!(c.storage.records, RecordsBackend::Embedded);
        assert_eq!(c.storage.search, SearchBackend::Elasticsearch);
        assert!(c.storage.uses_embedded());

        // A table of an unselected backend is kept but unused.
        let text = "data_dir = \"d\"\n[storage]\nrecords = \"embedded\"\n\
                    [storage.scylla]\ncontact_points = [\"127.0.0.1:9042\"]\n";
        let c = Config::parse(text, std::iter::empty()).unwrap();
        assert_eq!(c.storage.records, RecordsBackend::Embedded);
        assert!(c.storage.scylla.is_some());
    }

    #[cfg(feature = "scylla")]
    #[test]
    fn storage_backends_come_from_the_environment() {
        let vars = [
            ("CALIOPEN_STORAGE__RECORDS".to_owned(), "scylla".to_owned()),
            (
                "CALIOPEN_STORAGE__SCYLLA__CONTACT_POINTS".to_owned(),
                "[\"10.0.0.1:9042\"]".to_owned(),
            ),
        ];
        let c = Config::parse("data_dir = \"d\"", vars.into_iter()).unwrap();
        assert_eq!(c.storage.records, RecordsBackend::Scylla);
        assert_eq!(c.storage.scylla.unwrap().contact_points, ["10.0.0.1:9042"]);
    }

    #[test]
    fn the_commented_storage_examples_of_the_shipped_config_parse() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/caliopen.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let mut examples = String::from(
            "data_dir = \"d\"\n[storage]\nrecords = \"scylla\"\nsearch = \"elasticsearch\"\n",
        );
        let mut inside = false;
        for line in text.lines() {
            if line.starts_with("# [storage.") {
                inside = true;
            } else if !line.starts_with("# ") {
                inside = false;
            }
            if inside {
                examples.push_str(&line[2..]);
                examples.push('\n');
            }
        }
        let c = Config::parse(&examples, std::iter::empty()).unwrap_or_else(|e| panic!("{e:#}"));
        let scylla = c.storage.scylla.unwrap();
        assert_eq!(scylla.contact_points.len(), 2);
        assert!(scylla.credentials.is_some() && scylla.tls.is_some());
        let elastic = c.storage.elasticsearch.unwrap();
        assert_eq!(elastic.nodes.len(), 2);
        assert!(elastic.credentials.is_some() && elastic.tls.is_some());
    }

    #[test]
    fn unknown_storage_backends_are_refused_with_the_valid_names() {
        let msg = refused("data_dir = \"d\"\n[storage]\nrecords = \"cassandra\"");
        assert!(msg.contains("cassandra"), "{msg}");
        assert!(msg.contains("embedded") && msg.contains("scylla"), "{msg}");

        let msg = refused("data_dir = \"d\"\n[storage]\nsearch = \"solr\"");
        assert!(msg.contains("solr"), "{msg}");
        assert!(
            msg.contains("embedded") && msg.contains("elasticsearch"),
            "{msg}"
        );
    }

    #[test]
    fn a_selected_backend_without_its_settings_is_refused() {
        let msg = refused("data_dir = \"d\"\n[storage]\nrecords = \"scylla\"");
        assert!(
            msg.contains("[storage.scylla]") && msg.contains("contact_points"),
            "{msg}"
        );

        let msg = refused(
            "data_dir = \"d\"\n[storage]\nrecords = \"scylla\"\n[storage.scylla]\ncontact_points = []",
        );
        assert!(
            msg.contains("[storage.scylla]") && msg.contains("contact_points"),
            "{msg}"
        );

        let msg = refused(
            "data_dir = \"d\"\n[storage]\nrecords = \"scylla\"\n[storage.scylla]\nkeyspace = \"k\"",
        );
        assert!(msg.contains("contact_points"), "{msg}");

        let msg = refused("data_dir = \"d\"\n[storage]\nsearch = \"elasticsearch\"");
        assert!(
            msg.contains("[storage.elasticsearch]") && msg.contains("nodes"),
            "{msg}"
        );
    }

    #[test]
    fn trusted_proxies_and_auth_limits_parse_and_bad_ones_are_named() {
        let c = Config::parse(
            "data_dir = \"d\"\n[rest]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n\
             [core.auth]\nsignup_open = false\naddress_attempts = 7\n\
             [core.send_limits]\nmessages = 3\n",
            std::iter::empty(),
        )
        .unwrap();
        assert_eq!(c.rest.trusted_proxies.len(), 2);
        assert!(
            c.rest.trusted_proxies[0].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap())
        );
        assert!(!c.core.auth.signup_open);
        assert_eq!(c.core.auth.address_attempts, 7);
        assert_eq!(c.core.send_limits.messages, 3);
        let msg = refused("data_dir = \"d\"\n[rest]\ntrusted_proxies = [\"proxy.example\"]");
        assert!(msg.contains("proxy.example"), "{msg}");
    }

    #[test]
    fn the_shipped_config_documents_the_default_connection_bounds() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/caliopen.toml");
        let c = Config::load(&path).unwrap();
        assert_eq!(c.lmtp, caliopen_smtp::InboundSettings::default());
        assert_eq!(c.http, crate::http::HttpSettings::default());
        assert_eq!(
            c.admin.max_connections,
            AdminConfig::default().max_connections
        );
    }

    #[test]
    fn http_bounds_parse_and_zero_is_refused() {
        let c = Config::parse(
            "data_dir = \"d\"\n[http]\nheader_read_timeout = 5\nmax_connections = 64\n\
             [admin]\nmax_connections = 4",
            std::iter::empty(),
        )
        .unwrap();
        assert_eq!((c.http.header_read_timeout, c.http.idle_timeout), (5, 60));
        assert_eq!((c.http.max_connections, c.admin.max_connections), (64, 4));
        for bad in ["[http]\nidle_timeout = 0", "[admin]\nmax_connections = 0"] {
            let msg = refused(&format!("data_dir = \"d\"\n{bad}"));
            assert!(msg.contains("must be > 0"), "{msg}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Config::parse(
            "data_dir = \"d\"\n[listen]\nsmtpp = \"x\"",
            std::iter::empty(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("smtpp"), "{err:#}");
    }

    #[test]
    fn a_credentials_key_inside_the_data_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("caliopen.toml");
        let write = |key: &str| {
            std::fs::write(
                &path,
                format!("data_dir = \"data\"\n[core.credentials]\nkey_file = \"{key}\"\n"),
            )
            .unwrap();
        };
        write("data/credentials.key");
        let err = Config::load(&path).unwrap_err();
        assert!(format!("{err:#}").contains("inside data_dir"), "{err:#}");
        write("credentials.key");
        let c = Config::load(&path).unwrap();
        assert_eq!(
            c.core.credentials.key_file,
            Some(dir.path().join("credentials.key"))
        );
    }
}
