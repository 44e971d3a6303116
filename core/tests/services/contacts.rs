//! Contacts: list, patch with `current_state`, identities, public keys, tags.

use caliopen_core::CoreError;
use caliopen_core::model::Contact;
use caliopen_core::model::contact::ContactEmail;
use caliopen_core::service::contact_keys::NewPublicKey;

use crate::gpg::gpg_key;
use caliopen_core::service::contacts::ContactFilter;
use serde_json::json;

use crate::harness::{Node, assert_invalid, assert_not_found, patch};

pub fn contact(title: &str, address: &str) -> Contact {
    Contact {
        title: title.into(),
        emails: vec![ContactEmail {
            address: address.into(),
            ..ContactEmail::default()
        }],
        ..Contact::default()
    }
}

#[tokio::test]
async fn contacts_are_listed_by_title_with_a_total() {
    let node = Node::new().await;
    let owner = node.user("owner").await;
    for (title, address) in [("zed", "z@x.org"), ("Alice", "a@x.org"), ("bob", "b@x.org")] {
        node.core
            .create_contact(owner.id, contact(title, address))
            .await
            .unwrap();
    }
    let all = ContactFilter {
        limit: 100,
        ..ContactFilter::default()
    };
    let (total, list) = node.core.list_contacts(owner.id, &all).await.unwrap();
    let titles: Vec<&str> = list.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(total, 4);
    assert_eq!(titles, vec!["Alice", "bob", "owner Tester", "zed"]);
    let page = ContactFilter {
        limit: 2,
        offset: 1,
        ..ContactFilter::default()
    };
    let (total, list) = node.core.list_contacts(owner.id, &page).await.unwrap();
    assert_eq!(total, 4);
    assert_eq!(
        list.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
        vec!["bob", "owner Tester"]
    );
    let none = ContactFilter {
        pi: (50, 100),
        ..ContactFilter::default()
    };
    assert_eq!(node.core.list_contacts(owner.id, &none).await.unwrap().0, 0);
}

#[tokio::test]
async fn a_contact_is_patched_against_its_current_state() {
    let node = Node::new().await;
    let owner = node.user("owner").await;
    let c = node
        .core
        .create_contact(owner.id, contact("Bob", "bob@x.org"))
        .await
        .unwrap();
    assert!(!c.emails[0].email_id.is_nil(), "ids are given on creation");
    let changed = node
        .core
        .update_contact(
            owner.id,
            c.id,
            &patch(json!({
                "given_name": "Robert",
                "emails": [{"address": "Robert@Y.org", "type": "work"}],
                "infos": {"nickname": "bobby"},
                "current_state": {
                    "given_name": "",
                    "emails": [{"address": "bob@x.org", "type": ""}],
                    "infos": {}
                }
            })),
        )
        .await
        .unwrap();
    assert_eq!(changed.given_name, "Robert");
    assert_eq!(changed.emails[0].address, "robert@y.org");
    assert_eq!(changed.emails[0].kind, "work");
    assert_eq!(
        changed.infos.get("nickname").map(String::as_str),
        Some("bobby")
    );
    assert!(changed.date_update > c.date_update);
    assert_eq!(node.core.contact(owner.id, c.id).await.unwrap(), changed);
    assert!(
        node.core
            .contacts_by_address(owner.id, "bob@x.org")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        node.core
            .contacts_by_address(owner.id, "robert@y.org")
            .await
            .unwrap()[0]
            .id,
        c.id
    );

    let stale = patch(json!({"given_name": "Rob", "current_state": {"given_name": ""}}));
    assert!(matches!(
        node.core.update_contact(owner.id, c.id, &stale).await,
        Err(CoreError::Conflict(_))
    ));
    let cases = [
        (
            json!({"emails": [{"address": "nope"}], "current_state": {"emails": [{"address": "robert@y.org"}]}}),
            "emails[0].address",
        ),
        (
            json!({"phones": [{"type": "home"}], "current_state": {"phones": []}}),
            "phones[0].number",
        ),
        (json!({"id": "x", "current_state": {"id": c.id}}), "id"),
        (
            json!({"title": ["list"], "current_state": {"title": "Bob"}}),
            "title",
        ),
        (
            json!({"tags": ["no-such-tag"], "current_state": {"tags": []}}),
            "tags[0]",
        ),
    ];
    for (body, field) in cases {
        assert_invalid(
            node.core.update_contact(owner.id, c.id, &patch(body)).await,
            field,
        );
    }
    assert_eq!(
        node.core.contact(owner.id, c.id).await.unwrap(),
        changed,
        "refused patches changed nothing"
    );
    assert_invalid(
        node.core
            .create_contact(owner.id, contact("x", "bad address"))
            .await,
        "emails[0].address",
    );
}

