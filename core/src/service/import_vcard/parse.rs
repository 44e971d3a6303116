//! vCard syntax, without I/O: vCard 2.1 (the versit specification), 3.0
//! (RFC 2425 / 2426) and 4.0 (RFC 6350).
//!
//! A file is cut into cards (`BEGIN:VCARD` .. `END:VCARD`, case-insensitive,
//! any number per file, a nested card such as a 2.1 `AGENT` skipped); each
//! card's lines are unfolded by its own version's rule (2.1 keeps the folding
//! white space as RFC 822 does, 3.0 and 4.0 drop it), quoted-printable soft line
//! breaks are joined, and each line becomes a [`Property`]: group, upper-case
//! name, parameters (2.1's bare `HOME` / `QUOTED-PRINTABLE` become `TYPE=` /
//! `ENCODING=`; 4.0's quoted values and `^` escapes are read) and a value decoded
//! from its transfer encoding and charset. What the value means (escapes,
//! components) is for [`super::map`].

/// Largest file read.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most cards read from one file.
pub const MAX_CARDS: usize = 10_000;
/// Most properties on one card.
pub const MAX_PROPERTIES: usize = 1_000;

/// One parameter: upper-case name, values as given (unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub values: Vec<String>,
}

/// One content line of a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// `item1` of `item1.EMAIL`.
    pub group: Option<String>,
    /// Upper case.
    pub name: String,
    pub params: Vec<Param>,
    /// Decoded from quoted-printable and the charset; base64 values are left as
    /// their (white-space free) base64 text, with `binary` set.
    pub value: String,
    pub binary: bool,
    /// Line of the file the property starts on (1-based).
    pub line: usize,
}

impl Property {
    /// The values of every parameter `name` (upper case), in order.
    pub fn param(&self, name: &str) -> impl Iterator<Item = &str> {
        self.params
            .iter()
            .filter(move |p| p.name == name)
            .flat_map(|p| p.values.iter().map(String::as_str))
    }

    /// The `TYPE` values, lower case, split on commas.
    pub fn types(&self) -> Vec<String> {
        self.param("TYPE")
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Whether the property is marked preferred (`TYPE=pref`, 2.1's `PREF`, 4.0's `PREF=n`).
    pub fn is_pref(&self) -> bool {
        self.param("PREF").next().is_some() || self.types().iter().any(|t| t == "pref")
    }
}

/// A card as read: its first line, version and properties, and what was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCard {
    /// Line of its `BEGIN:VCARD` (1-based).
    pub line: usize,
    /// As the card says (`2.1`, `3.0`, `4.0`), empty when it says nothing.
    pub version: String,
    pub properties: Vec<Property>,
    /// Lines that were not properties, and other things worth telling.
    pub warnings: Vec<String>,
}

/// A card that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenCard {
    pub line: usize,
    pub reason: String,
}

/// A card being read: the line of its `BEGIN`, and its (line, text) lines.
type OpenCard<'a> = (usize, Vec<(usize, &'a [u8])>);

/// Cuts a file into cards. `Err` when the file holds no card at all or is too
/// large; a card that cannot be read is a [`BrokenCard`] among the others.
pub fn parse(data: &[u8]) -> Result<Vec<Result<RawCard, BrokenCard>>, String> {
    if data.len() > MAX_FILE_BYTES {
        return Err(format!("is larger than {MAX_FILE_BYTES} bytes"));
    }
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    let mut cards = Vec::new();
    let mut current: Option<OpenCard<'_>> = None;
    let mut depth = 0usize;
    for (i, &line) in lines.iter().enumerate() {
        let number = i + 1;
        let starts_card = is_marker(line, b"BEGIN");
        let ends_card = is_marker(line, b"END");
        match current.as_mut() {
            None if starts_card => {
                if cards.len() == MAX_CARDS {
                    return Err(format!("holds more than {MAX_CARDS} cards"));
                }
                current = Some((number, Vec::new()));
            }
            None => {}
            Some(_) if starts_card => depth += 1,
            Some(_) if ends_card && depth > 0 => depth -= 1,
            Some(_) if ends_card => {
                let (start, body) = current.take().unwrap_or_default();
                cards.push(read_card(start, &body));
            }
            Some(_) if depth > 0 => {}
            Some((_, body)) => body.push((number, line)),
        }
    }
    if let Some((start, _)) = current {
        cards.push(Err(BrokenCard {
            line: start,
            reason: "the card has no END:VCARD line".into(),
        }));
    }
    if cards.is_empty() {
        return Err("holds no vCard (no BEGIN:VCARD line)".into());
    }
    Ok(cards)
}

