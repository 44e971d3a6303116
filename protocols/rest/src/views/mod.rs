//! JSON shapes of the spec, built from core's model. Only properties the spec
//! declares are emitted: its objects forbid additional properties.

pub mod contact;
pub mod device;
pub mod discussion;
pub mod docs;
pub mod identity;
pub mod message;
pub mod notification;
pub mod search;
pub mod tag;
pub mod user;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use caliopen_core::model::Pi;

/// A `200` JSON answer written into a buffer of `size_hint` bytes: big answers (pages
/// of messages) are then written once instead of through a growing buffer.
pub fn json_response<T: Serialize>(value: &T, size_hint: usize) -> Response {
    let mut body = Vec::with_capacity(size_hint);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        // Views hold only strings, numbers and maps with string keys.
        Err(e) => unreachable!("a view failed to serialise: {e}"),
    }
}

/// RFC 3339 with milliseconds, UTC.
pub fn date(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn pi(p: &Pi) -> Value {
    json!({
        "technic": p.technic,
        "comportment": p.comportment,
        "context": p.context,
        "version": p.version,
    })
}
