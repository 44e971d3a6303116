//! The DATA phase: dot-unstuffing, end-of-data detection, size and line-length limits
//! (RFC 5321 §4.1.1.4, §4.5.2, §4.5.3.1.6; RFC 1870).
//!
//! Line endings, documented behaviour:
//! - Only `CRLF . CRLF` ends the data (the DATA line counts as the first CRLF). `LF . LF`,
//!   `CRLF . LF` and `LF . CRLF` do not: accepting them is what makes "SMTP smuggling" possible.
//! - Likewise a leading dot is removed only on a line that follows a CRLF; the rule is "a line
//!   that starts with `.` and is not exactly `.` CRLF loses its first dot".
//! - A bare LF is tolerated inside the text and stored as CRLF, so stored messages always use
//!   CRLF. A bare CR is stored as is.
//! - The stored size (RFC 1870: CRLFs counted, stuffing dots and the final `.` CRLF not) is
//!   the size of the stored, normalised bytes.
//! - Text lines are measured on the wire, line ending included, and any LF ends a line for
//!   that purpose. There is no line limit unless one is given (the session gives one only in
//!   SMTP mode, when configured): a line is then bounded by the size limit alone.
//!
//! The reader keeps nothing: the message bytes it produces wait in a small output buffer that
//! the session hands to its caller after each feed ([`DataReader::take`]). Once the message
//! is known to be refused (over the size limit, or a line over the line limit) the reader only
//! counts and finds the end, and [`DataReader::refused`] says so at once.

/// Where the reader is within the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineState {
    /// Just after a CRLF (or at the start of the data).
    Start,
    /// After a dot at the start of a line.
    Dot,
    /// After `.` CR at the start of a line.
    DotCr,
    /// Inside a line.
    Middle,
    /// After a CR inside a line.
    Cr,
}

/// How the DATA phase ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DataOutcome {
    /// The message is complete: this many bytes were produced (unstuffed, CRLF line endings).
    Complete(usize),
    /// The message was larger than the limit.
    TooBig,
    /// A text line was longer than the limit.
    LineTooLong,
}

/// Incremental reader of the DATA phase. Deterministic whatever the chunking of its input.
#[derive(Debug)]
pub(crate) struct DataReader {
    state: LineState,
    /// Produced bytes not yet taken.
    out: Vec<u8>,
    size: usize,
    max_size: usize,
    line_len: usize,
    max_line: Option<usize>,
    line_too_long: bool,
}

impl DataReader {
    /// A reader of messages up to `max_size` bytes, with text lines up to `max_line` bytes
    /// (line ending included) when given.
    pub(crate) fn new(max_size: usize, max_line: Option<usize>) -> Self {
        Self {
            state: LineState::Start,
            out: Vec::new(),
            size: 0,
            max_size,
            line_len: 0,
            max_line,
            line_too_long: false,
        }
    }

    /// Produced bytes not yet taken.
    pub(crate) fn pending(&self) -> usize {
        self.out.len()
    }

    /// Takes the bytes produced so far, in order.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Whether the message is already known to be refused: nothing more is produced.
    pub(crate) fn refused(&self) -> bool {
        self.size > self.max_size || self.line_too_long
    }

