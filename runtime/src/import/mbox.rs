//! Streamed mbox reading (mboxrd and mboxo): one message at a time, in memory bounded
//! by the largest message taken, whatever the file's size or its lines' lengths.
//!
//! A message starts at a `From ` line at the start of the file or after an empty
//! line; the empty line before the next `From ` line is the separator, not part of
//! the message. Quoted lines (`>From `, `>>From `, ...) lose one `>`: the mboxrd rule,
//! which is also mboxo's for `>From ` (an mboxo file cannot tell a quoted `>>From `
//! from one written so; the mboxrd reading is taken).

use std::io::{self, BufRead};

use caliopen_core::delivery::ImportedMail;
use chrono::{DateTime, NaiveDateTime, Utc};

/// Bytes of a line kept when only its start matters (a `From ` line, a skipped one).
const LINE_HEAD: usize = 1024;

/// One thing found in an mbox.
#[derive(Debug, PartialEq, Eq)]
pub enum MboxEntry {
    /// A message: its `From ` line's byte offset, unquoted bytes, and what the
    /// `From ` line and the status fields said.
    Mail {
        offset: u64,
        raw: Vec<u8>,
        envelope_from: String,
        flags: ImportedMail,
        /// The file ended inside it, without a final newline: it may be cut short.
        truncated: bool,
    },
    /// A message larger than the limit, skipped: its offset and the bytes it takes in
    /// the file (its `From ` line included).
    TooLarge { offset: u64, size: u64 },
    /// Text before the first `From ` line: its offset and size.
    Junk { offset: u64, size: u64 },
}

/// An mbox being read.
#[derive(Debug)]
pub struct MboxReader<R> {
    reader: R,
    /// Bytes consumed so far.
    pos: u64,
    max: usize,
    started: bool,
    /// The `From ` line that starts the next message: its offset and first bytes.
    next_from: Option<(u64, Vec<u8>)>,
}

impl<R: BufRead> MboxReader<R> {
    /// Reads `reader`, taking messages of at most `max` bytes.
    pub fn new(reader: R, max: usize) -> Self {
        Self {
            reader,
            pos: 0,
            max,
            started: false,
            next_from: None,
        }
    }

    /// Bytes read so far (where a read error stopped the reading).
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The next entry, or `None` at the end of the file.
    pub fn next_entry(&mut self) -> io::Result<Option<MboxEntry>> {
        let (offset, from_line) = match self.next_from.take() {
            Some(found) => found,
            None if self.started => return Ok(None),
            None => {
                self.started = true;
                match self.first_from()? {
                    Start::From(offset, line) => (offset, line),
                    Start::Junk(offset, size) => {
                        return Ok(Some(MboxEntry::Junk { offset, size }));
                    }
                    Start::Empty => return Ok(None),
                }
            }
        };
        let (envelope_from, source_date) = parse_from_line(&from_line);
        let (mut raw, size, complete) = self.read_message()?;
        // What it takes in the file, its From line and separator included.
        let span = self.next_from.as_ref().map_or(self.pos, |(o, _)| *o) - offset;
        if size > self.max as u64 + 2 {
            return Ok(Some(MboxEntry::TooLarge { offset, size: span }));
        }
        strip_separator(&mut raw);
        if raw.len() > self.max {
            return Ok(Some(MboxEntry::TooLarge { offset, size: span }));
        }
        let mut flags = status_flags(&raw);
        flags.source_date = source_date;
        Ok(Some(MboxEntry::Mail {
            offset,
            raw,
            envelope_from,
            flags,
            truncated: !complete,
        }))
    }

    /// Reads up to the first `From ` line; empty lines before it are no junk.
    fn first_from(&mut self) -> io::Result<Start> {
        let offset = self.pos;
        let mut line = Vec::new();
        loop {
            line.clear();
            let at = self.pos;
            if self.read_line(&mut line, LINE_HEAD)? == 0 {
                return Ok(if at == offset {
                    Start::Empty
                } else {
                    Start::Junk(offset, at - offset)
                });
            }
            if is_from_line(&line) {
                return Ok(Start::From(at, line));
            }
            if !is_blank(&line) {
                self.skip_to_from()?;
                let end = self.next_from.as_ref().map_or(self.pos, |(o, _)| *o);
                return Ok(Start::Junk(offset, end - offset));
            }
        }
    }

