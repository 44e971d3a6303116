//! The search role on tantivy, in its own directory beside the database.
//!
//! - [`schema`]: fields, analyzer, and the mapping from our documents.
//! - [`query`]: query building, ranking, paging and highlights.
//!
//! One [`tantivy::IndexWriter`] behind a mutex applies each [`SearchIndex::apply`] call
//! as one commit (deletes by `user/kind/id` before re-adding make upserts idempotent),
//! then reloads the reader, so the changes are durable (tantivy fsyncs segment files
//! and its meta file on commit) and visible when `apply` returns. Searches take a
//! searcher from the reader and never wait for the writer. Everything blocking runs on
//! tokio's blocking pool.

pub(crate) mod query;
pub(crate) mod schema;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use caliopen_storage_traits::search::{DocKind, IndexOp, SearchIndex, SearchQuery, SearchResults};
use caliopen_storage_traits::{StorageError, StorageResult};
use tantivy::directory::MmapDirectory;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyError, Term};

use crate::EmbeddedOptions;
use crate::error::{BACKEND, closed, io_error, tantivy_error, task_failed};
use schema::{ANALYZER, Fields, doc_key};

/// The deepest page a search may ask for (offset + limit), as Elasticsearch's default
/// `max_result_window`: deeper paging costs memory for every hit skipped.
const MAX_RESULT_WINDOW: usize = 10_000;

/// The index, its single writer and its reader.
pub(crate) struct SearchEngine {
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    analyzer: TextAnalyzer,
    closed: AtomicBool,
}

impl std::fmt::Debug for SearchEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchEngine")
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl SearchEngine {
    pub(crate) fn open(dir: &Path, options: &EmbeddedOptions) -> StorageResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| io_error("create the search index directory", &e))?;
        let (schema, fields) = Fields::schema();
        let directory = MmapDirectory::open(dir)
            .map_err(|e| tantivy_error("open the search index", &e.into()))?;
        let index = Index::open_or_create(directory, schema).map_err(|e| match e {
            TantivyError::SchemaError(_) => StorageError::Backend {
                backend: BACKEND,
                operation: "open the search index",
                message: format!(
                    "the index in {} was built with another schema: remove that directory and reindex",
                    dir.display()
                ),
            },
            other => tantivy_error("open the search index", &other),
        })?;
        let analyzer = schema::analyzer();
        index.tokenizers().register(ANALYZER, analyzer.clone());
        let threads = options.search_writer_threads.max(1);
        let writer = index
            .writer_with_num_threads(threads, options.search_writer_memory_bytes)
            .map_err(|e| tantivy_error("open the search index writer", &e))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| tantivy_error("open the search index reader", &e))?;
        Ok(Self {
            reader,
            writer: Mutex::new(Some(writer)),
            fields,
            analyzer,
            closed: AtomicBool::new(false),
        })
    }

    /// Applies `ops` in one commit, then makes them visible.
    fn apply(&self, ops: &[IndexOp]) -> StorageResult<()> {
        let operation = "update the search index";
        let mut guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let writer = guard.as_mut().ok_or_else(closed)?;
        if let Err(e) = self
            .stage(writer, ops)
            .and_then(|()| writer.commit().map(|_| ()))
        {
            if let Err(rollback) = writer.rollback() {
                tracing::warn!(error = %rollback, "rolling back the search index writer failed");
            }
            return Err(tantivy_error(operation, &e));
        }
        self.reader
            .reload()
            .map_err(|e| tantivy_error(operation, &e))
    }

    fn stage(&self, writer: &IndexWriter, ops: &[IndexOp]) -> tantivy::Result<()> {
        let key = |user, kind, id| Term::from_field_text(self.fields.key, &doc_key(user, kind, id));
        for op in ops {
            match op {
                IndexOp::Upsert(doc) => {
                    writer.delete_term(key(doc.user(), doc.kind(), doc.id()));
                    writer.add_document(self.fields.document(doc))?;
                }
                IndexOp::Delete { user, kind, id } => {
                    writer.delete_term(key(*user, *kind, *id));
                }
                IndexOp::DeleteUser { user } => {
                    writer.delete_term(Term::from_field_text(self.fields.user, &user.to_string()));
                }
            }
        }
        Ok(())
    }

    fn clear(&self) -> StorageResult<()> {
        let operation = "clear the search index";
        let mut guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let writer = guard.as_mut().ok_or_else(closed)?;
        let cleared = writer.delete_all_documents().and_then(|_| writer.commit());
        if let Err(e) = cleared {
            if let Err(rollback) = writer.rollback() {
                tracing::warn!(error = %rollback, "rolling back the search index writer failed");
            }
            return Err(tantivy_error(operation, &e));
        }
        self.reader
            .reload()
            .map_err(|e| tantivy_error(operation, &e))
    }

    fn search(&self, query: &SearchQuery) -> StorageResult<SearchResults> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        if query.offset.saturating_add(query.limit) > MAX_RESULT_WINDOW {
            return Err(StorageError::Invalid(format!(
                "a search pages through at most {MAX_RESULT_WINDOW} hits (offset + limit), asked {} + {}",
                query.offset, query.limit
            )));
        }
        let searcher = self.reader.searcher();
        let words = query::words(&mut self.analyzer.clone(), &query.text);
        let wanted = |kind: DocKind| query.kind.is_none_or(|k| k == kind);
        let mut results = SearchResults::default();
        if wanted(DocKind::Message) {
            results.messages =
                query::run(&searcher, &self.fields, query, DocKind::Message, &words)?;
        }
        if wanted(DocKind::Contact) {
            results.contacts =
                query::run(&searcher, &self.fields, query, DocKind::Contact, &words)?;
        }
        Ok(results)
    }

    /// Releases the writer (and its directory lock) once its merges are done.
    pub(crate) fn shutdown(&self) -> StorageResult<()> {
        self.closed.store(true, Ordering::Release);
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match writer {
            Some(writer) => writer
                .wait_merging_threads()
                .map_err(|e| tantivy_error("finish search index merges while closing", &e)),
            None => Ok(()),
        }
    }
}

