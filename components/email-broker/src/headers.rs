//! Looking header fields up by name in `parsed-mail.headers` (decoded, unfolded, in
//! the order of the mail: the most recent trace fields first).

use crate::Header;

/// The values of every field named `name` (ASCII case-insensitive), in order.
pub(crate) fn all<'h>(headers: &'h [Header], name: &'h str) -> impl Iterator<Item = &'h str> {
    headers
        .iter()
        .filter(move |h| h.name.trim().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The trimmed value of the first field named `name`, when it is not blank.
pub(crate) fn first<'h>(headers: &'h [Header], name: &'h str) -> Option<&'h str> {
    all(headers, name).map(str::trim).find(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn lookups_ignore_case_and_blank_values() {
        let headers = [
            h("X-Mailer", " "),
            h("x-mailer", "Mutt"),
            h("Received", "a"),
        ];
        assert_eq!(first(&headers, "X-MAILER"), Some("Mutt"));
        assert_eq!(all(&headers, "x-mailer").count(), 2);
        assert_eq!(all(&headers, "received").count(), 1);
    }
}
