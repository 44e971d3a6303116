//! The TLS version and cipher a Received field records, in the forms the common
//! MTAs write:
//! - Postfix: `(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))`;
//! - Sendmail, Gmail, Microsoft: `(version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256
//!   bits=128/128)`, `(version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)`;
//! - Exim: `with esmtps (TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256)` and, since 4.92,
//!   `with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384`.

use super::Token;

/// The first TLS version (normalised) and cipher found in the comments of a field.
pub(super) fn find(tokens: &[Token<'_>]) -> Option<(String, Option<String>)> {
    tokens
        .iter()
        .enumerate()
        .find_map(|(i, token)| match token {
            Token::Comment(text) => postfix(text)
                .or_else(|| key_values(text))
                .or_else(|| exim(text, &tokens[i + 1..])),
            Token::Word(_) => None,
        })
}

/// True for a comment that carries TLS details rather than host names.
pub(super) fn is_tls_comment(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("using ") || lower.contains("version=") || looks_like_version(&lower)
}

/// `using <version> with cipher <cipher>`.
fn postfix(text: &str) -> Option<(String, Option<String>)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let at = words.windows(4).position(|w| {
        w[0].eq_ignore_ascii_case("using")
            && w[2].eq_ignore_ascii_case("with")
            && w[3].eq_ignore_ascii_case("cipher")
    })?;
    let cipher = words
        .get(at + 4)
        .map(|c| clean(c))
        .filter(|c| !c.is_empty());
    Some((normalize(words[at + 1]), cipher.map(str::to_string)))
}

/// `version=<version>[,] cipher=<cipher>`.
fn key_values(text: &str) -> Option<(String, Option<String>)> {
    let mut version = None;
    let mut cipher = None;
    for item in text.split(|c: char| c.is_whitespace() || c == ',') {
        let Some((key, value)) = item.split_once('=') else {
            continue;
        };
        let value = clean(value);
        if value.is_empty() {
            continue;
        }
        if key.eq_ignore_ascii_case("version") {
            version.get_or_insert(value);
        } else if key.eq_ignore_ascii_case("cipher") {
            cipher.get_or_insert(value);
        }
    }
    Some((normalize(version?), cipher.map(str::to_string)))
}

/// Exim's `(TLS1.2:CIPHER:bits)`, or `(TLS1.3) tls CIPHER`.
fn exim(text: &str, rest: &[Token<'_>]) -> Option<(String, Option<String>)> {
    let mut fields = text.split(':');
    let version = fields.next()?.trim();
    if !looks_like_version(&version.to_ascii_lowercase()) {
        return None;
    }
    let cipher = match (fields.next(), rest) {
        (Some(cipher), _) => Some(clean(cipher).to_string()),
        (None, [Token::Word(tls), Token::Word(cipher), ..]) if tls.eq_ignore_ascii_case("tls") => {
            Some(clean(cipher).to_string())
        }
        _ => None,
    };
    Some((normalize(version), cipher.filter(|c| !c.is_empty())))
}

/// `tls1.2`, `tlsv1.3`, `sslv3`, `tls1_2`, `tlsv1/sslv3`: one word naming a protocol
/// version (before any `:`), lower case.
fn looks_like_version(lower: &str) -> bool {
    let word = lower.split(':').next().unwrap_or_default().trim();
    if word == "tlsv1/sslv3" {
        return true;
    }
    let number = word
        .strip_prefix("tlsv")
        .or_else(|| word.strip_prefix("tls"))
        .or_else(|| word.strip_prefix("sslv"))
        .or_else(|| word.strip_prefix("ssl"));
    number.is_some_and(|n| {
        n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
    })
}

fn clean(text: &str) -> &str {
    text.trim()
        .trim_matches(|c: char| matches!(c, ',' | ';' | ')' | '(' | '"'))
}

/// The version in OpenSSL's spelling: `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`,
/// `SSLv3`, `SSLv2`; `TLSv1/SSLv3` (old OpenSSL's label for any TLS 1.x) kept;
/// anything else as written.
pub(super) fn normalize(raw: &str) -> String {
    let raw = clean(raw);
    let lower = raw.to_ascii_lowercase().replace('_', ".");
    if lower == "tlsv1/sslv3" {
        return "TLSv1/SSLv3".to_string();
    }
    if let Some(number) = lower
        .strip_prefix("tlsv")
        .or_else(|| lower.strip_prefix("tls"))
    {
        match number {
            "1" | "1.0" => return "TLSv1".to_string(),
            "1.1" | "1.2" | "1.3" => return format!("TLSv{number}"),
            _ => {}
        }
    }
    if let Some(number) = lower
        .strip_prefix("sslv")
        .or_else(|| lower.strip_prefix("ssl"))
    {
        match number {
            "2" | "2.0" => return "SSLv2".to_string(),
            "3" | "3.0" => return "SSLv3".to_string(),
            _ => {}
        }
    }
    raw.to_string()
}