impl Drop for SearchEngine {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "closing the search index failed");
        }
    }
}

/// [`SearchIndex`] on the embedded tantivy index.
#[derive(Debug, Clone)]
pub struct EmbeddedSearch {
    pub(crate) engine: Arc<SearchEngine>,
}

impl EmbeddedSearch {
    async fn blocking<T, F>(&self, operation: &'static str, f: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&SearchEngine) -> StorageResult<T> + Send + 'static,
    {
        if caliopen_storage_traits::blocking::may_block() {
            return f(&self.engine);
        }
        let engine = Arc::clone(&self.engine);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| f(&engine)))
            .await
            .map_err(|e| task_failed(operation, &e))?
    }
}

#[async_trait]
impl SearchIndex for EmbeddedSearch {
    #[tracing::instrument(level = "debug", name = "search.apply", skip_all, fields(ops = ops.len()))]
    async fn apply(&self, ops: &[IndexOp]) -> StorageResult<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let ops = ops.to_vec();
        self.blocking("update the search index", move |engine| engine.apply(&ops))
            .await
    }

    #[tracing::instrument(
        level = "debug",
        name = "search.search",
        skip_all,
        fields(user = %query.user, kind = ?query.kind, offset = query.offset, limit = query.limit)
    )]
    async fn search(&self, query: &SearchQuery) -> StorageResult<SearchResults> {
        let query = query.clone();
        self.blocking("search the index", move |engine| engine.search(&query))
            .await
    }

    #[tracing::instrument(level = "debug", name = "search.clear", skip_all)]
    async fn clear(&self) -> StorageResult<()> {
        self.blocking("clear the search index", SearchEngine::clear)
            .await
    }
}
