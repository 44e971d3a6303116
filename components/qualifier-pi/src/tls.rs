//! The TLS version a broker reported for the last external hop, classified. Any text
//! is accepted: the broker writes OpenSSL's spelling (`TLSv1.3`), but other brokers,
//! older messages or hostile headers may give anything, and an unknown form is a
//! finding, not a failure (the original Caliopen's TLS scoring crashed on them).

/// A TLS (or SSL) protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    V13,
    V12,
    V11,
    V10,
    /// Old OpenSSL's `TLSv1/SSLv3` label: some TLS 1.x, or SSL 3.
    Legacy,
    /// SSL 2 or 3: broken protocols.
    Ssl,
    /// TLS was used but the text names no version we know (kept for the detail).
    Unknown(String),
}

/// Classifies `version`: `TLSv1.3`, `tls1_3`, `TLS 1.2`, `TLSv1`, `SSLv3`... any case.
pub fn classify(version: &str) -> Tls {
    let compact: String = version
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            if c == '_' {
                '.'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if compact == "tlsv1/sslv3" {
        return Tls::Legacy;
    }
    if let Some(number) = compact.strip_prefix("tlsv").or(compact.strip_prefix("tls")) {
        match number {
            "1.3" | "13" => return Tls::V13,
            "1.2" | "12" => return Tls::V12,
            "1.1" | "11" => return Tls::V11,
            "1" | "1.0" | "10" => return Tls::V10,
            _ => {}
        }
    }
    if compact
        .strip_prefix("sslv")
        .or(compact.strip_prefix("ssl"))
        .is_some_and(|n| matches!(n, "2" | "2.0" | "3" | "3.0"))
    {
        return Tls::Ssl;
    }
    Tls::Unknown(version.chars().take(40).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_spellings() {
        for (text, tls) in [
            ("TLSv1.3", Tls::V13),
            ("tls1_3", Tls::V13),
            ("TLS 1.2", Tls::V12),
            ("TLS1_2", Tls::V12),
            ("TLSv1.1", Tls::V11),
            ("TLSv1", Tls::V10),
            ("tls1.0", Tls::V10),
            ("TLSv1/SSLv3", Tls::Legacy),
            ("SSLv3", Tls::Ssl),
            ("sslv2", Tls::Ssl),
        ] {
            assert_eq!(classify(text), tls, "{text}");
        }
    }

    #[test]
    fn anything_else_is_unknown_never_a_crash() {
        assert_eq!(classify("TLSv1.4"), Tls::Unknown("TLSv1.4".into()));
        assert_eq!(classify(""), Tls::Unknown(String::new()));
        assert_eq!(classify("ESMTPS"), Tls::Unknown("ESMTPS".into()));
        let long = "x".repeat(1000);
        assert_eq!(classify(&long), Tls::Unknown("x".repeat(40)));
        assert!(matches!(classify("ééé\u{0}"), Tls::Unknown(_)));
    }
}