/// `BEGIN:VCARD` / `END:VCARD`, in any case, with white space around.
fn is_marker(line: &[u8], word: &[u8]) -> bool {
    let line = line.trim_ascii();
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    line[..colon].trim_ascii().eq_ignore_ascii_case(word)
        && line[colon + 1..]
            .trim_ascii()
            .eq_ignore_ascii_case(b"VCARD")
}

fn read_card(start: usize, body: &[(usize, &[u8])]) -> Result<RawCard, BrokenCard> {
    let version = body
        .iter()
        .filter(|(_, l)| !l.starts_with(b" ") && !l.starts_with(b"\t"))
        .find_map(|(_, l)| {
            let (name, value) = split_once(l, b':')?;
            name.trim_ascii()
                .eq_ignore_ascii_case(b"VERSION")
                .then(|| String::from_utf8_lossy(value.trim_ascii()).into_owned())
        })
        .unwrap_or_default();
    let keep_fold_space = version == "2.1";
    let mut card = RawCard {
        line: start,
        version,
        properties: Vec::new(),
        warnings: Vec::new(),
    };
    for (number, line) in unfold(body, keep_fold_space) {
        if line.trim_ascii().is_empty() {
            continue;
        }
        if card.properties.len() == MAX_PROPERTIES {
            return Err(BrokenCard {
                line: start,
                reason: format!("the card has more than {MAX_PROPERTIES} properties"),
            });
        }
        match property(number, &line) {
            Some(p) if p.name == "VERSION" => {}
            Some(p) => card.properties.push(p),
            None => card.warnings.push(format!(
                "line {number} is not a vCard property and was skipped"
            )),
        }
    }
    Ok(card)
}

/// Joins folded lines (and quoted-printable soft line breaks) into logical lines,
/// each with the number of its first physical line.
fn unfold(body: &[(usize, &[u8])], keep_fold_space: bool) -> Vec<(usize, Vec<u8>)> {
    let mut out: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut soft_break = false;
    for &(number, line) in body {
        match out.last_mut() {
            Some((_, last)) if soft_break => last.extend_from_slice(line),
            Some((_, last)) if line.starts_with(b" ") || line.starts_with(b"\t") => {
                last.extend_from_slice(if keep_fold_space { line } else { &line[1..] });
            }
            _ => out.push((number, line.to_vec())),
        }
        let last = &mut out.last_mut().expect("a line was pushed").1;
        soft_break = last.ends_with(b"=") && is_quoted_printable(last);
        if soft_break {
            last.pop();
        }
    }
    out
}

fn is_quoted_printable(line: &[u8]) -> bool {
    let head = match value_start(line) {
        Some(colon) => &line[..colon],
        None => line,
    };
    String::from_utf8_lossy(head)
        .to_ascii_uppercase()
        .contains("QUOTED-PRINTABLE")
}

