//! Linking of the host interfaces whose functions take strings from the guest.
//!
//! The generated bindings lift a `string` argument into a `String`, copying it out
//! of the guest's memory whatever its length: a guest could hand the host a line of
//! its whole memory on every call. These functions are linked by hand instead,
//! taking a [`WasmStr`] (a bounds-checked pointer into the guest's memory, nothing
//! copied), and each argument is checked for length before any byte is copied:
//! a log line is cut, any other argument over its bound is refused with
//! `invalid-argument` (or, for `config.get`, answered none). The functions
//! themselves are the `Host` implementations beside this file.

use std::borrow::Cow;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, WasmStr};

use super::HostState;
use crate::wasm::bindings::contacts::{Contact, Host as _};
use crate::wasm::bindings::host_errors::HostError;
use crate::wasm::bindings::log::{Host as _, Level};
use crate::wasm::bindings::user::{Host as _, Tag};

/// Characters of a log line kept; the rest is dropped before it is copied.
pub(crate) const MAX_LOG_CHARS: usize = 2048;
/// Longest configuration key, setting name, address and contact id, in bytes.
const MAX_KEY_BYTES: usize = 256;
const MAX_ADDRESS_BYTES: usize = 320;
const MAX_CONTACT_ID_BYTES: usize = 64;

type Answer<T> = (Result<T, HostError>,);

/// The guest's string, borrowed from its memory when it is UTF-8 (as Rust, C and
/// most guests encode strings); a guest that chose UTF-16 is transcoded, within
/// the store's hostcall budget (`wasm::invoke`).
fn view<'a>(
    store: &'a StoreContextMut<'_, HostState>,
    s: &WasmStr,
) -> wasmtime::Result<Cow<'a, str>> {
    s.to_str(store)
}

/// `s` copied when it has at most `max` bytes; otherwise the answer for the guest.
fn bounded(
    store: &StoreContextMut<'_, HostState>,
    s: &WasmStr,
    what: &str,
    max: usize,
) -> wasmtime::Result<Result<String, HostError>> {
    let text = view(store, s)?;
    if text.len() > max {
        return Ok(Err(HostError::InvalidArgument(format!(
            "{what} is longer than {max} bytes"
        ))));
    }
    Ok(Ok(text.into_owned()))
}

/// The first [`MAX_LOG_CHARS`] characters of a log line: only those are copied.
fn log_line(text: &str) -> String {
    match text.char_indices().nth(MAX_LOG_CHARS) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

pub(crate) fn add_log(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut log = linker.instance("caliopen:platform/log@0.1.0")?;
    log.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, HostState>, (level, message): (Level, WasmStr)| {
            if store.data().log_lines_left == 0 {
                // Dropped without reading it.
                store.data_mut().log_lines_dropped += 1;
                return Ok(());
            }
            let line = log_line(&view(&store, &message)?);
            store.data_mut().log(level, line)
        },
    )
}

pub(crate) fn add_config(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut config = linker.instance("caliopen:platform/config@0.1.0")?;
    config.func_wrap(
        "get",
        |mut store: StoreContextMut<'_, HostState>, (key,): (WasmStr,)| {
            let _span = tracing::debug_span!("host.config.get").entered();
            match bounded(&store, &key, "key", MAX_KEY_BYTES)? {
                // No manifest sets a key that long.
                Err(_) => Ok((None,)),
                Ok(key) => Ok((crate::wasm::bindings::config::Host::get(
                    store.data_mut(),
                    key,
                )?,)),
            }
        },
    )
}

pub(crate) fn add_contacts(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut contacts = linker.instance("caliopen:platform/contacts@0.1.0")?;
    contacts.func_wrap(
        "lookup",
        |mut store: StoreContextMut<'_, HostState>,
         (address,): (WasmStr,)|
         -> wasmtime::Result<Answer<Option<Contact>>> {
            match bounded(&store, &address, "address", MAX_ADDRESS_BYTES)? {
                Err(e) => Ok((Err(e),)),
                Ok(address) => Ok((store.data_mut().lookup(address)?,)),
            }
        },
    )?;
    contacts.func_wrap(
        "get",
        |mut store: StoreContextMut<'_, HostState>,
         (id,): (WasmStr,)|
         -> wasmtime::Result<Answer<Option<Contact>>> {
            match bounded(&store, &id, "contact id", MAX_CONTACT_ID_BYTES)? {
                Err(e) => Ok((Err(e),)),
                Ok(id) => Ok((crate::wasm::bindings::contacts::Host::get(
                    store.data_mut(),
                    id,
                )?,)),
            }
        },
    )
}

pub(crate) fn add_user(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut user = linker.instance("caliopen:platform/user@0.1.0")?;
    user.func_wrap(
        "identities",
        |mut store: StoreContextMut<'_, HostState>,
         (): ()|
         -> wasmtime::Result<Answer<Vec<String>>> {
            let _span = tracing::debug_span!("host.user.identities").entered();
            Ok((store.data_mut().identities()?,))
        },
    )?;
    user.func_wrap(
        "tags",
        |mut store: StoreContextMut<'_, HostState>, (): ()| -> wasmtime::Result<Answer<Vec<Tag>>> {
            Ok((store.data_mut().tags()?,))
        },
    )?;
    user.func_wrap(
        "setting",
        |mut store: StoreContextMut<'_, HostState>,
         (name,): (WasmStr,)|
         -> wasmtime::Result<Answer<Option<String>>> {
            let _span = tracing::debug_span!("host.user.setting").entered();
            match bounded(&store, &name, "setting name", MAX_KEY_BYTES)? {
                Err(e) => Ok((Err(e),)),
                Ok(name) => Ok((store.data_mut().setting(name)?,)),
            }
        },
    )?;
    user.func_wrap(
        "local-domain",
        |mut store: StoreContextMut<'_, HostState>, (): ()| -> wasmtime::Result<(String,)> {
            Ok((store.data_mut().local_domain()?,))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_keeps_its_first_characters_whole() {
        let long = "é".repeat(MAX_LOG_CHARS + 10);
        let cut = log_line(&long);
        assert_eq!(cut.chars().count(), MAX_LOG_CHARS);
        assert_eq!(log_line("short"), "short");
    }
}
