//! Repairs applied to the raw bytes before mail-parser sees them, for defects it
//! cannot work around itself. Each repair is reported in `problems`.
//!
//! One so far: a folded `boundary` parameter. Some mailers (Caliopen 0.16 among
//! them, as the corpus shows) fold a long Content-Type line in the middle of the
//! quoted boundary; unfolding by the letter (RFC 5322 §2.2.3) keeps the whitespace
//! after the line break, so the boundary never matches the delimiter lines and the
//! whole MIME structure, e.g. a PGP/MIME `multipart/encrypted`, is lost. A fold
//! just after `boundary=` (valid, and used to hide attachments from filters) is not
//! read by mail-parser either. When the boundary without the fold is used as a
//! delimiter in the mail, the parameter is rewritten unfolded and quoted.

use std::borrow::Cow;

use crate::limits::{MAX_BOUNDARY_CHECKS, MAX_BOUNDARY_LEN};
use crate::mime::contains;
use crate::problems::{Problems, quote_bytes};

const KEY: &[u8] = b"boundary=";

/// `raw` with folds inside or just before the boundary parameter of Content-Type
/// fields removed, when the unfolded boundary is used as a delimiter; `raw` itself
/// when nothing changes.
pub(crate) fn unfold_boundaries<'r>(raw: &'r [u8], problems: &mut Problems) -> Cow<'r, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied_to = 0;
    let mut from = 0;
    let mut checks = 0;
    while let Some(pos) = find_key(raw, from) {
        let start = pos + KEY.len();
        from = start;
        let Some((end, boundary)) = folded_value(raw, start) else {
            continue;
        };
        from = end;
        if !in_content_type(raw, pos) {
            continue;
        }
        // Each check scans the whole mail: bound them on hostile input.
        checks += 1;
        if checks > MAX_BOUNDARY_CHECKS {
            problems.push("too many folded boundary parameters; the rest are left as written");
            break;
        }
        let delimiter = [b"--".as_slice(), &boundary].concat();
        if !contains(raw, &delimiter) {
            continue;
        }
        let written: Vec<u8> = raw[start..end]
            .iter()
            .filter(|&&b| b != b'"')
            .copied()
            .collect();
        problems.push(format!(
            "boundary {} is folded; read as {}",
            quote_bytes(&written),
            quote_bytes(&boundary)
        ));
        let out = out.get_or_insert_with(|| Vec::with_capacity(raw.len()));
        out.extend_from_slice(&raw[copied_to..start]);
        out.push(b'"');
        out.extend_from_slice(&boundary);
        out.push(b'"');
        copied_to = end;
    }
    match out {
        Some(mut out) => {
            out.extend_from_slice(&raw[copied_to..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(raw),
    }
}

/// The parameter value starting at `start` when a fold precedes it or lies inside
/// its quotes: the end of the value as written and the boundary without folds.
/// `None` for values without a fold, which mail-parser reads correctly.
fn folded_value(raw: &[u8], start: usize) -> Option<(usize, Vec<u8>)> {
    let limit = (start + 2 * MAX_BOUNDARY_LEN).min(raw.len());
    let text = &raw[start..limit];
    let lead = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let folded_before = text[..lead].contains(&b'\n');
    let (value, end) = if text.get(lead) == Some(&b'"') {
        let close = lead + 1 + text[lead + 1..].iter().position(|&b| b == b'"')?;
        (&text[lead + 1..close], close + 1)
    } else {
        let len = text[lead..]
            .iter()
            .position(|&b| b == b';' || b.is_ascii_whitespace())
            .unwrap_or(text.len() - lead);
        (&text[lead..lead + len], lead + len)
    };
    if !folded_before && !value.contains(&b'\n') {
        return None;
    }
    // Every line break must be a fold (followed by whitespace) within the field.
    let written = &text[..end];
    let breaks_are_folds = written
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .all(|(i, _)| matches!(written.get(i + 1), Some(b' ' | b'\t')));
    if !breaks_are_folds {
        return None;
    }
    let boundary = remove_folds(value);
    (!boundary.is_empty()).then_some((start + end, boundary))
}

/// The next `boundary=` at or after `from`, ASCII case-insensitive.
fn find_key(raw: &[u8], from: usize) -> Option<usize> {
    let last = raw.len().checked_sub(KEY.len())?;
    let tail = raw.get(from..=last)?;
    memchr::memchr2_iter(b'b', b'B', tail)
        .map(|i| from + i)
        .find(|&i| raw[i..i + KEY.len()].eq_ignore_ascii_case(KEY))
}

/// Whether `pos` lies in a Content-Type field: the logical line holding it (its
/// first physical line and continuation lines) starts with `Content-Type:`.
fn in_content_type(raw: &[u8], pos: usize) -> bool {
    let mut start = line_start(raw, pos);
    for _ in 0..16 {
        if !matches!(raw.get(start), Some(b' ' | b'\t')) || start == 0 {
            break;
        }
        start = line_start(raw, start - 1);
    }
    raw[start..]
        .get(..13)
        .is_some_and(|name| name.eq_ignore_ascii_case(b"content-type:"))
}

/// The index just after the newline that precedes `pos` (0 on the first line).
fn line_start(raw: &[u8], pos: usize) -> usize {
    raw[..pos]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |n| n + 1)
}

/// `value` without its folds: each line break and the whitespace that follows it.
fn remove_folds(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut in_fold = false;
    for &b in value {
        match b {
            b'\r' | b'\n' => in_fold = true,
            b' ' | b'\t' if in_fold => {}
            _ => {
                in_fold = false;
                out.push(b);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_boundary_is_unfolded_when_used() {
        let raw = b"Content-Type: multipart/mixed; boundary=\"ab\r\n cd\"\r\n\r\n--abcd\r\n\r\nx\r\n--abcd--\r\n";
        let mut problems = Problems::default();
        let fixed = unfold_boundaries(raw, &mut problems);
        assert!(fixed.starts_with(b"Content-Type: multipart/mixed; boundary=\"abcd\"\r\n"));
        let raw = b"Content-Type: multipart/mixed; boundary=\r\n\tabcd\r\n\r\n--abcd\r\n";
        let fixed = unfold_boundaries(raw, &mut problems);
        assert!(fixed.starts_with(b"Content-Type: multipart/mixed; boundary=\"abcd\"\r\n"));
        assert_eq!(problems.into_list().len(), 2);
    }

    #[test]
    fn other_boundaries_are_left_alone() {
        let mut problems = Problems::default();
        // Not folded.
        let raw = b"Content-Type: multipart/mixed; boundary=\"a b\"\n\n--a b\n";
        assert!(matches!(
            unfold_boundaries(raw, &mut problems),
            Cow::Borrowed(_)
        ));
        // Folded, but the unfolded boundary is never used.
        let raw = b"Content-Type: multipart/mixed; boundary=\"ab\n cd\"\n\n--ab cd\n";
        assert!(matches!(
            unfold_boundaries(raw, &mut problems),
            Cow::Borrowed(_)
        ));
        // A blank line after `boundary=`: the value is missing, not folded.
        let raw = b"Content-Type: multipart/mixed; boundary=\n\nabcd\n--abcd\n";
        assert!(matches!(
            unfold_boundaries(raw, &mut problems),
            Cow::Borrowed(_)
        ));
        // Not in a Content-Type field.
        let raw = b"Subject: boundary=\"ab\n cd\"\n\n--abcd\n";
        assert!(matches!(
            unfold_boundaries(raw, &mut problems),
            Cow::Borrowed(_)
        ));
        assert!(problems.into_list().is_empty());
    }
}
