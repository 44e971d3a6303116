//! Outbound: a `draft` to the bytes of a MIME message ready for SMTP. Pure: checks
//! the draft (`validate`), then renders it (`render`).

use crate::{ComponentError, Draft, render, validate};

/// Renders `draft`, or answers `component-error` of kind `invalid-draft` saying what
/// is wrong with it.
pub fn outbound(draft: &Draft) -> Result<Vec<u8>, ComponentError> {
    let checked = validate::check(draft)?;
    render::render(draft, &checked)
}
