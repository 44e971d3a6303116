//! The Elasticsearch backend: mapping, documents and queries as sent (no server), and
//! the conformance suite against a real server named by CALIOPEN_TEST_ELASTICSEARCH. One binary.

mod conformance;
mod documents;
mod mapping;
mod queries;