/// Position of the `:` that starts the value: the first one outside quotes.
fn value_start(line: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in line.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// One logical line as a property; `None` when it is not one.
fn property(number: usize, line: &[u8]) -> Option<Property> {
    let colon = value_start(line)?;
    let head = std::str::from_utf8(&line[..colon]).ok()?;
    let mut parts = split_outside_quotes(head, ';').into_iter();
    let full_name = parts.next()?.trim().to_owned();
    let (group, name) = match full_name.split_once('.') {
        Some((g, n)) => (Some(g.to_owned()), n),
        None => (None, full_name.as_str()),
    };
    let valid =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid(name) || group.as_deref().is_some_and(|g| !valid(g)) {
        return None;
    }
    let params: Vec<Param> = parts.filter_map(|p| param(&p)).collect();
    let mut p = Property {
        group,
        name: name.to_ascii_uppercase(),
        params,
        value: String::new(),
        binary: false,
        line: number,
    };
    let raw = &line[colon + 1..];
    let encoding = p.param("ENCODING").next().map(str::to_ascii_uppercase);
    let bytes = match encoding.as_deref() {
        Some("QUOTED-PRINTABLE") => decode_quoted_printable(raw),
        Some("B" | "BASE64") => {
            p.binary = true;
            raw.iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect()
        }
        _ => raw.to_vec(),
    };
    let charset = p.param("CHARSET").next().map(str::to_owned);
    p.value = decode_charset(&bytes, charset.as_deref());
    Some(p)
}

/// `NAME=v1,v2` (values may be quoted), or 2.1's bare `HOME` / `QUOTED-PRINTABLE`.
fn param(text: &str) -> Option<Param> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let Some((name, values)) = text.split_once('=') else {
        let upper = text.to_ascii_uppercase();
        let name = match upper.as_str() {
            "QUOTED-PRINTABLE" | "BASE64" | "8BIT" | "7BIT" => "ENCODING",
            _ => "TYPE",
        };
        return Some(Param {
            name: name.into(),
            values: vec![text.to_owned()],
        });
    };
    let values = split_outside_quotes(values, ',')
        .into_iter()
        .map(|v| caret_decode(v.trim().trim_matches('"')))
        .collect();
    Some(Param {
        name: name.trim().to_ascii_uppercase(),
        values,
    })
}

fn split_outside_quotes(text: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == sep && !quoted {
            out.push(String::new());
        } else {
            out.last_mut().expect("never empty").push(c);
        }
    }
    out
}

