//! The content heuristics that read text: capital letters, exclamation marks, spam
//! phrases and offers of money. Each takes plain strings and answers what it found
//! (for the rule's detail), or none.

/// The phrases `SPAM_PHRASES` looks for, lower case, single-spaced. Each is common in
/// unsolicited bulk mail (advance-fee fraud, phishing, pharmacy, get-rich offers) and
/// rare in personal or list mail; each found adds the rule's (small) weight.
pub const SPAM_PHRASES: &[&str] = &[
    "100% free",
    "100% safe",
    "act now",
    "bank details",
    "beneficiary",
    "business proposal",
    "cash prize",
    "claim your",
    "click here",
    "confidential transaction",
    "confirm your password",
    "congratulations",
    "dear friend",
    "double your",
    "earn money",
    "immediate attention",
    "inheritance",
    "kindly furnish",
    "limited time offer",
    "lottery",
    "make money fast",
    "money transfer",
    "next of kin",
    "no credit check",
    "risk-free",
    "security alert",
    "strictly confidential",
    "united nations",
    "united states dollars",
    "urgent",
    "verify your account",
    "viagra",
    "western union",
    "wire transfer",
    "you have been selected",
    "you have won",
    "your account has been",
];

/// Words that, next to a large sum of money, make an offer of money
/// (`MONEY_OFFER`): the vocabulary of advance-fee fraud and prize scams.
const TRANSFER_WORDS: &[&str] = &[
    "beneficiary",
    "claim",
    "compensation",
    "consignment",
    "deceased",
    "funds",
    "inheritance",
    "lottery",
    "next of kin",
    "prize",
    "remit",
    "transfer",
];

/// Currency marks that may precede an amount, and words that may follow one.
const CURRENCY_BEFORE: &[&str] = &["$", "€", "£", "usd", "eur", "gbp"];
const CURRENCY_AFTER: &[&str] = &["usd", "eur", "gbp", "dollars", "euros", "pounds"];

/// `text` lower case with every run of whitespace made one space, so that phrases
/// match across line breaks.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let start = out.len();
        if word.is_ascii() {
            // In place: no string per word (most words of most mail).
            out.push_str(word);
            out[start..].make_ascii_lowercase();
        } else {
            // `str::to_lowercase` knows a word-final capital sigma.
            out.push_str(&word.to_lowercase());
        }
    }
    out
}

/// `(capitals, letters)` when `subject` has at least 8 cased letters of which at
/// least 80% are capitals.
pub fn mostly_capitals(subject: &str) -> Option<(usize, usize)> {
    let letters = subject
        .chars()
        .filter(|c| c.is_uppercase() || c.is_lowercase());
    let (upper, total) = letters.fold((0, 0), |(u, t), c| {
        (u + usize::from(c.is_uppercase()), t + 1)
    });
    (total >= 8 && upper * 5 >= total * 4).then_some((upper, total))
}

/// Why the exclamation marks are many: two or more in the subject, a run of three
/// (`!!!`) in the body, or ten or more in the body.
pub fn many_exclamations(subject: &str, body: &str) -> Option<String> {
    let in_subject = subject.matches('!').count();
    if in_subject >= 2 {
        return Some(format!("{in_subject} exclamation marks in the subject"));
    }
    if body.contains("!!!") {
        return Some("a run of exclamation marks (`!!!`) in the body".to_owned());
    }
    let in_body = body.matches('!').count();
    (in_body >= 10).then(|| format!("{in_body} exclamation marks in the body"))
}

/// The spam phrases in `normalized` (see [`normalize`]), at most `max`, in table order.
pub fn spam_phrases(normalized: &str, max: usize) -> Vec<&'static str> {
    let found = occurring(normalized, SPAM_PHRASES);
    SPAM_PHRASES
        .iter()
        .zip(found)
        .filter_map(|(p, found)| found.then_some(*p))
        .take(max)
        .collect()
}