    /// Skips lines up to the next `From ` line after an empty line (kept in
    /// `next_from`) or the end of the file.
    fn skip_to_from(&mut self) -> io::Result<()> {
        let mut line = Vec::new();
        let mut prev_blank = false;
        loop {
            line.clear();
            let at = self.pos;
            if self.read_line(&mut line, LINE_HEAD)? == 0 {
                return Ok(());
            }
            if prev_blank && is_from_line(&line) {
                self.next_from = Some((at, line));
                return Ok(());
            }
            prev_blank = is_blank(&line);
        }
    }

    /// Reads a message's lines up to the next separating `From ` line (kept in
    /// `next_from`) or the end of the file: the unquoted bytes (empty when over the
    /// limit), their size, and whether the last line ended with a newline.
    fn read_message(&mut self) -> io::Result<(Vec<u8>, u64, bool)> {
        let mut raw = Vec::new();
        let mut size = 0u64;
        let mut over = false;
        let mut prev_blank = false;
        let mut complete = true;
        loop {
            let at = self.pos;
            let start = raw.len();
            // Enough of every line to tell a separator, however full the message.
            let room = if over {
                LINE_HEAD
            } else {
                (self.max + 3).saturating_sub(start).max(LINE_HEAD)
            };
            let n = self.read_line(&mut raw, room)?;
            if n == 0 {
                break;
            }
            let line = &raw[start..];
            if prev_blank && is_from_line(line) {
                self.next_from = Some((at, line.to_vec()));
                raw.truncate(start);
                break;
            }
            prev_blank = is_blank(line);
            complete = line.ends_with(b"\n");
            if is_quoted_from(line) {
                raw.remove(start);
                size += n as u64 - 1;
            } else {
                size += n as u64;
            }
            if over {
                raw.clear();
            } else if size > self.max as u64 + 2 {
                over = true;
                raw = Vec::new();
            }
        }
        Ok((raw, size, complete))
    }

    /// Reads one line (up to and with its newline, or to the end of the file),
    /// appending at most `room` of its bytes to `buf`; answers how many bytes the line
    /// had (0 at the end of the file).
    fn read_line(&mut self, buf: &mut Vec<u8>, room: usize) -> io::Result<usize> {
        let mut total = 0usize;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            let (n, end) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let kept = total.min(room);
            let take = n.min(room - kept);
            buf.extend_from_slice(&chunk[..take]);
            self.reader.consume(n);
            total += n;
            if end {
                break;
            }
        }
        self.pos += total as u64;
        Ok(total)
    }
}

enum Start {
    From(u64, Vec<u8>),
    Junk(u64, u64),
    Empty,
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

fn is_from_line(line: &[u8]) -> bool {
    line.starts_with(b"From ")
}

/// `>From `, `>>From `, ...
fn is_quoted_from(line: &[u8]) -> bool {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    quotes > 0 && line[quotes..].starts_with(b"From ")
}

/// Drops the empty line that separates a message from the next `From ` line.
fn strip_separator(raw: &mut Vec<u8>) {
    if raw.ends_with(b"\r\n\r\n") {
        raw.truncate(raw.len() - 2);
    } else if raw.ends_with(b"\n\n") {
        raw.truncate(raw.len() - 1);
    }
}

/// The sender and date of a `From sender date` line (the date as `asctime` writes
/// it, maybe followed by a time zone), when they read.
pub fn parse_from_line(line: &[u8]) -> (String, Option<DateTime<Utc>>) {
    let text = String::from_utf8_lossy(line);
    let mut words = text.split_whitespace().skip(1);
    let sender = words.next().unwrap_or_default().to_owned();
    let rest: Vec<&str> = words.collect();
    let parse = |w: &[&str]| {
        NaiveDateTime::parse_from_str(&w.join(" "), "%a %b %d %H:%M:%S %Y")
            .ok()
            .map(|d| d.and_utc())
    };
    let date = (rest.len() >= 5)
        .then(|| parse(&rest[rest.len() - 5..]).or_else(|| parse(&rest[..5])))
        .flatten();
    (sender, date)
}

/// What the status fields an mbox writer adds say: `Status: R` (read), `X-Status:`
/// `A` (answered) and `F` (flagged), or Thunderbird's `X-Mozilla-Status` bits.
pub fn status_flags(raw: &[u8]) -> ImportedMail {
    let mut flags = ImportedMail::default();
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"Status") {
            flags.read |= value.contains(&b'R');
        } else if name.eq_ignore_ascii_case(b"X-Status") {
            flags.answered |= value.contains(&b'A');
            flags.flagged |= value.contains(&b'F');
        } else if name.eq_ignore_ascii_case(b"X-Mozilla-Status") {
            let bits = std::str::from_utf8(value)
                .ok()
                .and_then(|v| u16::from_str_radix(v, 16).ok())
                .unwrap_or(0);
            flags.read |= bits & 0x1 != 0;
            flags.answered |= bits & 0x2 != 0;
            flags.flagged |= bits & 0x4 != 0;
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &[u8], max: usize) -> Vec<MboxEntry> {
        let mut r = MboxReader::new(text, max);
        let mut out = Vec::new();
        while let Some(e) = r.next_entry().unwrap() {
            out.push(e);
        }
        out
    }

