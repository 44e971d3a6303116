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
//!   that purpose.
//!
//! Bytes beyond the size limit are counted but not kept: the message is refused at the end.

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
    /// The message, unstuffed, CRLF line endings.
    Complete(Vec<u8>),
    /// The message was larger than the limit; it was not kept.
    TooBig,
    /// A text line was longer than the limit.
    LineTooLong,
}

/// Incremental reader of the DATA phase. Deterministic whatever the chunking of its input.
#[derive(Debug)]
pub(crate) struct DataReader {
    state: LineState,
    data: Vec<u8>,
    size: usize,
    max_size: usize,
    line_len: usize,
    max_line: usize,
    line_too_long: bool,
}

impl DataReader {
    /// A reader that keeps at most `max_size` bytes and accepts text lines up to `max_line`
    /// bytes, line ending included.
    pub(crate) fn new(max_size: usize, max_line: usize) -> Self {
        Self {
            state: LineState::Start,
            data: Vec::new(),
            size: 0,
            max_size,
            line_len: 0,
            max_line,
            line_too_long: false,
        }
    }

    /// Bytes currently kept.
    pub(crate) fn kept(&self) -> usize {
        self.data.len()
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
            DataOutcome::Complete(self.data)
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
        if self.line_len > self.max_line {
            self.line_too_long = true;
        }
    }

    /// Stores message bytes while under the limit; past it, only counts them.
    fn emit(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len());
        if self.size <= self.max_size {
            self.data.extend_from_slice(bytes);
        } else if self.data.capacity() > 0 {
            self.data = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8], max_size: usize, max_line: usize) -> (DataOutcome, usize) {
        let mut reader = DataReader::new(max_size, max_line);
        let (used, done) = reader.feed(input);
        assert!(done, "no end of data in {input:?}");
        (reader.finish(), used)
    }

    fn message(input: &[u8]) -> Vec<u8> {
        match read(input, 1 << 20, 1000).0 {
            DataOutcome::Complete(data) => data,
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
        let (outcome, used) = read(b"a\r\n.\r\nQUIT\r\n", 100, 100);
        assert_eq!(outcome, DataOutcome::Complete(b"a\r\n".to_vec()));
        assert_eq!(used, 6);
    }

    #[test]
    fn size_limit_counts_without_keeping() {
        let mut reader = DataReader::new(10, 1000);
        assert_eq!(reader.feed(b"0123456789\r\n"), (12, false));
        assert_eq!(reader.kept(), 0);
        assert_eq!(reader.feed(b"more\r\n.\r\n"), (9, true));
        assert_eq!(reader.finish(), DataOutcome::TooBig);
        // Exactly at the limit is fine.
        assert_eq!(
            read(b"01234567\r\n.\r\n", 10, 1000).0,
            DataOutcome::Complete(b"01234567\r\n".to_vec())
        );
    }

    #[test]
    fn long_lines_refuse_the_message() {
        assert_eq!(
            read(b"abcd\r\n.\r\n", 100, 6).0,
            DataOutcome::Complete(b"abcd\r\n".to_vec())
        );
        assert_eq!(read(b"abcde\r\n.\r\n", 100, 6).0, DataOutcome::LineTooLong);
        // Stuffing dots count: the line is 7 bytes on the wire.
        assert_eq!(read(b"..bcd\r\n.\r\n", 100, 6).0, DataOutcome::LineTooLong);
        assert_eq!(
            read(b"abcd\nabcd\r\n.\r\n", 100, 6).0,
            DataOutcome::Complete(b"abcd\r\nabcd\r\n".to_vec())
        );
    }

    #[test]
    fn chunking_does_not_matter() {
        let input = b"a\r\n..b\r\nc\nd\r\r\n.x\r\n.\r\nrest";
        let whole = read(input, 100, 100);
        for chunk in 1..input.len() {
            let mut reader = DataReader::new(100, 100);
            let mut used = 0;
            for piece in input.chunks(chunk) {
                let (n, done) = reader.feed(piece);
                used += n;
                if done {
                    break;
                }
            }
            assert_eq!((reader.finish(), used), whole, "chunk {chunk}");
        }
    }
}
