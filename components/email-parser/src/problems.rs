//! The problems a parse worked around, capped at [`MAX_PROBLEMS`], and the quoting of
//! input excerpts inside them.

use crate::limits::{MAX_EXCERPT_CHARS, MAX_PROBLEMS};

/// Collects problem descriptions in the order they are found.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<String>,
    dropped: usize,
}

impl Problems {
    /// Records one problem; past the cap it is only counted.
    pub(crate) fn push(&mut self, problem: impl Into<String>) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(problem.into());
        } else {
            self.dropped += 1;
        }
    }

    /// Appends the problems of `other`, after those already recorded.
    pub(crate) fn extend(&mut self, other: Problems) {
        self.dropped += other.dropped;
        for problem in other.list {
            self.push(problem);
        }
    }

    /// The final list, with a last line counting the problems past the cap.
    pub(crate) fn into_list(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list
                .push(format!("{} more problems not listed", self.dropped));
        }
        self.list
    }
}

/// `text` as a quoted, escaped excerpt of at most [`MAX_EXCERPT_CHARS`] characters,
/// followed by `...` when cut.
pub(crate) fn quote(text: &str) -> String {
    let mut chars = text.char_indices();
    match chars.nth(MAX_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{:?}...", &text[..cut]),
        None => format!("{text:?}"),
    }
}

/// [`quote`] for bytes that may not be UTF-8 (invalid sequences shown as U+FFFD).
pub(crate) fn quote_bytes(bytes: &[u8]) -> String {
    let end = bytes.len().min(MAX_EXCERPT_CHARS * 4);
    let text = String::from_utf8_lossy(&bytes[..end]);
    let quoted = quote(&text);
    if end < bytes.len() && !quoted.ends_with("...") {
        quoted + "..."
    } else {
        quoted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_cuts_and_escapes() {
        assert_eq!(quote("a\tb"), "\"a\\tb\"");
        let long = "x".repeat(MAX_EXCERPT_CHARS + 5);
        assert_eq!(
            quote(&long),
            format!("{:?}...", "x".repeat(MAX_EXCERPT_CHARS))
        );
        assert_eq!(quote_bytes(b"\xffab"), "\"\u{fffd}ab\"");
    }

    #[test]
    fn problems_are_capped() {
        let mut problems = Problems::default();
        for i in 0..MAX_PROBLEMS + 3 {
            problems.push(format!("p{i}"));
        }
        let list = problems.into_list();
        assert_eq!(list.len(), MAX_PROBLEMS + 1);
        assert_eq!(list.last().unwrap(), "3 more problems not listed");
    }
}
