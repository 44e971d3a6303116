//! Remote identities: credentials stored, never answered in full.

use std::collections::BTreeMap;

use caliopen_core::CoreError;
use caliopen_core::model::identity::IdentityStatus;
use caliopen_core::service::remote_identities::{MASK, NewRemoteIdentity};
use serde_json::json;

use crate::harness::{Node, assert_invalid, assert_not_found, patch};

fn remote(address: &str) -> NewRemoteIdentity {
    NewRemoteIdentity {
        identifier: address.into(),
        protocol: "email".into(),
        display_name: "Me elsewhere".into(),
        status: None,
        credentials: BTreeMap::from([
            ("username".to_owned(), "me".to_owned()),
            ("password".to_owned(), "s3cret".to_owned()),
            ("inserver".to_owned(), "imap.example.com".to_owned()),
        ]),
        infos: BTreeMap::new(),
    }
}

#[tokio::test]
async fn remote_identities_keep_their_secrets() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let created = node
        .core
        .create_remote_identity(alice.id, remote("Me@Example.com"))
        .await
        .unwrap();
    assert_eq!(created.identifier, "me@example.com");
    assert_eq!(created.credentials["password"], MASK);
    assert_eq!(created.credentials["username"], "me");
    assert_eq!(created.credentials["inserver"], "imap.example.com");
    let listed = node.core.remote_identities(alice.id).await.unwrap();
    assert_eq!(listed, vec![created.clone()]);
    assert_eq!(
        node.core
            .remote_identity(alice.id, created.id)
            .await
            .unwrap(),
        created
    );
    let full = node
        .core
        .remote_identity_with_credentials(alice.id, created.id)
        .await
        .unwrap();
    assert_eq!(full.credentials["password"], "s3cret");
    assert_eq!(node.core.user_addresses(alice.id).await.unwrap().len(), 2);
    assert_eq!(
        node.core.resolve_address("me@example.com").await.unwrap(),
        None,
        "not delivered here"
    );

    // The client sends back what it saw: the masked password is kept.
    let rename = patch(json!({
        "display_name": "Work", "credentials": {"password": MASK, "inserver": "imap2.example.com"},
        "current_state": {"display_name": "Me elsewhere", "credentials": {"password": MASK}}
    }));
    let renamed = node
        .core
        .patch_remote_identity(alice.id, created.id, &rename)
        .await
        .unwrap();
    assert_eq!(renamed.display_name, "Work");
    let full = node
        .core
        .remote_identity_with_credentials(alice.id, created.id)
        .await
        .unwrap();
    assert_eq!(full.credentials["password"], "s3cret");
    assert_eq!(full.credentials["inserver"], "imap2.example.com");
    let new_secret =
        patch(json!({"credentials": {"password": "n3w"}, "current_state": {"credentials": {}}}));
    node.core
        .patch_remote_identity(alice.id, created.id, &new_secret)
        .await
        .unwrap();
    let full = node
        .core
        .remote_identity_with_credentials(alice.id, created.id)
        .await
        .unwrap();
    assert_eq!(full.credentials["password"], "n3w");
    assert!(matches!(
        node.core
            .patch_remote_identity(alice.id, created.id, &rename)
            .await,
        Err(CoreError::Conflict(_))
    ));
    let pause = patch(json!({"status": "inactive", "current_state": {"status": "active"}}));
    let paused = node
        .core
        .patch_remote_identity(alice.id, created.id, &pause)
        .await
        .unwrap();
    assert_eq!(paused.status, IdentityStatus::Inactive);
    let gone = patch(json!({"status": "deleted", "current_state": {"status": "inactive"}}));
    assert_invalid(
        node.core
            .patch_remote_identity(alice.id, created.id, &gone)
            .await,
        "status",
    );
    let bogus = patch(json!({"status": "bogus", "current_state": {"status": "inactive"}}));
    assert_invalid(
        node.core
            .patch_remote_identity(alice.id, created.id, &bogus)
            .await,
        "status",
    );
    let identifier =
        patch(json!({"identifier": "x@y.org", "current_state": {"identifier": "me@example.com"}}));
    assert_invalid(
        node.core
            .patch_remote_identity(alice.id, created.id, &identifier)
            .await,
        "identifier",
    );

    assert!(matches!(
        node.core
            .create_remote_identity(alice.id, remote("me@example.com"))
            .await,
        Err(CoreError::Conflict(_))
    ));
    // An address of this server is never a remote identity, its user's own neither.
    assert!(matches!(
        node.core
            .create_remote_identity(alice.id, remote("alice@caliopen.local"))
            .await,
        Err(CoreError::Forbidden(_))
    ));
    assert_invalid(
        node.core
            .create_remote_identity(alice.id, remote("nope"))
            .await,
        "identifier",
    );
    let mut twitter = remote("x@y.org");
    twitter.protocol = "twitter".into();
    assert_invalid(
        node.core.create_remote_identity(alice.id, twitter).await,
        "protocol",
    );
    let mut status = remote("x@y.org");
    status.status = Some("deleted".into());
    assert_invalid(
        node.core.create_remote_identity(alice.id, status).await,
        "status",
    );

    let local = node.identity_id(&alice).await;
    assert_not_found(node.core.remote_identity(alice.id, local).await);
    assert_not_found(node.core.delete_remote_identity(alice.id, local).await);
    node.core
        .delete_remote_identity(alice.id, created.id)
        .await
        .unwrap();
    assert_not_found(node.core.remote_identity(alice.id, created.id).await);
    assert!(
        node.core
            .remote_identities(alice.id)
            .await
            .unwrap()
            .is_empty()
    );
}