/// Which of `needles` occur in `text`, in one pass over it: each position is
/// compared only with the needles that start with its byte. The same answers as
/// `needles.map(|n| text.contains(n))`, without a scan of the text per needle (a
/// sandboxed guest has no SIMD substring search to make those scans cheap).
pub fn occurring(text: &str, needles: &[&str]) -> Vec<bool> {
    let mut found = vec![false; needles.len()];
    let mut by_first: [Vec<usize>; 256] = std::array::from_fn(|_| Vec::new());
    for (i, needle) in needles.iter().enumerate() {
        match needle.as_bytes().first() {
            Some(&b) => by_first[usize::from(b)].push(i),
            None => found[i] = true,
        }
    }
    let bytes = text.as_bytes();
    let mut left = found.iter().filter(|f| !**f).count();
    for (at, &b) in bytes.iter().enumerate() {
        if left == 0 {
            break;
        }
        let candidates = &by_first[usize::from(b)];
        if candidates.is_empty() {
            continue;
        }
        // The second byte rules out most candidates without a `memcmp` call, which
        // a guest makes byte by byte.
        let next = bytes.get(at + 1).copied();
        for &i in candidates {
            let needle = needles[i].as_bytes();
            if !found[i]
                && needle.get(1).is_none_or(|&n| Some(n) == next)
                && bytes[at..].starts_with(needle)
            {
                found[i] = true;
                left -= 1;
            }
        }
    }
    found
}

/// A large sum (at least 100,000 in a currency, or `million` next to one) together
/// with money-transfer vocabulary, in `normalized` text: the sum and the word found.
pub fn money_offer(normalized: &str) -> Option<(String, &'static str)> {
    let word = TRANSFER_WORDS
        .iter()
        .zip(occurring(normalized, TRANSFER_WORDS))
        .find_map(|(w, found)| found.then_some(*w))?;
    let sum = large_sum(normalized)?;
    Some((sum, word))
}

/// The first large sum of money in `normalized`.
fn large_sum(normalized: &str) -> Option<String> {
    for (start, _) in normalized.match_indices("million") {
        let window = around(normalized, start, 30, 40);
        if CURRENCY_AFTER
            .iter()
            .chain(CURRENCY_BEFORE)
            .any(|c| window.contains(c))
        {
            return Some(million_phrase(normalized, start));
        }
    }
    let bytes = normalized.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || matches!(bytes[i], b',' | b'.')) {
            i += 1;
        }
        let number = normalized[start..i].trim_end_matches([',', '.']);
        if whole_digits(number) >= 6 {
            let before = around(normalized, start, 5, 0);
            let after = around(normalized, i, 0, 25);
            if CURRENCY_BEFORE.iter().any(|c| before.contains(c))
                || CURRENCY_AFTER.iter().any(|c| after.contains(c))
            {
                return Some(number.to_owned());
            }
        }
    }
    None
}

/// The words around the `million` at `start`: the word before it, then the words up
/// to the first currency word (at most four), e.g. `twenty-five million united states
/// dollars`.
fn million_phrase(normalized: &str, start: usize) -> String {
    let mut words: Vec<&str> = normalized[..start]
        .split_whitespace()
        .last()
        .into_iter()
        .collect();
    for word in normalized[start..].split_whitespace().take(4) {
        words.push(word);
        if CURRENCY_AFTER
            .iter()
            .chain(CURRENCY_BEFORE)
            .any(|c| word.contains(c))
        {
            break;
        }
    }
    words.join(" ")
}

/// The digits of the whole part of `number` (`920,000.00` → 6, `1.500.000` → 7).
fn whole_digits(number: &str) -> usize {
    let whole = match number.rfind(['.', ',']) {
        Some(at) if number.len() - at - 1 == 2 => &number[..at],
        _ => number,
    };
    whole.bytes().filter(u8::is_ascii_digit).count()
}