    fn raws(entries: &[MboxEntry]) -> Vec<(u64, String)> {
        entries
            .iter()
            .filter_map(|e| match e {
                MboxEntry::Mail { offset, raw, .. } => {
                    Some((*offset, String::from_utf8_lossy(raw).into_owned()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn messages_are_split_on_from_lines_after_an_empty_line_and_unquoted() {
        let mbox = b"From a@x Mon Jan  1 00:00:00 2001\nSubject: one\n\nbody\n>From here\n>>From there\nFrom not a separator\n\nFrom b@x Tue Feb  2 10:20:30 2010\nSubject: two\n\nsecond\n\n";
        let got = entries(mbox, 1000);
        assert_eq!(
            raws(&got),
            vec![
                (
                    0,
                    "Subject: one\n\nbody\nFrom here\n>From there\nFrom not a separator\n"
                        .to_owned()
                ),
                (99, "Subject: two\n\nsecond\n".to_owned())
            ]
        );
        let MboxEntry::Mail {
            envelope_from,
            flags,
            ..
        } = &got[1]
        else {
            panic!()
        };
        assert_eq!(envelope_from, "b@x");
        assert_eq!(
            flags.source_date.unwrap().to_rfc3339(),
            "2010-02-02T10:20:30+00:00"
        );
    }

    #[test]
    fn an_over_size_message_is_skipped_with_its_offset_and_the_next_is_read() {
        let mut mbox = b"From a@x Mon Jan  1 00:00:00 2001\nSubject: big\n\n".to_vec();
        mbox.extend(std::iter::repeat_n(b'x', 10_000)); // one long line, no newline until the end
        mbox.extend_from_slice(b"\n\nFrom b@x Mon Jan  1 00:00:00 2001\nSubject: small\n\nok\n");
        let got = entries(&mbox, 500);
        assert!(matches!(got[0], MboxEntry::TooLarge { offset: 0, size } if size > 10_000));
        assert_eq!(raws(&got).len(), 1);
        assert!(raws(&got)[0].1.contains("Subject: small"));
    }

    #[test]
    fn a_truncated_mbox_gives_what_it_has() {
        let got = entries(
            b"From a@x Mon Jan  1 00:00:00 2001\nSubject: cut\n\nhalf a li",
            100,
        );
        let MboxEntry::Mail { raw, truncated, .. } = &got[0] else {
            panic!("{got:?}")
        };
        assert!(*truncated);
        assert_eq!(raw, b"Subject: cut\n\nhalf a li");
    }

    #[test]
    fn text_before_the_first_from_line_is_reported_not_imported() {
        let got = entries(
            b"\ngarbage\nmore\n\nFrom a@x Mon Jan  1 00:00:00 2001\nS: 1\n\nb\n",
            100,
        );
        assert_eq!(
            got[0],
            MboxEntry::Junk {
                offset: 0,
                size: 15
            }
        );
        assert_eq!(raws(&got), vec![(15, "S: 1\n\nb\n".to_owned())]);
        assert!(entries(b"", 10).is_empty());
    }

    #[test]
    fn status_fields_become_flags() {
        let f =
            status_flags(b"Subject: s\r\nStatus: RO\r\nX-Status: AF\r\n\r\nStatus: nothing\r\n");
        assert!(f.read && f.answered && f.flagged);
        let f = status_flags(b"X-Mozilla-Status: 0001\n\n");
        assert!(f.read && !f.answered && !f.flagged);
        assert_eq!(status_flags(b"Status: O\n\n"), ImportedMail::default());
    }
}
