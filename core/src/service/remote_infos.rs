//! The server settings of a remote email identity, in `infos` as the original
//! API and web client name them, checked before they are stored:
//!
//! - `inserver`, `outserver`: `host:port` (IMAP, SMTP submission); a host name,
//!   an IPv4 address or a bracketed IPv6 address; port 1..65535;
//! - `intls`, `outtls`: `implicit` (TLS from the first byte) or `starttls`;
//! - `authtype`: `login-password` (the original's value for a user name and
//!   password; empty means the same; its `Oauth1`/`Oauth2` are not supported);
//! - `pollinterval`: minutes between polls, 1..1440;
//! - `inbox_folder`, `sent_folder`: IMAP folder names, 1..255 characters.
//!
//! Other keys are kept as given (bounded by the identity's generic checks).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{CoreError, CoreResult};

pub const POLL_INTERVAL_MINUTES: std::ops::RangeInclusive<u32> = 1..=1440;
const TLS_MODES: &[&str] = &["implicit", "starttls"];
const AUTH_TYPES: &[&str] = &["", "login-password"];

/// Checks every known server setting in `infos`.
pub(super) fn check(infos: &BTreeMap<String, String>) -> CoreResult<()> {
    for (key, value) in infos {
        let name = format!("infos.{key}");
        match key.as_str() {
            "inserver" | "outserver" => check_server(&name, value)?,
            "intls" | "outtls" => one_of(&name, value, TLS_MODES)?,
            "authtype" => one_of(&name, value, AUTH_TYPES)?,
            "pollinterval" => {
                let ok = value
                    .parse::<u32>()
                    .is_ok_and(|m| POLL_INTERVAL_MINUTES.contains(&m));
                if !ok {
                    return Err(CoreError::invalid(
                        &name,
                        "must be a whole number of minutes from 1 to 1440",
                    ));
                }
            }
            "inbox_folder" | "sent_folder" => {
                let len = value.chars().count();
                if !(1..=255).contains(&len) || value.chars().any(char::is_control) {
                    return Err(CoreError::invalid(
                        &name,
                        "must be 1 to 255 characters, without control characters",
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn one_of(name: &str, value: &str, allowed: &[&str]) -> CoreResult<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let names: Vec<String> = allowed
        .iter()
        .map(|a| {
            if a.is_empty() {
                "empty".into()
            } else {
                format!("`{a}`")
            }
        })
        .collect();
    Err(CoreError::invalid(
        name,
        format!("must be one of: {}", names.join(", ")),
    ))
}

/// `host:port` as a server setting.
fn check_server(name: &str, value: &str) -> CoreResult<()> {
    let bad = |why: &str| CoreError::invalid(name, format!("must be host:port ({why})"));
    let (host, port) = value.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let port_ok = !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
    if !port_ok {
        return Err(bad("port from 1 to 65535"));
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| bad("not an IPv6 address"));
    }
    if host.parse::<Ipv4Addr>().is_ok() || is_host_name(host) {
        Ok(())
    } else {
        Err(bad("not a host name"))
    }
}

fn is_host_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
