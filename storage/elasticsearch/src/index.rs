//! [`SearchIndex`] on Elasticsearch: set-up (templates, indices), per-user aliases,
//! bulk indexing with retry, searches and deletes-by-query.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use caliopen_storage_traits::search::{DocKind, IndexOp, SearchIndex, SearchQuery, SearchResults};
use caliopen_storage_traits::{StorageError, StorageResult};
use elasticsearch::http::request::JsonBody;
use elasticsearch::http::response::Response;
use elasticsearch::indices::{
    IndicesCreateParts, IndicesExistsParts, IndicesPutAliasParts, IndicesPutIndexTemplateParts,
};
use elasticsearch::params::{Conflicts, Refresh};
use elasticsearch::{BulkParts, DeleteByQueryParts, Elasticsearch, SearchParts};
use serde_json::{Value, json};
use tracing::{debug, instrument, warn};
use uuid::Uuid;

use crate::bulk::{Outcome, backoff_ms, outcome};
use crate::document::{Step, check, plan, users_of};
use crate::error::ElasticError;
use crate::mapping::{Names, index_template, user_alias_body};
use crate::query::{MAX_RESULT_WINDOW, clear_body, delete_user_body, read_hits, search_body};

/// Operations per bulk request.
const BULK_MAX_OPS: usize = 500;

/// The search role on an Elasticsearch cluster.
pub struct ElasticIndex {
    client: Elasticsearch,
    names: Names,
    bulk_retries: u32,
    bulk_backoff_ms: u64,
    /// Users whose alias this process already created.
    aliased: Mutex<HashSet<Uuid>>,
}

impl std::fmt::Debug for ElasticIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElasticIndex")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// The JSON of a successful answer, or the error its status means.
async fn json_of(operation: &'static str, response: Response) -> Result<Value, ElasticError> {
    let status = response.status_code().as_u16();
    if !(200..300).contains(&status) {
        let body = response.text().await.unwrap_or_default();
        return Err(ElasticError::Status {
            operation,
            status,
            body,
        });
    }
    response
        .json::<Value>()
        .await
        .map_err(|e| ElasticError::transport(operation, &e))
}

impl ElasticIndex {
    pub(crate) fn new(client: Elasticsearch, names: Names, retries: u32, backoff: u64) -> Self {
        Self {
            client,
            names,
            bulk_retries: retries,
            bulk_backoff_ms: backoff,
            aliased: Mutex::new(HashSet::new()),
        }
    }

