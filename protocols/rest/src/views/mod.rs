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

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use caliopen_core::model::Pi;

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
