//! Caliopen's email parser component: raw RFC 5322 / MIME bytes in, the `parsed-mail`
//! record of `caliopen:platform@0.1.0` (world `parser`) out. The MIME work is done by
//! `mail-parser` 0.11; this crate decides what each WIT field means, decodes every
//! header the same way, and lists every defect it works around in `problems`.
//!
//! Module map:
//! - [`bindings`]: the WIT bindings, generated once, and the export of [`Component`].
//! - `mail`: [`parse`], the entry point: input checks, envelope line, fallbacks, and
//!   the assembly of [`ParsedMail`].
//! - `headers`: the top-level header block as written (names, raw values made UTF-8,
//!   junk lines) and the decoded, unfolded text of a value.
//! - `fields`: the typed fields taken from headers: subject, date, mailboxes, ids,
//!   list id.
//! - `mime`: the MIME tree in depth-first order, attachments and decoded sizes.
//! - `bodies`: the plain and HTML bodies and the charset checks of text parts.
//! - `repair`: fixes applied to the raw bytes before mail-parser sees them (a folded
//!   boundary parameter).
//! - `problems`: the capped list of problems and the quoting of excerpts.
//! - [`limits`]: the caps that keep the output sane on hostile input.
//!
//! Everything except [`Component`] is plain Rust, so `cargo test -p
//! caliopen-email-parser` exercises the parser natively (the generated imports are
//! unreachable stubs off wasm, and the parser never calls them).
//!
//! When [`parse`] answers `component-error` instead of a best-effort `parsed-mail`:
//! only when the input is empty or only whitespace (kind `malformed`: there is no
//! mail at all), and, off wasm32, when it is larger than 4 GiB (kind `unsupported`:
//! mail-parser's offsets are 32-bit). Anything else, however broken, is parsed.

// Memory for the component's allocations: bump allocation for a one-call instance (see the crate).
use caliopen_guest_alloc as _;

mod bodies;
mod fields;
mod headers;
pub mod limits;
mod mail;
mod mime;
mod problems;
mod repair;

/// The WIT bindings of the `parser` world and the export of [`Component`].
///
/// The generated glue (canonical ABI lifting and lowering, `export_name` symbols) is
/// `unsafe` by nature; the lint is allowed for this module only. The crate's own code
/// outside this module contains no `unsafe`.
#[allow(unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        path: ["../../wit/0.1.0", "../../wit/parts-0.1.0"],
        world: "caliopen:parts/parser@0.1.0",
        generate_all,
    });

    use super::Component;
    export!(Component with_types_in self);
}

pub use bindings::caliopen::platform::types::{
    Attachment, ComponentError, Header, Mailbox, MimePart, ParsedMail,
};
pub use mail::{parse, read_part};

/// The component: implements the `parse` export of the `parser` world.
#[derive(Debug)]
pub struct Component;

impl bindings::Guest for Component {
    fn parse(raw: Vec<u8>) -> Result<ParsedMail, ComponentError> {
        mail::parse(&raw)
    }

    fn read_part(raw: Vec<u8>, part_index: u32) -> Option<Vec<u8>> {
        mail::read_part(&raw, part_index)
    }
}

#[cfg(test)]
mod tests {
    use super::Component;
    use super::bindings::Guest;

    #[test]
    fn the_export_answers_what_parse_answers() {
        let raw = b"From: a@b.example\nSubject: hi\n\nbody\n".to_vec();
        let via_export = Component::parse(raw.clone()).expect("a mail");
        assert_eq!(via_export.subject.as_deref(), Some("hi"));
        assert_eq!(via_export.body_plain.as_deref(), Some("body\n"));
        let error = Component::parse(Vec::new()).expect_err("empty input");
        assert_eq!(error.kind, "malformed");
    }
}