    /// Puts both index templates and creates the indices that do not exist yet.
    #[instrument(skip(self), err)]
    pub(crate) async fn set_up(&self, shards: u32, replicas: u32) -> Result<(), ElasticError> {
        for kind in [DocKind::Message, DocKind::Contact] {
            let name = self.names.template(kind);
            let response = self
                .client
                .indices()
                .put_index_template(IndicesPutIndexTemplateParts::Name(&name))
                .body(index_template(&self.names, kind, shards, replicas))
                .send()
                .await
                .map_err(|e| ElasticError::transport("put an index template", &e))?;
            json_of("put an index template", response).await?;
            let index = self.names.index(kind);
            let exists = self
                .client
                .indices()
                .exists(IndicesExistsParts::Index(&[&index]))
                .send()
                .await
                .map_err(|e| ElasticError::transport("check an index", &e))?;
            if exists.status_code().as_u16() == 404 {
                let response = self
                    .client
                    .indices()
                    .create(IndicesCreateParts::Index(&index))
                    .send()
                    .await
                    .map_err(|e| ElasticError::transport("create an index", &e))?;
                match json_of("create an index", response).await {
                    // Another node created it between our check and our request.
                    Err(ElasticError::Status { body, .. })
                        if body.contains("resource_already_exists_exception") => {}
                    other => {
                        other?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Creates the filtered, routed alias of each user not yet aliased by this process.
    async fn ensure_aliases(&self, users: &[Uuid]) -> Result<(), ElasticError> {
        let missing: Vec<Uuid> = {
            let aliased = self.aliased.lock().unwrap_or_else(|e| e.into_inner());
            users
                .iter()
                .filter(|u| !aliased.contains(u))
                .copied()
                .collect()
        };
        let indices = self.names.indices();
        let indices = [indices[0].as_str(), indices[1].as_str()];
        for user in missing {
            let alias = self.names.user_alias(user);
            let response = self
                .client
                .indices()
                .put_alias(IndicesPutAliasParts::IndexName(&indices, &alias))
                .body(user_alias_body(user))
                .send()
                .await
                .map_err(|e| ElasticError::transport("put a user alias", &e))?;
            json_of("put a user alias", response).await?;
            self.aliased
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(user);
        }
        Ok(())
    }

    /// Sends the operations of one bulk step, retrying rejected ones in order.
    async fn bulk(&self, ops: Vec<Vec<Value>>) -> Result<(), ElasticError> {
        let mut pending = ops;
        let mut attempt = 0;
        loop {
            let body: Vec<JsonBody<Value>> = pending
                .iter()
                .flatten()
                .cloned()
                .map(JsonBody::new)
                .collect();
            let sent = self
                .client
                .bulk(BulkParts::None)
                .refresh(Refresh::True)
                .body(body)
                .send()
                .await;
            let result = match sent {
                Ok(response) => json_of("apply a bulk request", response)
                    .await
                    .and_then(|answer| outcome(&answer, pending.len())),
                Err(e) => Err(ElasticError::transport("apply a bulk request", &e)),
            };
            let from = match result {
                Ok(Outcome::Done) => return Ok(()),
                Ok(Outcome::Retry { from }) => from,
                Err(e) if e.is_transient() => 0,
                Err(e) => return Err(e),
            };
            if attempt >= self.bulk_retries {
                return Err(ElasticError::Bulk {
                    failed: pending.len() - from,
                    first: format!("still rejected after {attempt} retries"),
                });
            }
            let pause = backoff_ms(self.bulk_backoff_ms, attempt);
            warn!(
                attempt,
                retrying = pending.len() - from,
                pause_ms = pause,
                "bulk request rejected, retrying"
            );
            tokio::time::sleep(Duration::from_millis(pause)).await;
            pending.drain(..from);
            attempt += 1;
        }
    }

    /// Deletes by query on both indices (all of a user's documents, or every document).
    async fn delete_by_query(&self, user: Option<Uuid>) -> Result<(), ElasticError> {
        let indices = self.names.indices();
        let indices = [indices[0].as_str(), indices[1].as_str()];
        let routing = user.map(|u| u.to_string());
        let routing_list = routing.as_deref().map(|r| [r]);
        let mut request = self
            .client
            .delete_by_query(DeleteByQueryParts::Index(&indices))
            .conflicts(Conflicts::Proceed)
            .refresh(true);
        if let Some(routing) = &routing_list {
            request = request.routing(routing);
        }
        let body = user.map_or_else(clear_body, delete_user_body);
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| ElasticError::transport("delete by query", &e))?;
        let answer = json_of("delete by query", response).await?;
        debug!(deleted = ?answer.get("deleted"), "deleted by query");
        Ok(())
    }

    async fn search_kind(&self, query: &SearchQuery, kind: DocKind) -> Result<Value, ElasticError> {
        let alias = self.names.user_alias(query.user);
        let response = self
            .client
            .search(SearchParts::Index(&[&alias]))
            .body(search_body(query, kind))
            .send()
            .await
            .map_err(|e| ElasticError::transport("search", &e))?;
        if response.status_code().as_u16() == 404 {
            // No alias: this user never had a document indexed.
            return Ok(json!({ "hits": { "total": { "value": 0 }, "hits": [] } }));
        }
        json_of("search", response).await
    }
}

#[async_trait]
impl SearchIndex for ElasticIndex {
    #[instrument(level = "debug", name = "search.apply", skip_all, fields(ops = ops.len()))]
    async fn apply(&self, ops: &[IndexOp]) -> StorageResult<()> {
        if ops.is_empty() {
            return Ok(());
        }
        for op in ops {
            check(op)?;
        }
        self.ensure_aliases(&users_of(ops)).await?;
        for step in plan(&self.names, ops, BULK_MAX_OPS) {
            match step {
                Step::Bulk(lines) => self.bulk(lines).await?,
                Step::DeleteUser(user) => self.delete_by_query(Some(user)).await?,
            }
        }
        Ok(())
    }

    #[instrument(
        level = "debug",
        name = "search.search",
        skip_all,
        fields(user = %query.user, kind = ?query.kind, offset = query.offset, limit = query.limit)
    )]
    async fn search(&self, query: &SearchQuery) -> StorageResult<SearchResults> {
        if query.offset.saturating_add(query.limit) > MAX_RESULT_WINDOW {
            return Err(StorageError::Invalid(format!(
                "a search pages through at most {MAX_RESULT_WINDOW} hits (offset + limit), asked {} + {}",
                query.offset, query.limit
            )));
        }
        let wanted = |kind: DocKind| query.kind.is_none_or(|k| k == kind);
        let mut results = SearchResults::default();
        if wanted(DocKind::Message) {
            results.messages = read_hits(&self.search_kind(query, DocKind::Message).await?)?;
        }
        if wanted(DocKind::Contact) {
            results.contacts = read_hits(&self.search_kind(query, DocKind::Contact).await?)?;
        }
        Ok(results)
    }

    #[instrument(level = "debug", name = "search.clear", skip_all)]
    async fn clear(&self) -> StorageResult<()> {
        self.delete_by_query(None).await?;
        Ok(())
    }
}
