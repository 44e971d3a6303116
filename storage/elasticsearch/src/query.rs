//! Search bodies and the reading of their answers, with the embedded index's
//! semantics (`caliopen_storage_traits::search`):
//!
//! - the text is split on whitespace into words; each word must match, as a phrase
//!   of its tokens, one of the kind's text fields (a `bool` `must` per word whose
//!   `should` clauses are a `phrase` `multi_match` over the fields and, for messages,
//!   a `nested` query over the participants); a word without tokens matches all;
//! - user, kind, privacy index and importance are `filter`s (no score);
//! - per-language fields and whole-address sub-fields only add to the score;
//! - hits sort by score, then `date` descending; `from`/`size` page them; totals are
//!   exact (`track_total_hits`);
//! - highlights are `<b>`-tagged fragments keyed by our field names.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use uuid::Uuid;

use caliopen_storage_traits::search::{DocKind, KindHits, SearchHit, SearchQuery};

use crate::document::kind_name;
use crate::error::ElasticError;

/// The deepest page a search may reach (offset + limit), as the embedded index and
/// Elasticsearch's default `index.max_result_window`.
pub const MAX_RESULT_WINDOW: usize = 10_000;

/// The longest highlight fragment, in characters (as the embedded index).
const FRAGMENT_CHARS: u32 = 160;

/// The searchable top-level text fields of a kind, named as in highlights.
pub fn text_fields(kind: DocKind) -> &'static [&'static str] {
    match kind {
        DocKind::Message => &["subject", "body", "tags", "attachment_names"],
        DocKind::Contact => &["names", "emails", "phones", "organizations", "tags"],
    }
}

/// Fields that add relevance without widening matches.
fn score_only_fields(kind: DocKind) -> &'static [&'static str] {
    match kind {
        DocKind::Message => &[],
        DocKind::Contact => &["emails.email"],
    }
}

const PARTICIPANT_FIELDS: [&str; 3] = [
    "participants.label",
    "participants.address",
    "participants.address.email",
];

/// The words of a query text.
pub fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

fn phrase(word: &str, fields: &[&str]) -> Value {
    json!({ "multi_match": {
        "query": word,
        "type": "phrase",
        "fields": fields,
        "zero_terms_query": "all"
    }})
}

fn highlight_tags() -> Value {
    json!({ "pre_tags": ["<b>"], "post_tags": ["</b>"], "fragment_size": FRAGMENT_CHARS })
}

/// The clause one word adds: it must match one field of the kind.
fn word_clause(kind: DocKind, index: usize, word: &str) -> Value {
    let mut should = vec![phrase(word, text_fields(kind))];
    let extra = score_only_fields(kind);
    if !extra.is_empty() {
        should.push(phrase(word, extra));
    }
    if kind == DocKind::Message {
        let mut inner_highlight = highlight_tags();
        inner_highlight["fields"] = json!({
            "participants.label": {},
            "participants.address": {}
        });
        should.push(json!({ "nested": {
            "path": "participants",
            "score_mode": "max",
            "query": phrase(word, &PARTICIPANT_FIELDS),
            "inner_hits": {
                "name": format!("participants_{index}"),
                "_source": false,
                "size": 5,
                "highlight": inner_highlight
            }
        }}));
    }
    json!({ "bool": { "should": should, "minimum_should_match": 1 } })
}

/// The search body for one kind.
pub fn search_body(query: &SearchQuery, kind: DocKind) -> Value {
    let mut filter = vec![
        json!({ "term": { "user": query.user.to_string() } }),
        json!({ "term": { "kind": kind_name(kind) } }),
    ];
    if kind == DocKind::Message {
        if let Some((low, high)) = query.pi {
            filter.push(json!({ "range": { "pi": { "gte": low, "lte": high } } }));
        }
        if let Some((low, high)) = query.importance {
            filter.push(json!({ "range": { "importance": { "gte": low, "lte": high } } }));
        }
    }
    let words = words(&query.text);
    let must: Vec<Value> = words
        .iter()
        .enumerate()
        .map(|(i, word)| word_clause(kind, i, word))
        .collect();
    let mut bool_query = json!({ "filter": filter, "must": must });
    if kind == DocKind::Message && !words.is_empty() {
        bool_query["should"] = json!([{ "multi_match": {
            "query": query.text,
            "fields": ["subject_*", "body_*"]
        }}]);
    }
    let mut highlight = highlight_tags();
    highlight["require_field_match"] = json!(true);
    highlight["fields"] = text_fields(kind)
        .iter()
        .map(|f| ((*f).to_string(), json!({})))
        .collect::<serde_json::Map<_, _>>()
        .into();
    json!({
        "from": query.offset,
        "size": query.limit,
        "track_total_hits": true,
        "track_scores": true,
        "_source": ["id"],
        "sort": ["_score", { "date": { "order": "desc" } }],
        "query": { "bool": bool_query },
        "highlight": highlight
    })
}

fn answer_error(message: impl Into<String>) -> ElasticError {
    ElasticError::Answer {
        operation: "search",
        message: message.into(),
    }
}

fn push_fragments(out: &mut BTreeMap<String, Vec<String>>, name: &str, fragments: &Value) {
    let Some(fragments) = fragments.as_array() else {
        return;
    };
    let entry = out.entry(name.to_string()).or_default();
    for fragment in fragments.iter().filter_map(Value::as_str) {
        if !entry.iter().any(|f| f == fragment) {
            entry.push(fragment.to_string());
        }
    }
    if entry.is_empty() {
        out.remove(name);
    }
}

/// One hit of a search answer.
fn hit(raw: &Value) -> Result<SearchHit, ElasticError> {
    let id = raw
        .pointer("/_source/id")
        .and_then(Value::as_str)
        .or_else(|| raw["_id"].as_str().and_then(|id| id.rsplit('/').next()))
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| answer_error(format!("a hit has no valid id: {}", raw["_id"])))?;
    let score = raw["_score"]
        .as_f64()
        .or_else(|| raw.pointer("/sort/0").and_then(Value::as_f64))
        .unwrap_or(0.0) as f32;
    let mut highlights = BTreeMap::new();
    if let Some(fields) = raw["highlight"].as_object() {
        for (field, fragments) in fields {
            let name = field.split('.').next().unwrap_or(field);
            push_fragments(&mut highlights, name, fragments);
        }
    }
    if let Some(inner) = raw["inner_hits"].as_object() {
        for inner_hit in inner
            .values()
            .filter_map(|v| v.pointer("/hits/hits").and_then(Value::as_array))
            .flatten()
        {
            if let Some(fields) = inner_hit["highlight"].as_object() {
                for fragments in fields.values() {
                    push_fragments(&mut highlights, "participants", fragments);
                }
            }
        }
    }
    Ok(SearchHit {
        id,
        score,
        highlights,
    })
}

/// The hits and total of a search answer.
pub fn read_hits(answer: &Value) -> Result<KindHits, ElasticError> {
    let total = answer
        .pointer("/hits/total/value")
        .and_then(Value::as_u64)
        .ok_or_else(|| answer_error("no `hits.total.value`"))?;
    let hits = answer
        .pointer("/hits/hits")
        .and_then(Value::as_array)
        .ok_or_else(|| answer_error("no `hits.hits`"))?
        .iter()
        .map(hit)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KindHits { total, hits })
}

/// The body of a delete-by-query removing every document of a user.
pub fn delete_user_body(user: Uuid) -> Value {
    json!({ "query": { "term": { "user": user.to_string() } } })
}

/// The body of a delete-by-query removing every document.
pub fn clear_body() -> Value {
    json!({ "query": { "match_all": {} } })
}
