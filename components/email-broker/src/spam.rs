//! The verdict and score of an upstream spam filter, from the headers SpamAssassin
//! (often through amavis) and rspamd add:
//! - verdict, first found of: `X-Spam-Flag: YES|NO`, `X-Spam-Status: Yes|No, ...`,
//!   `X-Spam: Yes|No`, `X-Spamd-Result: default: True|False [...]`;
//! - score, first found of: `X-Spam-Status: ... score=7.2` (or `hits=`),
//!   `X-Spam-Score: 7.2`, `X-Spamd-Result: default: False [-0.70 / 15.00]`,
//!   `X-Rspamd-Score: -0.70`.
//!
//! Of each header the first (most recent) occurrence is read. Scores keep their sign
//! (the original Caliopen clamped them to zero or below, a defect not reproduced).

use crate::Header;
use crate::headers;

/// What the upstream filter said.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Upstream {
    pub is_spam: Option<bool>,
    pub score: Option<f32>,
    /// `spamassassin` or `rspamd`: which family of headers gave the verdict or score.
    pub method: Option<&'static str>,
}

const SPAMASSASSIN: &str = "spamassassin";
const RSPAMD: &str = "rspamd";

/// Reads the upstream spam headers.
pub(crate) fn upstream(headers: &[Header]) -> Upstream {
    let flag = headers::first(headers, "X-Spam-Flag").and_then(yes_no);
    let status = headers::first(headers, "X-Spam-Status");
    let x_spam = headers::first(headers, "X-Spam").and_then(yes_no);
    let spamd = headers::first(headers, "X-Spamd-Result");

    let verdicts = [
        (flag, SPAMASSASSIN),
        (status.and_then(|s| yes_no(first_word(s))), SPAMASSASSIN),
        (x_spam, RSPAMD),
        (spamd.and_then(spamd_verdict), RSPAMD),
    ];
    let scores = [
        (status.and_then(status_score), SPAMASSASSIN),
        (
            headers::first(headers, "X-Spam-Score").and_then(number),
            SPAMASSASSIN,
        ),
        (spamd.and_then(spamd_score), RSPAMD),
        (
            headers::first(headers, "X-Rspamd-Score").and_then(number),
            RSPAMD,
        ),
    ];
    let verdict = verdicts.into_iter().find_map(|(v, m)| v.map(|v| (v, m)));
    let score = scores.into_iter().find_map(|(s, m)| s.map(|s| (s, m)));
    Upstream {
        is_spam: verdict.map(|(v, _)| v),
        score: score.map(|(s, _)| s),
        method: verdict.map(|(_, m)| m).or(score.map(|(_, m)| m)),
    }
}

/// `Yes`/`No` (and `True`/`False`), any case, surrounding punctuation ignored.
fn yes_no(text: &str) -> Option<bool> {
    let word = first_word(text);
    if word.eq_ignore_ascii_case("yes") || word.eq_ignore_ascii_case("true") {
        Some(true)
    } else if word.eq_ignore_ascii_case("no") || word.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The first word of `text`, without trailing punctuation.
fn first_word(text: &str) -> &str {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .find(|w| !w.is_empty())
        .unwrap_or_default()
}

/// The first number of `text` (`-0.099`, `5.5 (+++++)`), when finite.
fn number(text: &str) -> Option<f32> {
    let token = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '[' | ']' | '/' | '('))
        .find(|w| !w.is_empty())?;
    token.parse::<f32>().ok().filter(|n| n.is_finite())
}

/// `score=7.2` or `hits=7.2` in an X-Spam-Status value.
fn status_score(status: &str) -> Option<f32> {
    status
        .split(|c: char| c.is_whitespace() || c == ',')
        .find_map(|item| {
            let (key, value) = item.split_once('=')?;
            (key.eq_ignore_ascii_case("score") || key.eq_ignore_ascii_case("hits"))
                .then(|| number(value))
                .flatten()
        })
}

/// `default: True [...]`: the verdict of rspamd's default settings.
fn spamd_verdict(result: &str) -> Option<bool> {
    let rest = result.trim().split_once(':').map(|(_, r)| r)?;
    yes_no(rest)
}

/// `default: False [-0.70 / 15.00]`: the first number inside the brackets.
fn spamd_score(result: &str) -> Option<f32> {
    let open = result.find('[')?;
    number(&result[open + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<Header> {
        pairs
            .iter()
            .map(|(n, v)| Header {
                name: (*n).into(),
                value: (*v).into(),
            })
            .collect()
    }

    #[test]
    fn spamassassin() {
        let up = upstream(&h(&[
            ("X-Spam-Flag", "YES"),
            (
                "X-Spam-Status",
                "Yes, score=7.2 required=5.0 tests=BAYES_99,HTML_MESSAGE",
            ),
        ]));
        assert_eq!(
            up,
            Upstream {
                is_spam: Some(true),
                score: Some(7.2),
                method: Some(SPAMASSASSIN)
            }
        );
        let up = upstream(&h(&[
            ("X-Spam-Score", "-0.099"),
            (
                "X-Spam-Status",
                "No, score=-0.099 tagged_above=-999 required=4.2",
            ),
        ]));
        assert_eq!(up.is_spam, Some(false));
        assert_eq!(up.score, Some(-0.099));
        assert_eq!(
            upstream(&h(&[("X-Spam-Status", "No, hits=1.5 required=5.0")])).score,
            Some(1.5)
        );
    }

    #[test]
    fn rspamd() {
        let up = upstream(&h(&[(
            "X-Spamd-Result",
            "default: False [-0.70 / 15.00]; ARC_NA(0.00)[]; MIME_GOOD(-0.10)[text/plain]",
        )]));
        assert_eq!(
            up,
            Upstream {
                is_spam: Some(false),
                score: Some(-0.7),
                method: Some(RSPAMD)
            }
        );
        let up = upstream(&h(&[("X-Spam", "Yes"), ("X-Rspamd-Score", "16.5")]));
        assert_eq!(
            up,
            Upstream {
                is_spam: Some(true),
                score: Some(16.5),
                method: Some(RSPAMD)
            }
        );
    }

    #[test]
    fn nothing_or_garbage() {
        assert_eq!(upstream(&[]), Upstream::default());
        let up = upstream(&h(&[
            ("X-Spam-Flag", "maybe"),
            ("X-Spam-Score", "nan"),
            ("X-Spam-Level", "****"),
        ]));
        assert_eq!(up, Upstream::default());
    }
}
