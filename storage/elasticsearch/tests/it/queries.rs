//! Search bodies and answers, without a server: the embedded index's semantics
//! written as Elasticsearch queries.

use caliopen_storage_elasticsearch::query::{
    clear_body, delete_user_body, read_hits, search_body, text_fields,
};
use caliopen_storage_traits::search::{DocKind, SearchQuery};
use serde_json::{Value, json};
use uuid::Uuid;

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        user: Uuid::parse_str("0191d9a2-2f6e-7c1a-9b3e-5d2c8f4a1b00").expect("uuid"),
        text: text.into(),
        kind: None,
        pi: None,
        importance: None,
        offset: 20,
        limit: 10,
    }
}

#[test]
fn each_word_must_match_a_field_as_a_phrase() {
    let body = search_body(
        &query("invoice  alice.martin@example.org"),
        DocKind::Message,
    );
    let must = body["query"]["bool"]["must"]
        .as_array()
        .expect("must clauses");
    assert_eq!(must.len(), 2, "one clause per whitespace-separated word");
    let second = &must[1]["bool"];
    assert_eq!(second["minimum_should_match"], 1);
    let top = &second["should"][0]["multi_match"];
    assert_eq!(top["query"], "alice.martin@example.org");
    assert_eq!(top["type"], "phrase");
    assert_eq!(
        top["zero_terms_query"], "all",
        "a word without tokens matches all, as skipped"
    );
    assert_eq!(top["fields"], json!(text_fields(DocKind::Message)));
    let nested = &second["should"][1]["nested"];
    assert_eq!(nested["path"], "participants");
    assert_eq!(
        nested["query"]["multi_match"]["fields"],
        json!([
            "participants.label",
            "participants.address",
            "participants.address.email"
        ])
    );
    assert_eq!(nested["inner_hits"]["name"], "participants_1");
}

#[test]
fn scope_and_ranges_are_filters_and_paging_is_from_size() {
    let mut q = query("budget");
    q.pi = Some((10, 60));
    q.importance = Some((-2, 5));
    let body = search_body(&q, DocKind::Message);
    assert_eq!(
        body["query"]["bool"]["filter"],
        json!([
            { "term": { "user": "0191d9a2-2f6e-7c1a-9b3e-5d2c8f4a1b00" } },
            { "term": { "kind": "message" } },
            { "range": { "pi": { "gte": 10, "lte": 60 } } },
            { "range": { "importance": { "gte": -2, "lte": 5 } } },
        ])
    );
    assert_eq!(body["from"], 20);
    assert_eq!(body["size"], 10);
    assert_eq!(body["track_total_hits"], true);
    assert_eq!(
        body["sort"],
        json!(["_score", { "date": { "order": "desc" } }])
    );
    assert_eq!(body["_source"], json!(["id"]));
    let contacts = search_body(&q, DocKind::Contact);
    assert_eq!(
        contacts["query"]["bool"]["filter"].as_array().map(Vec::len),
        Some(2),
        "message ranges do not filter contacts"
    );
}

#[test]
fn language_fields_only_add_to_the_score() {
    let body = search_body(&query("factures"), DocKind::Message);
    let should = &body["query"]["bool"]["should"][0]["multi_match"];
    assert_eq!(should["fields"], json!(["subject_*", "body_*"]));
    assert!(body["query"]["bool"].get("minimum_should_match").is_none());
    let empty = search_body(&query("   "), DocKind::Message);
    assert_eq!(
        empty["query"]["bool"]["must"],
        json!([]),
        "no words: every document"
    );
    assert!(empty["query"]["bool"].get("should").is_none());
}

#[test]
fn highlights_are_bold_fragments_of_the_kind_fields() {
    let body = search_body(&query("budget"), DocKind::Contact);
    let highlight = &body["highlight"];
    assert_eq!(highlight["pre_tags"], json!(["<b>"]));
    assert_eq!(highlight["post_tags"], json!(["</b>"]));
    assert_eq!(highlight["fragment_size"], 160);
    let fields: Vec<&String> = highlight["fields"]
        .as_object()
        .expect("fields")
        .keys()
        .collect();
    assert_eq!(
        fields,
        ["emails", "names", "organizations", "phones", "tags"]
    );
}

#[test]
fn an_answer_becomes_hits_with_highlights_by_field() {
    let id = Uuid::new_v4();
    let answer: Value = json!({
        "hits": {
            "total": { "value": 31, "relation": "eq" },
            "hits": [{
                "_id": format!("{}/{id}", Uuid::new_v4()),
                "_score": 2.5,
                "_source": { "id": id.to_string() },
                "sort": [2.5, 1_700_000_000_000i64],
                "highlight": {
                    "subject": ["<b>Budget</b> review"],
                    "body": ["the <b>budget</b> for next year"]
                },
                "inner_hits": {
                    "participants_0": { "hits": { "hits": [
                        { "highlight": { "participants.label": ["<b>Dana</b> Scully"] } },
                        { "highlight": { "participants.label": ["<b>Dana</b> Scully"] } }
                    ] } }
                }
            }]
        }
    });
    let hits = read_hits(&answer).expect("a valid answer");
    assert_eq!(hits.total, 31);
    let hit = &hits.hits[0];
    assert_eq!(hit.id, id);
    assert!((hit.score - 2.5).abs() < f32::EPSILON);
    assert_eq!(hit.highlights["subject"], ["<b>Budget</b> review"]);
    assert_eq!(hit.highlights["participants"], ["<b>Dana</b> Scully"]);
    assert!(!hit.highlights.contains_key("tags"));
}

#[test]
fn a_hit_without_source_takes_its_id_from_the_document_id() {
    let id = Uuid::new_v4();
    let answer = json!({ "hits": { "total": { "value": 1 }, "hits": [
        { "_id": format!("{}/{id}", Uuid::new_v4()), "_score": null, "sort": [1.5, 0] }
    ]}});
    let hits = read_hits(&answer).expect("valid");
    assert_eq!(hits.hits[0].id, id);
    assert!((hits.hits[0].score - 1.5).abs() < f32::EPSILON);
    assert!(read_hits(&json!({ "hits": {} })).is_err());
}

#[test]
fn deletions_by_query_target_one_user_or_everything() {
    let user = Uuid::new_v4();
    assert_eq!(
        delete_user_body(user),
        json!({ "query": { "term": { "user": user.to_string() } } })
    );
    assert_eq!(clear_body(), json!({ "query": { "match_all": {} } }));
}
