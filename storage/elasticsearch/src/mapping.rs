//! Index names, the index templates (settings, analyzers, mappings) for messages and
//! contacts, and the per-user filtered aliases.
//!
//! Analysis mirrors the embedded index so both backends match the same documents:
//! `caliopen_words` cuts text into maximal runs of letters and digits, lower-cases and
//! folds accents, so an address is the phrase of its words (its local part and its
//! domain are phrases too). Addresses also have an `email` sub-field analysed whole
//! (`caliopen_email`: the UAX#29 URL/e-mail tokenizer) that only adds relevance.
//! Per-language fields (`subject_en`, `body_fr`, ...) hold the text again with that
//! language's stemming analyzer when the document's language is known; they only add
//! to the score (see `query`), and are excluded from `_source`.
//!
//! `_source` keeps only what highlights need: the document is built from the fields
//! search uses (no flags, no thread id), and a full reindex reads the records store.

use serde_json::{Value, json};
use uuid::Uuid;

use caliopen_storage_traits::search::DocKind;

/// Version of the mappings, part of the concrete index names: a mapping change is a
/// new version, filled by `caliopen reindex`.
pub const MAPPING_VERSION: u32 = 1;

/// Languages with their own analysis: BCP 47 primary subtag and the built-in analyzer.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "english"),
    ("fr", "french"),
    ("de", "german"),
    ("es", "spanish"),
    ("it", "italian"),
    ("pt", "portuguese"),
    ("nl", "dutch"),
];

/// The language-specific analyzer suffix for a BCP 47 tag, when supported.
pub fn language_suffix(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    LANGUAGES
        .iter()
        .find(|(code, _)| *code == primary)
        .map(|(code, _)| *code)
}

/// The names Caliopen uses in the cluster, all under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    prefix: String,
}

impl Names {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
        }
    }
    /// The concrete index of a kind (`caliopen-messages-v1`).
    pub fn index(&self, kind: DocKind) -> String {
        format!("{}-{}-v{MAPPING_VERSION}", self.prefix, plural(kind))
    }
    /// Both concrete indices.
    pub fn indices(&self) -> [String; 2] {
        [self.index(DocKind::Message), self.index(DocKind::Contact)]
    }
    /// The index template of a kind.
    pub fn template(&self, kind: DocKind) -> String {
        format!("{}-{}", self.prefix, plural(kind))
    }
    /// The pattern a kind's template applies to.
    pub fn pattern(&self, kind: DocKind) -> String {
        format!("{}-{}-v*", self.prefix, plural(kind))
    }
    /// The filtered, routed alias of one user over both indices.
    pub fn user_alias(&self, user: Uuid) -> String {
        format!("{}-user-{}", self.prefix, user.simple())
    }
}

fn plural(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Message => "messages",
        DocKind::Contact => "contacts",
    }
}

/// The analysis settings shared by both indices.
pub fn analysis() -> Value {
    json!({
        "tokenizer": {
            "caliopen_words": { "type": "pattern", "pattern": "[^\\p{L}\\p{N}]+" },
            "caliopen_email": { "type": "uax_url_email", "max_token_length": 255 }
        },
        "filter": {
            "caliopen_max_length": { "type": "length", "max": 100 }
        },
        "analyzer": {
            "caliopen_words": {
                "type": "custom",
                "tokenizer": "caliopen_words",
                "filter": ["caliopen_max_length", "lowercase", "asciifolding"]
            },
            "caliopen_email": {
                "type": "custom",
                "tokenizer": "caliopen_email",
                "filter": ["lowercase", "asciifolding"]
            }
        }
    })
}

fn words() -> Value {
    json!({ "type": "text", "analyzer": "caliopen_words" })
}

fn address() -> Value {
    json!({
        "type": "text",
        "analyzer": "caliopen_words",
        "fields": { "email": { "type": "text", "analyzer": "caliopen_email" } }
    })
}

/// `subject_en: english`, ... for each language-analysed field.
fn language_fields(fields: &mut serde_json::Map<String, Value>, base: &str) {
    for (code, analyzer) in LANGUAGES {
        fields.insert(
            format!("{base}_{code}"),
            json!({ "type": "text", "analyzer": analyzer }),
        );
    }
}

/// The mappings of a kind's index.
pub fn mappings(kind: DocKind) -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert("user".into(), json!({ "type": "keyword" }));
    properties.insert("kind".into(), json!({ "type": "keyword" }));
    properties.insert("id".into(), json!({ "type": "keyword", "index": false }));
    properties.insert("date".into(), json!({ "type": "long" }));
    properties.insert("tags".into(), words());
    let excludes: Vec<String> = match kind {
        DocKind::Message => {
            properties.insert("pi".into(), json!({ "type": "short" }));
            properties.insert("importance".into(), json!({ "type": "byte" }));
            properties.insert("subject".into(), words());
            properties.insert("body".into(), words());
            properties.insert("attachment_names".into(), words());
            properties.insert(
                "participants".into(),
                json!({
                    "type": "nested",
                    "properties": {
                        "role": { "type": "keyword" },
                        "label": words(),
                        "address": address()
                    }
                }),
            );
            language_fields(&mut properties, "subject");
            language_fields(&mut properties, "body");
            vec!["subject_*".into(), "body_*".into()]
        }
        DocKind::Contact => {
            properties.insert("names".into(), words());
            properties.insert("emails".into(), address());
            properties.insert("phones".into(), words());
            properties.insert("organizations".into(), words());
            Vec::new()
        }
    };
    json!({
        "dynamic": "strict",
        "_source": { "excludes": excludes },
        "properties": properties
    })
}

/// The composable index template of a kind.
pub fn index_template(names: &Names, kind: DocKind, shards: u32, replicas: u32) -> Value {
    json!({
        "index_patterns": [names.pattern(kind)],
        "priority": 500,
        "template": {
            "settings": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                // Every acknowledged write is fsynced: `apply` promises durability.
                "translog": { "durability": "request" },
                "analysis": analysis()
            },
            "mappings": mappings(kind)
        },
        "_meta": { "caliopen_mapping_version": MAPPING_VERSION }
    })
}

/// The body of `PUT /<indices>/_alias/<user alias>`: the user's documents, routed by user.
pub fn user_alias_body(user: Uuid) -> Value {
    let user = user.to_string();
    json!({
        "filter": { "term": { "user": user } },
        "routing": user
    })
}
