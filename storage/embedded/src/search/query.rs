//! From a [`SearchQuery`] to hits of one kind.
//!
//! The text is split on whitespace into words, and each word through the index's
//! analyzer into tokens. A word of one token must match that term in one of the kind's
//! text fields; a word of several tokens (`alice.martin`, `example.org`, a full
//! address) must match them as a phrase in one field. All words are required (AND);
//! text without any word matches every document. The user, the kind and the message
//! ranges are constant-score filters, so the score is the words' BM25 relevance, and
//! ties go to the newest document (`date`, descending).

use std::collections::BTreeMap;
use std::ops::Bound;

use caliopen_storage_traits::StorageError;
use caliopen_storage_traits::search::{DocKind, KindHits, SearchHit, SearchQuery};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocId, Score, Searcher, SegmentReader, TantivyDocument, Term};
use uuid::Uuid;

use super::schema::{Fields, kind_name};
use crate::error::tantivy_error;

/// The longest highlight fragment, in characters.
const FRAGMENT_CHARS: usize = 160;

/// The tokens of each word of `text`, skipping words without any.
pub(crate) fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Vec<String>> {
    text.split_whitespace()
        .map(|word| {
            let mut tokens = Vec::new();
            let mut stream = analyzer.token_stream(word);
            stream.process(&mut |token| tokens.push(token.text.clone()));
            tokens
        })
        .filter(|tokens| !tokens.is_empty())
        .collect()
}

fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

fn exact(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// The query for one kind.
fn build(
    fields: &Fields,
    query: &SearchQuery,
    kind: DocKind,
    words: &[Vec<String>],
) -> BooleanQuery {
    let mut clauses = vec![
        filter(exact(fields.user, &query.user.to_string())),
        filter(exact(fields.kind, kind_name(kind))),
    ];
    for tokens in words {
        let per_field = fields
            .text(kind)
            .iter()
            .map(|&(_, field)| {
                let query: Box<dyn Query> = match tokens.as_slice() {
                    [token] => Box::new(TermQuery::new(
                        Term::from_field_text(field, token),
                        IndexRecordOption::WithFreqs,
                    )),
                    tokens => Box::new(PhraseQuery::new(
                        tokens
                            .iter()
                            .map(|t| Term::from_field_text(field, t))
                            .collect(),
                    )),
                };
                (Occur::Should, query)
            })
            .collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(per_field))));
    }
    if kind == DocKind::Message {
        if let Some((low, high)) = query.pi {
            clauses.push(filter(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_u64(fields.pi, u64::from(low))),
                Bound::Included(Term::from_field_u64(fields.pi, u64::from(high))),
            ))));
        }
        if let Some((low, high)) = query.importance {
            clauses.push(filter(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(fields.importance, i64::from(low))),
                Bound::Included(Term::from_field_i64(fields.importance, i64::from(high))),
            ))));
        }
    }
    BooleanQuery::new(clauses)
}

/// Relevance first, then the newest.
fn score_then_date(segment: &SegmentReader) -> impl Fn(DocId, Score) -> (Score, i64) + use<> {
    let dates = segment.fast_fields().i64("date").ok();
    move |doc, score| {
        (
            score,
            dates
                .as_ref()
                .and_then(|d| d.first(doc))
                .unwrap_or(i64::MIN),
        )
    }
}

/// Runs the query for one kind: its total, and the hits of the requested page.
pub(crate) fn run(
    searcher: &Searcher,
    fields: &Fields,
    query: &SearchQuery,
    kind: DocKind,
    words: &[Vec<String>],
) -> Result<KindHits, StorageError> {
    let operation = "search the index";
    let tantivy_query = build(fields, query, kind, words);
    if query.limit == 0 {
        let total = searcher
            .search(&tantivy_query, &Count)
            .map_err(|e| tantivy_error(operation, &e))?;
        return Ok(KindHits {
            total: total as u64,
            hits: Vec::new(),
        });
    }
    let top = TopDocs::with_limit(query.limit)
        .and_offset(query.offset)
        .tweak_score(score_then_date);
    let (total, top) = searcher
        .search(&tantivy_query, &(Count, top))
        .map_err(|e| tantivy_error(operation, &e))?;
    let mut generators = Vec::new();
    for (name, field) in fields.text(kind) {
        let mut generator = SnippetGenerator::create(searcher, &tantivy_query, field)
            .map_err(|e| tantivy_error(operation, &e))?;
        generator.set_max_num_chars(FRAGMENT_CHARS);
        generators.push((name, field, generator));
    }
    let mut hits = Vec::with_capacity(top.len());
    for ((score, _date), address) in top {
        let doc: TantivyDocument = searcher
            .doc(address)
            .map_err(|e| tantivy_error(operation, &e))?;
        let id = doc
            .get_first(fields.id)
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| StorageError::Corrupt {
                table: "search".into(),
                message: "an indexed document has no valid id".into(),
            })?;
        let mut highlights = BTreeMap::new();
        for (name, field, generator) in &generators {
            let fragments: Vec<String> = doc
                .get_all(*field)
                .filter_map(|value| value.as_str())
                .map(|text| generator.snippet(text))
                .filter(|snippet| !snippet.is_empty())
                .map(|snippet| snippet.to_html())
                .collect();
            if !fragments.is_empty() {
                highlights.insert((*name).to_string(), fragments);
            }
        }
        hits.push(SearchHit {
            id,
            score,
            highlights,
        });
    }
    Ok(KindHits {
        total: total as u64,
        hits,
    })
}