    /// Consumes input up to the end of data. Returns how many bytes were consumed and whether
    /// the end of data was reached (the rest of `input` then belongs to the next command).
    pub(crate) fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < input.len() {
            if self.state == LineState::Middle {
                // Fast path: copy the run of ordinary bytes.
                let run = input[i..]
                    .iter()
                    .position(|&b| b == b'\r' || b == b'\n')
                    .unwrap_or(input.len() - i);
                if run > 0 {
                    self.count_wire(run);
                    self.emit(&input[i..i + run]);
                    i += run;
                    continue;
                }
            }
            let byte = input[i];
            i += 1;
            self.count_wire(1);
            if self.step(byte) {
                return (i, true);
            }
        }
        (i, false)
    }

    /// The result, once [`DataReader::feed`] reported the end of data.
    pub(crate) fn finish(self) -> DataOutcome {
        if self.size > self.max_size {
            DataOutcome::TooBig
        } else if self.line_too_long {
            DataOutcome::LineTooLong
        } else {
            DataOutcome::Complete(self.size)
        }
    }

    /// One byte through the line state machine; true at the end of data.
    fn step(&mut self, byte: u8) -> bool {
        use LineState::*;
        self.state = match (self.state, byte) {
            (DotCr, b'\n') => return true,
            (Start, b'.') => Dot,
            (Dot, b'\r') => DotCr,
            (Start | Middle, b'\r') => Cr,
            (Cr | DotCr, b'\r') => {
                self.emit(b"\r");
                Cr
            }
            (Cr, b'\n') => {
                self.end_line();
                Start
            }
            // A bare LF ends a text line but does not start a protocol line.
            (Start | Dot | Middle, b'\n') => {
                self.end_line();
                Middle
            }
            (Cr | DotCr, other) => {
                self.emit(&[b'\r', other]);
                Middle
            }
            // On `Dot`, the leading dot is dropped: only `other` is kept.
            (Start | Dot | Middle, other) => {
                self.emit(&[other]);
                Middle
            }
        };
        false
    }

    /// Stores a CRLF and starts measuring a new line.
    fn end_line(&mut self) {
        self.emit(b"\r\n");
        self.line_len = 0;
    }

    /// Counts wire bytes of the current line.
    fn count_wire(&mut self, n: usize) {
        self.line_len = self.line_len.saturating_add(n);
        if self.max_line.is_some_and(|max| self.line_len > max) && !self.line_too_long {
            self.line_too_long = true;
            self.out = Vec::new();
        }
    }

    /// Produces message bytes until the message is known to be refused; then only counts.
    fn emit(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len());
        if !self.refused() {
            self.out.extend_from_slice(bytes);
        } else if self.out.capacity() > 0 {
            self.out = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outcome, the bytes produced and the input used, for one feed.
    fn read(
        input: &[u8],
        max_size: usize,
        max_line: Option<usize>,
    ) -> (DataOutcome, Vec<u8>, usize) {
        let mut reader = DataReader::new(max_size, max_line);
        let (used, done) = reader.feed(input);
        assert!(done, "no end of data in {input:?}");
        let out = reader.take();
        (reader.finish(), out, used)
    }

    fn message(input: &[u8]) -> Vec<u8> {
        match read(input, 1 << 20, Some(1000)) {
            (DataOutcome::Complete(size), data, _) => {
                assert_eq!(size, data.len());
                data
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_message_and_empty_message() {
        assert_eq!(
            message(b"Subject: x\r\n\r\nbody\r\n.\r\n"),
            b"Subject: x\r\n\r\nbody\r\n"
        );
        assert_eq!(message(b".\r\n"), b"");
    }

    #[test]
    fn dot_unstuffing() {
        assert_eq!(message(b"..\r\n.\r\n"), b".\r\n");
        assert_eq!(message(b"a\r\n..b\r\n...\r\n.\r\n"), b"a\r\n.b\r\n..\r\n");
        // A single leading dot followed by text loses the dot (RFC 5321 §4.5.2).
        assert_eq!(message(b".x\r\n.\r\n"), b"x\r\n");
        // Dots elsewhere are untouched.
        assert_eq!(message(b"a.\r\nb..c\r\n.\r\n"), b"a.\r\nb..c\r\n");
    }

    #[test]
    fn bare_lf_is_normalised_and_never_ends_data() {
        assert_eq!(message(b"a\nb\r\n.\r\n"), b"a\r\nb\r\n");
        // LF . LF, CRLF . LF and LF . CRLF are text, not the end.
        assert_eq!(message(b"a\n.\nb\r\n.\r\n"), b"a\r\n.\r\nb\r\n");
        assert_eq!(message(b"a\r\n.\nb\r\n.\r\n"), b"a\r\n\r\nb\r\n");
        assert_eq!(message(b"a\n.\r\nb\r\n.\r\n"), b"a\r\n.\r\nb\r\n");
    }

    #[test]
    fn bare_cr_is_kept() {
        assert_eq!(message(b"a\rb\r\r\n.\r\n"), b"a\rb\r\r\n");
        assert_eq!(message(b".\rx\r\n.\r\n"), b"\rx\r\n");
        assert_eq!(message(b".\r\r\n.\r\n"), b"\r\r\n");
    }

    #[test]
    fn stops_at_end_of_data() {
        let (outcome, data, used) = read(b"a\r\n.\r\nQUIT\r\n", 100, Some(100));
        assert_eq!(
            (outcome, data, used),
            (DataOutcome::Complete(3), b"a\r\n".to_vec(), 6)
        );
    }

    #[test]
    fn output_is_handed_over_as_it_comes_and_nothing_is_kept() {
        let mut reader = DataReader::new(100, None);
        assert_eq!(reader.feed(b"one\r\ntw"), (7, false));
        assert_eq!(reader.take(), b"one\r\ntw");
        assert_eq!(reader.pending(), 0);
        assert_eq!(reader.feed(b"o\r\n.\r\n"), (6, true));
        assert_eq!(reader.take(), b"o\r\n");
        assert_eq!(reader.finish(), DataOutcome::Complete(10));
    }

    #[test]
    fn size_limit_refuses_at_once_and_counts_to_the_end() {
        let mut reader = DataReader::new(10, None);
        assert_eq!(reader.feed(b"0123456789\r\n"), (12, false));
        assert!(reader.refused(), "known as soon as the limit is passed");
        assert_eq!(reader.pending(), 0, "nothing more is produced");
        assert_eq!(reader.feed(b"more\r\n.\r\n"), (9, true));
        assert_eq!(reader.take(), b"");
        assert_eq!(reader.finish(), DataOutcome::TooBig);
        // Exactly at the limit is fine.
        assert_eq!(
            read(b"01234567\r\n.\r\n", 10, None).0,
            DataOutcome::Complete(10)
        );
    }

    #[test]
    fn long_lines_refuse_the_message_only_under_a_line_limit() {
        assert_eq!(
            read(b"abcd\r\n.\r\n", 100, Some(6)).0,
            DataOutcome::Complete(6)
        );
        assert_eq!(
            read(b"abcde\r\n.\r\n", 100, Some(6)).0,
            DataOutcome::LineTooLong
        );
        // Stuffing dots count: the line is 7 bytes on the wire.
        assert_eq!(
            read(b"..bcd\r\n.\r\n", 100, Some(6)).0,
            DataOutcome::LineTooLong
        );
        assert_eq!(
            read(b"abcd\nabcd\r\n.\r\n", 100, Some(6)).0,
            DataOutcome::Complete(12)
        );
        // Without a line limit, one line as long as the size limit allows is a message.
        let line = [b"x".repeat(15_000), b"\r\n.\r\n".to_vec()].concat();
        let (outcome, data, _) = read(&line, 15_002, None);
        assert_eq!(
            (outcome, data.len()),
            (DataOutcome::Complete(15_002), 15_002)
        );
        assert_eq!(read(&line, 15_001, None).0, DataOutcome::TooBig);
    }

    #[test]
    fn chunking_does_not_matter() {
        let input = b"a\r\n..b\r\nc\nd\r\r\n.x\r\n.\r\nrest";
        let whole = read(input, 100, Some(100));
        for chunk in 1..input.len() {
            let mut reader = DataReader::new(100, Some(100));
            let (mut used, mut data) = (0, Vec::new());
            for piece in input.chunks(chunk) {
                let (n, done) = reader.feed(piece);
                used += n;
                data.extend(reader.take());
                if done {
                    break;
                }
            }
            assert_eq!((reader.finish(), data, used), whole, "chunk {chunk}");
        }
    }
}
