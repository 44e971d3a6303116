//! The tantivy schema, the word analyzer, and how documents become tantivy documents.
//!
//! Stored fields are kept to what a hit needs: the document id, and the text fields
//! that highlights are cut from. Scoping fields (`key`, `user`, `kind`) are indexed
//! only; `date`, `pi` and `importance` are columns (plus indexed for the ranges).
//! Thread ids, read/draft flags and the language are not indexed at all.
//!
//! Every text field uses one analyzer: words are maximal runs of letters and digits
//! (so `alice.martin@example.org` is the words `alice martin example org`, and its
//! local part and its domain are phrases of those words), lower-cased, and folded to
//! ASCII (`Résumé` → `resume`). No stemming: the contract says whole words.

use caliopen_storage_traits::search::{DocKind, Document};
use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use uuid::Uuid;

/// The analyzer's name in the index's tokenizer manager.
pub(crate) const ANALYZER: &str = "caliopen_words";

/// Longer tokens (base64 blobs, URLs with tokens) are not indexed.
const MAX_TOKEN_BYTES: usize = 100;

pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The fields of the index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// `user/kind/id`: the identity upserts and deletes act on.
    pub key: Field,
    pub user: Field,
    pub kind: Field,
    pub id: Field,
    pub date: Field,
    pub pi: Field,
    pub importance: Field,
    pub subject: Field,
    pub body: Field,
    pub participants: Field,
    pub tags: Field,
    pub attachment_names: Field,
    pub names: Field,
    pub emails: Field,
    pub phones: Field,
    pub organizations: Field,
}

impl Fields {
    pub(crate) fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let text = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(ANALYZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        let fields = Fields {
            key: builder.add_text_field("key", STRING),
            user: builder.add_text_field("user", STRING),
            kind: builder.add_text_field("kind", STRING),
            id: builder.add_text_field("id", STORED),
            date: builder.add_i64_field("date", FAST),
            pi: builder.add_u64_field("pi", INDEXED | FAST),
            importance: builder.add_i64_field("importance", INDEXED | FAST),
            subject: builder.add_text_field("subject", text.clone()),
            body: builder.add_text_field("body", text.clone()),
            participants: builder.add_text_field("participants", text.clone()),
            tags: builder.add_text_field("tags", text.clone()),
            attachment_names: builder.add_text_field("attachment_names", text.clone()),
            names: builder.add_text_field("names", text.clone()),
            emails: builder.add_text_field("emails", text.clone()),
            phones: builder.add_text_field("phones", text.clone()),
            organizations: builder.add_text_field("organizations", text),
        };
        (builder.build(), fields)
    }

    /// The searchable text fields of a kind, with the names highlights are keyed by
    /// (the names of the document's own fields).
    pub(crate) fn text(&self, kind: DocKind) -> [(&'static str, Field); 5] {
        match kind {
            DocKind::Message => [
                ("subject", self.subject),
                ("body", self.body),
                ("participants", self.participants),
                ("tags", self.tags),
                ("attachment_names", self.attachment_names),
            ],
            DocKind::Contact => [
                ("names", self.names),
                ("emails", self.emails),
                ("phones", self.phones),
                ("organizations", self.organizations),
                ("tags", self.tags),
            ],
        }
    }

    /// The tantivy document for one of ours.
    pub(crate) fn document(&self, doc: &Document) -> TantivyDocument {
        let mut out = TantivyDocument::new();
        out.add_text(self.key, doc_key(doc.user(), doc.kind(), doc.id()));
        out.add_text(self.user, doc.user().to_string());
        out.add_text(self.kind, kind_name(doc.kind()));
        out.add_text(self.id, doc.id().to_string());
        let texts = |out: &mut TantivyDocument, field: Field, values: &[String]| {
            for value in values.iter().filter(|v| !v.is_empty()) {
                out.add_text(field, value);
            }
        };
        match doc {
            Document::Message(m) => {
                out.add_i64(self.date, m.date);
                out.add_u64(self.pi, u64::from(m.pi));
                out.add_i64(self.importance, i64::from(m.importance_level));
                texts(&mut out, self.subject, std::slice::from_ref(&m.subject));
                texts(&mut out, self.body, std::slice::from_ref(&m.body));
                for participant in &m.participants {
                    texts(
                        &mut out,
                        self.participants,
                        &[participant.label.clone(), participant.address.clone()],
                    );
                }
                texts(&mut out, self.tags, &m.tags);
                texts(&mut out, self.attachment_names, &m.attachment_names);
            }
            Document::Contact(c) => {
                out.add_i64(self.date, 0);
                texts(&mut out, self.names, &c.names);
                texts(&mut out, self.emails, &c.emails);
                texts(&mut out, self.phones, &c.phones);
                texts(&mut out, self.organizations, &c.organizations);
                texts(&mut out, self.tags, &c.tags);
            }
        }
        out
    }
}

pub(crate) fn kind_name(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Message => "message",
        DocKind::Contact => "contact",
    }
}

pub(crate) fn doc_key(user: Uuid, kind: DocKind, id: Uuid) -> String {
    format!("{user}/{}/{id}", kind_name(kind))
}
