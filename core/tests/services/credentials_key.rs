//! The sealing key of remote identities' passwords that the tests use when they
//! configure none (core's and the REST layer's tests: one file, included by both).

use caliopen_core::CoreConfig;

/// A credentials key file for tests that configure none (outside every data
/// directory), written once per test process.
pub fn test_credentials_key() -> std::path::PathBuf {
    static KEY: std::sync::OnceLock<tempfile::TempPath> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let file = tempfile::NamedTempFile::new().expect("key file");
        std::fs::write(file.path(), "42".repeat(32)).expect("write the key");
        file.into_temp_path()
    })
    .to_path_buf()
}

/// The test key unless the test chose its own credentials setting.
pub fn with_test_key(mut config: CoreConfig) -> CoreConfig {
    let c = &mut config.credentials;
    if c.key_file.is_none() && c.key_env.is_none() {
        c.key_file = Some(test_credentials_key());
    }
    config
}
