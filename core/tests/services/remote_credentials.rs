//! Remote identities' secrets at rest and their server settings: the stored
//! record holds no clear password, a missing or wrong key is refused with the
//! setting named, and every `infos` server setting is checked.

use std::collections::BTreeMap;

use caliopen_core::model::Identity;
use caliopen_core::service::remote_identities::{MASK, NewRemoteIdentity};
use caliopen_core::tables::IDENTITIES;
use caliopen_core::{CoreConfig, CoreError};
use caliopen_storage_traits::Scope;

use crate::harness::{Node, assert_invalid};

fn email_account(infos: &[(&str, &str)]) -> NewRemoteIdentity {
    NewRemoteIdentity {
        identifier: "me@elsewhere.example".into(),
        protocol: "email".into(),
        display_name: "Me elsewhere".into(),
        status: None,
        credentials: BTreeMap::from([
            ("username".to_owned(), "me".to_owned()),
            ("password".to_owned(), "s3cret-pass".to_owned()),
        ]),
        infos: infos
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

const GOOD_INFOS: &[(&str, &str)] = &[
    ("inserver", "imap.elsewhere.example:993"),
    ("outserver", "smtp.elsewhere.example:587"),
    ("intls", "implicit"),
    ("outtls", "starttls"),
    ("authtype", "login-password"),
    ("pollinterval", "15"),
    ("inbox_folder", "INBOX"),
    ("sent_folder", "Sent"),
];

fn not_configured<T: std::fmt::Debug>(result: Result<T, CoreError>, words: &str) {
    match result {
        Err(CoreError::NotConfigured(message)) => {
            assert!(message.contains("core.credentials"), "{message}");
            assert!(message.contains(words), "{message}");
        }
        other => panic!("expected NotConfigured, got {other:?}"),
    }
}

#[tokio::test]
async fn the_stored_record_holds_no_clear_password() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let created = node
        .core
        .create_remote_identity(alice.id, email_account(GOOD_INFOS))
        .await
        .unwrap();
    assert_eq!(created.credentials["password"], MASK);
    assert_eq!(created.sealed_credentials, None, "never answered");

    let raw = node
        .stores
        .records
        .get(IDENTITIES, Scope::User(alice.id), created.id.as_bytes())
        .await
        .unwrap()
        .expect("the record");
    let needle = b"s3cret-pass";
    assert!(!raw.windows(needle.len()).any(|w| w == needle));
    let stored: Identity = node
        .core
        .stored_remote_identity(alice.id, created.id)
        .await
        .unwrap();
    assert_eq!(stored.credentials["password"], MASK);
    assert_eq!(stored.credentials["username"], "me");
    assert!(stored.sealed_credentials.is_some());

    let full = node
        .core
        .remote_identity_with_credentials(alice.id, created.id)
        .await
        .unwrap();
    assert_eq!(full.credentials["password"], "s3cret-pass");
    assert_eq!(full.infos["inserver"], "imap.elsewhere.example:993");
}

#[tokio::test]
async fn without_a_key_secrets_are_refused_never_stored_in_clear() {
    let mut config = CoreConfig::default();
    config.credentials.key_env = Some("CALIOPEN_TEST_CREDENTIALS_KEY_NEVER_SET".into());
    let node = Node::with_config(config).await;
    let alice = node.user("alice").await;
    not_configured(
        node.core
            .create_remote_identity(alice.id, email_account(GOOD_INFOS))
            .await,
        "CALIOPEN_TEST_CREDENTIALS_KEY_NEVER_SET",
    );
    assert!(
        node.core
            .remote_identities(alice.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Without a secret, no key is needed.
    let mut public = email_account(GOOD_INFOS);
    public.credentials.remove("password");
    node.core
        .create_remote_identity(alice.id, public)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_malformed_or_wrong_key_is_refused() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let created = node
        .core
        .create_remote_identity(alice.id, email_account(GOOD_INFOS))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let short = dir.path().join("short.key");
    std::fs::write(&short, "abcd").unwrap();
    let mut config = CoreConfig::default();
    config.credentials.key_file = Some(short);
    let malformed = node.peer_with_config(config);
    not_configured(
        malformed
            .core
            .remote_identity_with_credentials(alice.id, created.id)
            .await,
        "64 hex digits",
    );

    let other = dir.path().join("other.key");
    std::fs::write(&other, "07".repeat(32)).unwrap();
    let mut config = CoreConfig::default();
    config.credentials.key_file = Some(other);
    let wrong = node.peer_with_config(config);
    not_configured(
        wrong
            .core
            .remote_identity_with_credentials(alice.id, created.id)
            .await,
        "rotation is not supported",
    );
    // The masked view needs no key.
    let masked = wrong
        .core
        .remote_identity(alice.id, created.id)
        .await
        .unwrap();
    assert_eq!(masked.credentials["password"], MASK);

    let mut config = CoreConfig::default();
    config.credentials.key_file = Some(dir.path().join("missing.key"));
    let missing = node.peer_with_config(config);
    not_configured(
        missing
            .core
            .remote_identity_with_credentials(alice.id, created.id)
            .await,
        "cannot be read",
    );
}

#[tokio::test]
async fn every_server_setting_is_checked() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let long_host = format!("{}.example:993", "a".repeat(64));
    let long_folder = "F".repeat(256);
    let hostile: &[(&str, &str)] = &[
        ("inserver", "imap.elsewhere.example"),
        ("inserver", "imap.elsewhere.example:0"),
        ("inserver", "imap.elsewhere.example:65536"),
        ("inserver", "imap.elsewhere.example:+993"),
        ("inserver", ":993"),
        ("inserver", "imap elsewhere:993"),
        ("inserver", "imap.elsewhere.example:993\r\nA1 LOGOUT"),
        ("inserver", &long_host),
        ("outserver", "[::1:587"),
        ("outserver", "[not-v6]:587"),
        ("outserver", "-smtp.example:587"),
        ("outserver", "smtp.example:99999999999999999999"),
        ("intls", "none"),
        ("outtls", "STARTTLS "),
        ("authtype", "cram-md5"),
        ("authtype", "Oauth2"),
        ("pollinterval", "0"),
        ("pollinterval", "1441"),
        ("pollinterval", "-5"),
        ("pollinterval", "ten"),
        ("inbox_folder", ""),
        ("sent_folder", "Sent\u{0}Items"),
        ("sent_folder", &long_folder),
    ];
    for (key, value) in hostile {
        let mut account = email_account(GOOD_INFOS);
        account.infos.insert((*key).to_owned(), (*value).to_owned());
        assert_invalid(
            node.core.create_remote_identity(alice.id, account).await,
            &format!("infos.{key}"),
        );
    }
    let good_too: &[(&str, &str)] = &[
        ("inserver", "[2001:db8::1]:143"),
        ("outserver", "192.0.2.7:465"),
        ("pollinterval", "1440"),
    ];
    let mut account = email_account(GOOD_INFOS);
    for (key, value) in good_too {
        account.infos.insert((*key).to_owned(), (*value).to_owned());
    }
    node.core
        .create_remote_identity(alice.id, account)
        .await
        .unwrap();
}
