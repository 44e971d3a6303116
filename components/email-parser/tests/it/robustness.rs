//! `parse` never panics and keeps its output bounded, whatever the input: every
//! prefix and many mutations of the fixtures, pseudo-random mail-like soup, and
//! hostile shapes (huge header counts, deep nesting, long values).

use crate::common;

use std::fs;

use caliopen_email_parser::limits::{MAX_HEADER_VALUE_BYTES, MAX_HEADERS, MAX_PARTS, MAX_PROBLEMS};
use caliopen_email_parser::{ParsedMail, parse};

/// Parses and checks the invariants that hold for any input.
fn parse_ok(raw: &[u8]) -> Option<ParsedMail> {
    match parse(raw) {
        Ok(mail) => {
            assert_eq!(mail.size, raw.len() as u64);
            assert!(mail.headers.len() <= MAX_HEADERS);
            assert!(mail.parts.len() <= MAX_PARTS);
            assert!(mail.problems.len() <= MAX_PROBLEMS + 1);
            assert!(!mail.parts.is_empty(), "a parse always has a root part");
            Some(mail)
        }
        Err(error) => {
            assert!(
                raw.iter().all(u8::is_ascii_whitespace),
                "error {error:?} for non-blank input"
            );
            None
        }
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn fixtures() -> Vec<Vec<u8>> {
    let mut list: Vec<_> = fs::read_dir(common::fixtures_dir())
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    list.sort();
    list.iter().map(|p| fs::read(p).expect("fixture")).collect()
}

#[test]
fn empty_and_blank_inputs_are_errors() {
    for raw in [&b""[..], b" ", b"\r\n\r\n", b"\t \n"] {
        let error = parse(raw).expect_err("blank input is no mail");
        assert_eq!(error.kind, "malformed");
    }
}

#[test]
fn every_prefix_of_every_fixture_parses() {
    for raw in fixtures() {
        for end in 0..=raw.len() {
            parse_ok(&raw[..end]);
        }
    }
}

#[test]
fn mutated_fixtures_parse() {
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let specials: &[&[u8]] = &[
        b"\n",
        b"\r\n",
        b":",
        b"--",
        b"\"",
        b"=?",
        b"?=",
        b";",
        b" boundary=",
        b"\x00",
        b"\xff",
        b"<",
        b">",
        b"\n\n",
        b"=\n",
        b"*0*=utf-8''%",
    ];
    for raw in fixtures() {
        for _ in 0..300 {
            let mut mutated = raw.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(mutated.len() + 1);
                match rng.below(3) {
                    0 => {
                        let s = specials[rng.below(specials.len())];
                        mutated.splice(at..at, s.iter().copied());
                    }
                    1 if at < mutated.len() => {
                        let len = rng.below(16).min(mutated.len() - at);
                        mutated.drain(at..at + len);
                    }
                    _ if at < mutated.len() => mutated[at] = rng.next() as u8,
                    _ => mutated.push(rng.next() as u8),
                }
            }
            parse_ok(&mutated);
        }
    }
}

#[test]
fn mail_like_soup_parses() {
    let mut rng = Rng(0x0dd_ba11);
    let tokens: &[&[u8]] = &[
        b"From: a <b@c>\n",
        b"Content-Type: multipart/mixed; boundary=x\n",
        b"--x\n",
        b"--x--\n",
        b"Content-Type: message/rfc822\n",
        b"Content-Transfer-Encoding: base64\n",
        b"Content-Transfer-Encoding: quoted-printable\n",
        b"\n",
        b"=?utf-8?b?w6k=?=",
        b"=E9=\n",
        b"Subject: ",
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\n",
        b" folded\n",
        b"QUJD\n",
        b"\xc3",
        b"Content-Type: text/html; charset=x\n",
        b"Content-Type: multipart/digest; boundary=\"d\"\n",
        b"--d\n",
        b"References: <a@b> <c@d>\n",
        b"To: g: a@b, c@d;\n",
        b"List-Id: <l.x>\n",
    ];
    for _ in 0..3000 {
        let mut raw = Vec::new();
        for _ in 0..rng.below(40) {
            raw.extend_from_slice(tokens[rng.below(tokens.len())]);
        }
        parse_ok(&raw);
    }
    for _ in 0..500 {
        let raw: Vec<u8> = (0..rng.below(2000)).map(|_| rng.next() as u8).collect();
        parse_ok(&raw);
    }
}

#[test]
fn many_headers_are_capped() {
    let mut raw = b"From: a@b.c\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n".to_vec();
    for i in 0..MAX_HEADERS + 500 {
        raw.extend_from_slice(format!("X-Filler-{i}: {i}\n").as_bytes());
    }
    raw.extend_from_slice(b"Message-ID: <late@b.c>\n\nbody\n");
    let mail = parse_ok(&raw).expect("a mail");
    assert_eq!(mail.headers.len(), MAX_HEADERS);
    assert_eq!(
        mail.message_id.as_deref(),
        Some("late@b.c"),
        "typed fields see all headers"
    );
    assert!(mail.problems.iter().any(|p| p.contains("only the first")));
}

#[test]
fn long_header_values_are_cut() {
    let mut raw = b"From: a@b.c\nSubject: ".to_vec();
    raw.extend(std::iter::repeat_n(b'x', MAX_HEADER_VALUE_BYTES + 10));
    raw.extend_from_slice(b"\n\nbody\n");
    let mail = parse_ok(&raw).expect("a mail");
    assert_eq!(mail.headers[1].value.len(), MAX_HEADER_VALUE_BYTES);
    assert!(mail.problems.iter().any(|p| p.contains("is longer than")));
}

#[test]
fn deep_and_wide_multiparts_are_capped_without_recursion() {
    let depth = 3000;
    let mut raw = b"From: a@b.c\n".to_vec();
    for i in 0..depth {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n").as_bytes(),
        );
    }
    raw.extend_from_slice(b"Content-Type: text/plain\n\ndeep\n");
    for i in (0..depth).rev() {
        raw.extend_from_slice(format!("--b{i}--\n").as_bytes());
    }
    let mail = parse_ok(&raw).expect("a mail");
    assert_eq!(mail.parts.len(), MAX_PARTS);

    let mut raw = b"From: a@b.c\nContent-Type: multipart/mixed; boundary=w\n\n".to_vec();
    for _ in 0..MAX_PARTS + 100 {
        raw.extend_from_slice(b"--w\nContent-Type: application/octet-stream\n\nx\n");
    }
    raw.extend_from_slice(b"--w--\n");
    let mail = parse_ok(&raw).expect("a mail");
    assert_eq!(mail.parts.len(), MAX_PARTS);
    assert!(mail.attachments.len() < MAX_PARTS);
}

/// The repair of folded boundaries checks a bounded number of them. (mail-parser
/// itself is quadratic in the number of multiparts whose boundary is never used:
/// 4000 such parts in 230 KB take about 1.2 s in release; the host must bound the
/// size of a mail and the time of a call.)
#[test]
fn many_folded_boundary_parameters_stay_cheap() {
    let mut raw = b"From: a@b.c\nContent-Type: multipart/mixed; boundary=top\n\n".to_vec();
    for i in 0..500 {
        raw.extend_from_slice(
            format!("--top\nContent-Type: multipart/mixed; boundary=\"in\n {i}\"\n\nx\n")
                .as_bytes(),
        );
    }
    raw.extend_from_slice(b"--top--\n");
    let started = std::time::Instant::now();
    let mail = parse_ok(&raw).expect("a mail");
    assert!(
        mail.problems
            .iter()
            .any(|p| p.contains("too many folded boundary"))
    );
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}
