//! `Device` and `DeviceLocation`.

use caliopen_core::model::Device;
use caliopen_core::model::device::{DeviceLocation, DeviceStatus};
use serde_json::{Value, json};

use super::{date, pi};

/// A device as the spec's `Device` (no public keys: devices have none here).
pub fn device(d: &Device) -> Value {
    let mut out = json!({
        "device_id": d.device_id,
        "user_id": d.user_id.to_string(),
        "name": d.name,
        "type": d.kind,
        "status": status(d.status),
        "date_insert": date(&d.date_insert),
        "ip_creation": d.ip_creation,
        "user_agent": d.user_agent,
        "locations": d.locations.iter().map(|l| location(d, l)).collect::<Vec<_>>(),
        "pi": pi(&d.pi),
    });
    if let Some(revoked) = &d.date_revoked {
        out["date_revoked"] = json!(date(revoked));
    }
    out
}

pub fn status(s: DeviceStatus) -> &'static str {
    match s {
        DeviceStatus::Verified => "verified",
        DeviceStatus::Unverified => "unverified",
        DeviceStatus::Revoked => "revoked",
    }
}

/// A location; a type the spec does not list is answered as `other`.
fn location(d: &Device, l: &DeviceLocation) -> Value {
    let kind = match l.kind.as_str() {
        k @ ("home" | "work" | "public") => k,
        _ => "other",
    };
    json!({
        "address": l.address,
        "country": l.country,
        "type": kind,
        "device_id": d.device_id,
        "user_id": d.user_id.to_string(),
    })
}