#[tokio::test]
async fn identities_tags_and_deletion_of_a_contact() {
    let node = Node::new().await;
    let owner = node.user("owner").await;
    let mut c = contact("Bob", "bob@x.org");
    c.ims.push(caliopen_core::model::contact::Im {
        address: "bob@jabber.org".into(),
        protocol: "xmpp".into(),
        ..Default::default()
    });
    let c = node.core.create_contact(owner.id, c).await.unwrap();
    let ids = node.core.contact_identities(owner.id, c.id).await.unwrap();
    let pairs: Vec<(&str, &str)> = ids
        .iter()
        .map(|i| (i.protocol.as_str(), i.identifier.as_str()))
        .collect();
    assert_eq!(
        pairs,
        vec![("email", "bob@x.org"), ("xmpp", "bob@jabber.org")]
    );

    let tagged = node
        .core
        .set_contact_tags(owner.id, c.id, &["important".into(), "inbox".into()])
        .await
        .unwrap();
    assert_eq!(tagged.tags, vec!["important", "inbox"]);
    assert_invalid(
        node.core
            .set_contact_tags(owner.id, c.id, &["nope".into()])
            .await,
        "tags[0]",
    );
    let t = patch(json!({"tags": ["inbox"], "current_state": {"tags": ["important", "inbox"]}}));
    assert_eq!(
        node.core
            .patch_contact_tags(owner.id, c.id, &t)
            .await
            .unwrap()
            .tags,
        vec!["inbox"]
    );
    assert!(matches!(
        node.core.patch_contact_tags(owner.id, c.id, &t).await,
        Err(CoreError::Conflict(_))
    ));

    assert!(matches!(
        node.core.delete_contact(owner.id, owner.contact_id).await,
        Err(CoreError::Forbidden(_))
    ));
    node.core.delete_contact(owner.id, c.id).await.unwrap();
    assert_not_found(node.core.contact(owner.id, c.id).await);
    assert!(
        node.core
            .contacts_by_address(owner.id, "bob@x.org")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn public_keys_are_added_read_relabelled_and_deleted() {
    let node = Node::new().await;
    let owner = node.user("owner").await;
    let c = node
        .core
        .create_contact(owner.id, contact("Bob", "bob@x.org"))
        .await
        .unwrap();
    let new = |label: &str, key: &str| NewPublicKey {
        label: label.into(),
        key: key.into(),
    };
    // As the original stored a key (`obj/crypto_keys.go` `UnmarshalPGPEntity`):
    // armor, upper-case OpenPGP fingerprint, bit length, the contact's addresses.
    let gpg = gpg_key("Bob <Bob@X.org>", "ed25519");
    let pgp_key = gpg.base64();
    let key = node
        .core
        .add_public_key(owner.id, c.id, new("laptop", &pgp_key))
        .await
        .unwrap();
    assert_eq!(key.kind, "pgp");
    assert_eq!(key.fingerprint, gpg.fingerprint);
    assert_eq!(key.size, gpg.bits);
    assert!(key.key.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert_eq!(key.emails, vec!["bob@x.org".to_owned()]);
    // A key naming none of the contact's addresses (the original: "no matching
    // identity found for contact").
    assert_invalid(
        node.core
            .add_public_key(
                owner.id,
                c.id,
                new("other", &gpg_key("Eve <eve@x.org>", "ed25519").base64()),
            )
            .await,
        "key",
    );
    // Armor given as is, not base64 (the client base64-encodes it).
    assert_invalid(
        node.core
            .add_public_key(owner.id, c.id, new("raw", &gpg.armored))
            .await,
        "key",
    );
    assert!(matches!(
        node.core
            .add_public_key(owner.id, c.id, new("again", &pgp_key))
            .await,
        Err(CoreError::Conflict(_))
    ));
    assert_invalid(
        node.core
            .add_public_key(owner.id, c.id, new("bad", "%%%"))
            .await,
        "key",
    );
    assert_invalid(
        node.core
            .add_public_key(owner.id, c.id, new(" ", &pgp_key))
            .await,
        "label",
    );
    assert_eq!(
        node.core.public_keys(owner.id, c.id).await.unwrap(),
        vec![key.clone()]
    );
    assert_eq!(
        node.core
            .public_key(owner.id, c.id, key.key_id)
            .await
            .unwrap(),
        key
    );

    let relabel = patch(json!({"label": "desktop", "current_state": {"label": "laptop"}}));
    let changed = node
        .core
        .patch_public_key(owner.id, c.id, key.key_id, &relabel)
        .await
        .unwrap();
    assert_eq!(changed.label, "desktop");
    assert!(matches!(
        node.core
            .patch_public_key(owner.id, c.id, key.key_id, &relabel)
            .await,
        Err(CoreError::Conflict(_))
    ));
    let not_editable =
        patch(json!({"fingerprint": "x", "current_state": {"fingerprint": key.fingerprint}}));
    assert_invalid(
        node.core
            .patch_public_key(owner.id, c.id, key.key_id, &not_editable)
            .await,
        "fingerprint",
    );

    node.core
        .delete_public_key(owner.id, c.id, key.key_id)
        .await
        .unwrap();
    assert_not_found(node.core.public_key(owner.id, c.id, key.key_id).await);
    assert_not_found(
        node.core
            .delete_public_key(owner.id, c.id, key.key_id)
            .await,
    );
}

/// A memoized context (what one message's component chain sees) reads the store
/// once: lookups, tags and settings are one snapshot, and a change shows in the
/// next context, not in this one. A plain context always reads the store.
#[tokio::test]
async fn a_memoized_context_is_one_snapshot_of_the_users_data() {
    use caliopen_core::context::UserContext;
    use caliopen_core::service::tags::NewTag;

    let node = Node::new().await;
    let owner = node.user("owner").await;
    let plain = UserContext::for_user(&node.core, owner.id).await.unwrap();
    let memo = plain.memoized();
    assert!(
        memo.contact_by_address("ann@x.org")
            .await
            .unwrap()
            .is_none()
    );
    let tags_before = memo.tags().await.unwrap().len();

    let ann = node
        .core
        .create_contact(owner.id, contact("Ann", "ann@x.org"))
        .await
        .unwrap();
    node.core
        .create_tag(
            owner.id,
            NewTag {
                label: "later".into(),
                importance_level: None,
            },
        )
        .await
        .unwrap();

    // The memoized context keeps what it read, whatever the case of the address.
    assert!(
        memo.contact_by_address(" ANN@x.org")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(memo.tags().await.unwrap().len(), tags_before);
    // The plain context and a fresh snapshot see the change.
    let found = plain
        .contact_by_address("ann@x.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, ann.id);
    let fresh = plain.memoized();
    assert_eq!(
        fresh
            .contact_by_address("Ann@X.org")
            .await
            .unwrap()
            .unwrap()
            .id,
        ann.id
    );
    assert_eq!(fresh.tags().await.unwrap().len(), tags_before + 1);
    // Settings: read once, then remembered.
    let display = "message_display_format";
    assert_eq!(
        fresh.setting(display).await.unwrap().as_deref(),
        Some("\"rich_text\"")
    );
    let plain_text = patch(json!({"message_display_format": "plain_text",
        "current_state": {"message_display_format": "rich_text"}}));
    node.core
        .patch_settings(owner.id, &plain_text)
        .await
        .unwrap();
    assert_eq!(
        fresh.setting(display).await.unwrap().as_deref(),
        Some("\"rich_text\"")
    );
    assert_eq!(
        plain.setting(display).await.unwrap().as_deref(),
        Some("\"plain_text\"")
    );
}
