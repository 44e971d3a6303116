//! Index templates, mappings and aliases as JSON, without a server.

use caliopen_storage_elasticsearch::mapping::{
    LANGUAGES, MAPPING_VERSION, Names, analysis, index_template, language_suffix, mappings,
    user_alias_body,
};
use caliopen_storage_traits::search::DocKind;
use serde_json::json;
use uuid::Uuid;

#[test]
fn names_share_the_prefix_and_carry_the_mapping_version() {
    let names = Names::new("caliopen");
    assert_eq!(
        names.index(DocKind::Message),
        format!("caliopen-messages-v{MAPPING_VERSION}")
    );
    assert_eq!(
        names.index(DocKind::Contact),
        format!("caliopen-contacts-v{MAPPING_VERSION}")
    );
    assert_eq!(names.pattern(DocKind::Message), "caliopen-messages-v*");
    assert_eq!(names.template(DocKind::Contact), "caliopen-contacts");
    let user = Uuid::parse_str("0191d9a2-2f6e-7c1a-9b3e-5d2c8f4a1b00").expect("uuid");
    assert_eq!(
        names.user_alias(user),
        "caliopen-user-0191d9a22f6e7c1a9b3e5d2c8f4a1b00"
    );
}

#[test]
fn participants_are_nested_with_an_email_sub_field() {
    let m = mappings(DocKind::Message);
    assert_eq!(m["dynamic"], "strict");
    let participants = &m["properties"]["participants"];
    assert_eq!(participants["type"], "nested");
    assert_eq!(participants["properties"]["role"]["type"], "keyword");
    assert_eq!(
        participants["properties"]["address"]["analyzer"],
        "caliopen_words"
    );
    assert_eq!(
        participants["properties"]["address"]["fields"]["email"]["analyzer"],
        "caliopen_email"
    );
    assert_eq!(m["properties"]["user"]["type"], "keyword");
    assert_eq!(m["properties"]["date"]["type"], "long");
    let contacts = mappings(DocKind::Contact);
    assert_eq!(
        contacts["properties"]["emails"]["fields"]["email"]["analyzer"],
        "caliopen_email"
    );
    assert!(contacts["properties"].get("participants").is_none());
}

#[test]
fn messages_have_a_field_per_language_kept_out_of_source() {
    let m = mappings(DocKind::Message);
    for (code, analyzer) in LANGUAGES {
        assert_eq!(
            m["properties"][format!("body_{code}")]["analyzer"],
            *analyzer
        );
        assert_eq!(
            m["properties"][format!("subject_{code}")]["analyzer"],
            *analyzer
        );
    }
    assert_eq!(m["_source"]["excludes"], json!(["subject_*", "body_*"]));
    assert_eq!(language_suffix("fr-CA"), Some("fr"));
    assert_eq!(language_suffix("EN"), Some("en"));
    assert_eq!(language_suffix("tlh"), None);
}

#[test]
fn the_word_analyzer_matches_the_embedded_one() {
    let a = analysis();
    assert_eq!(a["tokenizer"]["caliopen_words"]["type"], "pattern");
    assert_eq!(
        a["tokenizer"]["caliopen_words"]["pattern"],
        "[^\\p{L}\\p{N}]+"
    );
    assert_eq!(
        a["analyzer"]["caliopen_words"]["filter"],
        json!(["caliopen_max_length", "lowercase", "asciifolding"])
    );
    assert_eq!(a["filter"]["caliopen_max_length"]["max"], 100);
    assert_eq!(a["tokenizer"]["caliopen_email"]["type"], "uax_url_email");
}

#[test]
fn templates_apply_to_the_versioned_indices() {
    let names = Names::new("mail");
    let t = index_template(&names, DocKind::Contact, 3, 1);
    assert_eq!(t["index_patterns"], json!(["mail-contacts-v*"]));
    assert_eq!(t["template"]["settings"]["number_of_shards"], 3);
    assert_eq!(t["template"]["settings"]["number_of_replicas"], 1);
    assert_eq!(
        t["template"]["settings"]["translog"]["durability"],
        "request"
    );
    assert_eq!(t["template"]["mappings"], mappings(DocKind::Contact));
    assert_eq!(t["template"]["settings"]["analysis"], analysis());
}

#[test]
fn a_user_alias_filters_and_routes_by_user() {
    let user = Uuid::new_v4();
    assert_eq!(
        user_alias_body(user),
        json!({ "filter": { "term": { "user": user.to_string() } }, "routing": user.to_string() })
    );
}