/// The text from `before` bytes before `at` to `after` bytes after it, widened to
/// character boundaries.
fn around(text: &str, at: usize, before: usize, after: usize) -> &str {
    let mut start = at.saturating_sub(before);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + after).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    &text[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitals() {
        assert_eq!(
            mostly_capitals("URGENT BUSINESS ASSISTANCE NEEDED"),
            Some((30, 30))
        );
        assert_eq!(mostly_capitals("FREE OFFER for you"), None);
        assert_eq!(mostly_capitals("OK 2024!!"), None, "too few letters");
        assert_eq!(mostly_capitals("À LA UNE"), None, "8 letters needed");
        assert_eq!(mostly_capitals("ÉTÉ À PARIS"), Some((9, 9)));
        assert_eq!(mostly_capitals("Re: [PATCH] fix the build"), None);
    }

    #[test]
    fn exclamations() {
        assert!(many_exclamations("Win now!!", "").is_some());
        assert!(many_exclamations("Hello!", "Great!!! Thanks").is_some());
        assert!(many_exclamations("Hello!", &"Yes! ".repeat(10)).is_some());
        assert_eq!(many_exclamations("Hello!", &"Yes! ".repeat(9)), None);
        assert_eq!(many_exclamations("Hi", "Thanks!"), None);
    }

    #[test]
    fn phrases_are_found_across_lines_and_capped() {
        let text = normalize("Dear  Friend,\nplease CLICK\n here for your cash prize");
        assert_eq!(text, "dear friend, please click here for your cash prize");
        assert_eq!(
            spam_phrases(&text, 10),
            ["cash prize", "click here", "dear friend"]
        );
        assert_eq!(spam_phrases(&text, 2).len(), 2);
        assert!(spam_phrases("the build is fixed", 10).is_empty());
    }

    #[test]
    fn money_offers_need_a_large_sum_and_transfer_words() {
        let fraud = normalize("a total amount of $920,000.00 ... the transfer of your funds");
        assert_eq!(money_offer(&fraud), Some(("920,000.00".into(), "funds")));
        let million = normalize("Twenty-Five Million United States Dollars to claim");
        let phrase = money_offer(&million).map(|m| m.0);
        assert_eq!(
            phrase.as_deref(),
            Some("twenty-five million united states dollars")
        );
        let after = normalize("1.500.000 EUR for the beneficiary");
        assert_eq!(
            money_offer(&after).map(|m| m.0).as_deref(),
            Some("1.500.000")
        );
        assert_eq!(
            money_offer(&normalize("transfer $99,000.00")),
            None,
            "not large"
        );
        assert_eq!(
            money_offer(&normalize("transfer 4,000,000 bytes")),
            None,
            "no currency"
        );
        assert_eq!(
            money_offer(&normalize("we raised $2,000,000")),
            None,
            "no transfer words"
        );
        assert_eq!(money_offer(&normalize("funds: a million thanks")), None);
    }

    #[test]
    fn one_pass_search_agrees_with_contains() {
        let needles = [
            "",
            "a",
            "ab",
            "abc",
            "b",
            "bca",
            "zz",
            "é",
            "€ 5",
            "union",
            "united nations",
        ];
        for text in [
            "",
            "a",
            "abcabc",
            "xbca",
            "prize: € 5 from the united nations",
            "unitedunion",
            "éé",
        ] {
            let expected: Vec<bool> = needles.iter().map(|n| text.contains(n)).collect();
            assert_eq!(occurring(text, &needles), expected, "in {text:?}");
        }
    }

    #[test]
    fn normalize_agrees_with_lowercasing_each_word() {
        for text in [
            "",
            "  \t\r\n ",
            "One  TWO\r\n\tthree ",
            "ΟΔΟΣ ΣΑΣ Σ",
            "Straße ÉTÉ mixed ASCII",
            "\u{a0}nbsp\u{2003}em space",
        ] {
            let expected = text
                .split_whitespace()
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(normalize(text), expected, "for {text:?}");
        }
    }

    #[test]
    fn around_respects_char_boundaries() {
        let text = "ééé million ééé";
        assert!(around(text, 7, 3, 3).contains("mi"));
        assert_eq!(whole_digits("920,000.00"), 6);
        assert_eq!(whole_digits("1.500.000"), 7);
    }
}