/// RFC 6868 parameter escapes: `^n` newline, `^'` double quote, `^^` caret.
fn caret_decode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('^', Some('n' | 'N')) => {
                out.push('\n');
                chars.next();
            }
            ('^', Some('\'')) => {
                out.push('"');
                chars.next();
            }
            ('^', Some('^')) => {
                out.push('^');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// Quoted-printable: `=XX` is a byte; a malformed `=` is kept as it is.
fn decode_quoted_printable(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match raw[i..] {
            [b'=', h, l, ..] if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            _ => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    out
}

/// Text of `bytes` in `charset`: UTF-8 when none is given (read as Windows-1252
/// when the bytes are not UTF-8, as 2.1 exporters wrote their local charset),
/// ISO-8859-1, ISO-8859-15 and Windows-1252 natively; another charset is read
/// as UTF-8 with replacement characters.
pub fn decode_charset(bytes: &[u8], charset: Option<&str>) -> String {
    let charset = charset.map(|c| c.trim().to_ascii_lowercase());
    match charset.as_deref() {
        Some("iso-8859-1" | "latin1" | "l1" | "iso8859-1" | "iso_8859-1") => {
            bytes.iter().map(|&b| char::from(b)).collect()
        }
        Some("iso-8859-15" | "latin-9" | "iso8859-15") => {
            bytes.iter().map(|&b| latin9(b)).collect()
        }
        Some("windows-1252" | "cp1252") => bytes.iter().map(|&b| windows_1252(b)).collect(),
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) if charset.is_none() => bytes.iter().map(|&b| windows_1252(b)).collect(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        },
        Some(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn latin9(b: u8) -> char {
    match b {
        0xA4 => '€',
        0xA6 => 'Š',
        0xA8 => 'š',
        0xB4 => 'Ž',
        0xB8 => 'ž',
        0xBC => 'Œ',
        0xBD => 'œ',
        0xBE => 'Ÿ',
        _ => char::from(b),
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

fn split_once(line: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = line.iter().position(|&b| b == sep)?;
    Some((&line[..i], &line[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> RawCard {
        let mut cards = parse(text.as_bytes()).unwrap();
        assert_eq!(cards.len(), 1);
        cards.remove(0).unwrap()
    }

    fn value<'a>(card: &'a RawCard, name: &str) -> &'a str {
        &card
            .properties
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .value
    }

    #[test]
    fn cards_are_cut_and_lines_unfolded_by_version() {
        let v3 = one("BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:one\r\n  two\r\nEND:VCARD\r\n");
        assert_eq!(value(&v3, "NOTE"), "one two");
        let v21 = one("BEGIN:VCARD\nVERSION:2.1\nNOTE:one\n two\nEND:VCARD");
        assert_eq!(value(&v21, "NOTE"), "one two");
        let both =
            parse(b"begin:vcard\nfn:A\nend:vcard\n\nBEGIN:VCARD\nFN:B\nEND:VCARD\n").unwrap();
        assert_eq!(both.len(), 2);
    }

    #[test]
    fn parameters_of_every_version() {
        let c = one(concat!(
            "BEGIN:VCARD\nVERSION:2.1\n",
            "TEL;HOME;VOICE;PREF:+33 1\n",
            "item1.EMAIL;type=INTERNET,work:a@b.org\n",
            "ADR;LABEL=\"1 rue ^'X^';\\nParis\";TYPE=home:;;1 rue;Paris;;;France\n",
            "END:VCARD"
        ));
        let tel = &c.properties[0];
        assert_eq!(tel.types(), ["home", "voice", "pref"]);
        assert!(tel.is_pref());
        let email = &c.properties[1];
        assert_eq!(email.group.as_deref(), Some("item1"));
        assert_eq!(email.types(), ["internet", "work"]);
        let adr = &c.properties[2];
        assert_eq!(adr.param("LABEL").next(), Some("1 rue \"X\";\\nParis"));
        assert_eq!(adr.value, ";;1 rue;Paris;;;France");
    }

    #[test]
    fn quoted_printable_with_soft_breaks_and_charsets() {
        let c = one(concat!(
            "BEGIN:VCARD\r\nVERSION:2.1\r\n",
            "N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=\r\n",
            "=FCrgen\r\n",
            "NOTE;QUOTED-PRINTABLE;CHARSET=UTF-8:caf=C3=A9 =3D ok\r\n",
            "END:VCARD\r\n"
        ));
        assert_eq!(value(&c, "N"), "Müller;Jürgen");
        assert_eq!(value(&c, "NOTE"), "café = ok");
        let latin = parse(b"BEGIN:VCARD\nFN:Andr\xe9\nEND:VCARD").unwrap();
        assert_eq!(latin[0].as_ref().unwrap().properties[0].value, "André");
    }

    #[test]
    fn nested_cards_broken_cards_and_files_without_cards() {
        let c = one(concat!(
            "BEGIN:VCARD\nVERSION:2.1\nFN:Boss\nAGENT:\nBEGIN:VCARD\nFN:Secretary\n",
            "END:VCARD\nTEL:1\nEND:VCARD\n"
        ));
        let names: Vec<&str> = c.properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["FN", "AGENT", "TEL"]);
        let cards = parse(b"BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\n").unwrap();
        assert!(cards[0].is_ok());
        assert_eq!(cards[1].as_ref().unwrap_err().line, 4);
        assert!(parse(b"cn:Babs Jensen\nsn:Jensen\n").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn lines_that_are_not_properties_are_reported() {
        let c = one("BEGIN:VCARD\nFN:A\nthis is not a property\nEND:VCARD");
        assert_eq!(c.properties.len(), 1);
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains("line 3"), "{:?}", c.warnings);
    }

    #[test]
    fn base64_values_stay_text() {
        let c = one("BEGIN:VCARD\nVERSION:3.0\nKEY;ENCODING=b;TYPE=PGP:QUJD\n REVG\nEND:VCARD");
        let key = &c.properties[0];
        assert!(key.binary);
        assert_eq!(key.value, "QUJDREVG");
    }
}
