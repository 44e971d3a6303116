//! Documents, bulk lines and the ordering of index operations, without a server.

use caliopen_storage_elasticsearch::ElasticConfig;
use caliopen_storage_elasticsearch::document::{
    MAX_KEYWORD_BYTES, Step, bulk_lines, check, contact_source, doc_id, message_source, plan,
    users_of,
};
use caliopen_storage_elasticsearch::mapping::Names;
use caliopen_storage_traits::search::{
    ContactDocument, DocKind, Document, IndexOp, IndexedParticipant, MessageDocument,
};
use serde_json::json;
use uuid::Uuid;

fn message(user: Uuid, language: Option<&str>) -> MessageDocument {
    MessageDocument {
        user,
        id: Uuid::new_v4(),
        discussion_id: "d1".into(),
        date: 1_700_000_000_000,
        subject: "Quarterly invoice".into(),
        body: "Please find the invoice attached.".into(),
        participants: vec![IndexedParticipant {
            role: "From".into(),
            address: "alice.martin@example.org".into(),
            label: "Alice Martin".into(),
        }],
        tags: vec!["finance".into(), String::new()],
        attachment_names: vec!["invoice.pdf".into()],
        pi: 42,
        importance_level: -3,
        is_unread: true,
        is_draft: false,
        language: language.map(str::to_string),
    }
}

fn contact(user: Uuid) -> ContactDocument {
    ContactDocument {
        user,
        id: Uuid::new_v4(),
        names: vec!["Bob".into()],
        emails: vec!["bob@example.org".into()],
        phones: vec![],
        organizations: vec!["ACME".into()],
        tags: vec![],
    }
}

#[test]
fn a_message_source_holds_only_what_search_uses() {
    let user = Uuid::new_v4();
    let m = message(user, None);
    let source = message_source(&m);
    assert_eq!(
        source,
        json!({
            "user": user.to_string(),
            "kind": "message",
            "id": m.id.to_string(),
            "date": 1_700_000_000_000i64,
            "pi": 42,
            "importance": -3,
            "subject": "Quarterly invoice",
            "body": "Please find the invoice attached.",
            "participants": [{
                "role": "From", "label": "Alice Martin", "address": "alice.martin@example.org"
            }],
            "tags": ["finance"],
            "attachment_names": ["invoice.pdf"],
        })
    );
}

#[test]
fn a_known_language_fills_its_fields() {
    let source = message_source(&message(Uuid::new_v4(), Some("fr-FR")));
    assert_eq!(source["body_fr"], "Please find the invoice attached.");
    assert_eq!(source["subject_fr"], "Quarterly invoice");
    let unknown = message_source(&message(Uuid::new_v4(), Some("xx")));
    let keys = unknown.as_object().expect("an object").keys();
    assert!(
        keys.into_iter()
            .all(|k| !k.starts_with("body_") && !k.starts_with("subject_"))
    );
}

#[test]
fn a_contact_source_drops_empty_values() {
    let c = contact(Uuid::new_v4());
    let source = contact_source(&c);
    assert_eq!(source["kind"], "contact");
    assert_eq!(source["phones"], json!([]));
    assert_eq!(source["organizations"], json!(["ACME"]));
    assert_eq!(source["date"], 0);
}

#[test]
fn bulk_lines_route_by_user_and_key_by_user_and_id() {
    let names = Names::new("caliopen");
    let user = Uuid::new_v4();
    let m = message(user, None);
    let upsert = bulk_lines(&names, &IndexOp::Upsert(Document::Message(m.clone())));
    assert_eq!(upsert.len(), 2);
    assert_eq!(
        upsert[0],
        json!({ "index": {
            "_index": "caliopen-messages-v1",
            "_id": doc_id(user, m.id),
            "routing": user.to_string(),
        }})
    );
    assert_eq!(upsert[1], message_source(&m));
    let delete = bulk_lines(
        &names,
        &IndexOp::Delete {
            user,
            kind: DocKind::Contact,
            id: m.id,
        },
    );
    assert_eq!(
        delete,
        vec![json!({ "delete": {
            "_index": "caliopen-contacts-v1",
            "_id": format!("{user}/{}", m.id),
            "routing": user.to_string(),
        }})]
    );
}

#[test]
fn operations_keep_their_order_around_a_user_deletion() {
    let names = Names::new("caliopen");
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let ops = vec![
        IndexOp::Upsert(Document::Message(message(alice, None))),
        IndexOp::Upsert(Document::Contact(contact(bob))),
        IndexOp::DeleteUser { user: alice },
        IndexOp::Upsert(Document::Message(message(alice, None))),
        IndexOp::Upsert(Document::Message(message(alice, None))),
        IndexOp::Upsert(Document::Message(message(alice, None))),
    ];
    let steps = plan(&names, &ops, 2);
    let shape: Vec<String> = steps
        .iter()
        .map(|s| match s {
            Step::Bulk(ops) => format!("bulk {}", ops.len()),
            Step::DeleteUser(user) => {
                format!("delete {}", if *user == alice { "alice" } else { "?" })
            }
        })
        .collect();
    assert_eq!(shape, ["bulk 2", "delete alice", "bulk 2", "bulk 1"]);
    let mut users = users_of(&ops);
    users.sort_unstable();
    let mut expected = vec![alice, bob];
    expected.sort_unstable();
    assert_eq!(users, expected);
}

#[test]
fn the_configuration_parses_and_hides_secrets() {
    let config: ElasticConfig = toml::from_str(
        r#"
        nodes = ["https://es1:9200", "https://es2:9200"]
        index_prefix = "caliopen"
        shards = 3
        replicas = 1
        credentials = { kind = "basic", username = "caliopen", password = "s3cret" }
        tls = { ca_file = "/etc/caliopen/es-ca.pem" }
        "#,
    )
    .expect("parses");
    config.validate().expect("valid");
    assert!(!format!("{config:?}").contains("s3cret"));
    let minimal: ElasticConfig =
        toml::from_str(r#"nodes = ["http://127.0.0.1:9200"]"#).expect("parses");
    assert_eq!(minimal, ElasticConfig::local("http://127.0.0.1:9200"));
    let mut bad = minimal;
    bad.index_prefix = "Caliopen".into();
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("index_prefix")
    );
    assert!(toml::from_str::<ElasticConfig>("nodes = []\nshard = 2").is_err());
}

#[test]
fn a_keyword_lucene_would_refuse_is_refused_before_sending() {
    let user = Uuid::new_v4();
    let mut doc = message(user, None);
    check(&IndexOp::Upsert(Document::Message(doc.clone()))).expect("an ordinary message passes");
    doc.participants[0].role = "R".repeat(MAX_KEYWORD_BYTES + 1);
    let err = check(&IndexOp::Upsert(Document::Message(doc))).unwrap_err();
    assert!(
        matches!(err, caliopen_storage_traits::StorageError::TooLarge { .. }),
        "{err:?}"
    );
    let delete = IndexOp::Delete {
        user,
        kind: DocKind::Message,
        id: Uuid::new_v4(),
    };
    check(&delete).expect("ids made of UUIDs are always short enough");
    check(&IndexOp::DeleteUser { user }).expect("a user's routing is short enough");
}
