//! Encryption and signature schemes, from the MIME tree and the plain body:
//! - PGP/MIME (RFC 3156): `multipart/encrypted; protocol="application/pgp-encrypted"`
//!   (or an `application/pgp-encrypted` part left alone by a server that rewrote the
//!   multipart), and `multipart/signed; protocol="application/pgp-signature"`;
//! - S/MIME (RFC 8551): `application/(x-)pkcs7-mime` with `smime-type`
//!   `enveloped-data` or `authEnveloped-data` (encrypted; absent `smime-type` is
//!   taken as enveloped, as old clients wrote it), `signed-data` (opaque signature),
//!   and `multipart/signed` with protocol `application/(x-)pkcs7-signature`;
//! - inline PGP: an armour line `-----BEGIN PGP MESSAGE-----` or
//!   `-----BEGIN PGP SIGNED MESSAGE-----` at the start of a line of the plain body.
//!
//! The outermost scheme found (depth-first order) wins.

use crate::{CryptoScheme, MimePart, ParsedMail};

/// The schemes found.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Crypto {
    pub encryption: Option<CryptoScheme>,
    pub signature: Option<CryptoScheme>,
}

/// Finds the encryption and signature schemes of `mail`.
pub(crate) fn detect(mail: &ParsedMail) -> Crypto {
    let mut found = Crypto::default();
    for part in &mail.parts {
        let (encryption, signature) = scheme_of(part);
        if found.encryption.is_none() {
            found.encryption = encryption;
        }
        if found.signature.is_none() {
            found.signature = signature;
        }
    }
    if let Some(plain) = &mail.body_plain {
        if found.encryption.is_none() && has_armour(plain, "-----BEGIN PGP MESSAGE-----") {
            found.encryption = Some(CryptoScheme::PgpInline);
        }
        if found.signature.is_none() && has_armour(plain, "-----BEGIN PGP SIGNED MESSAGE-----") {
            found.signature = Some(CryptoScheme::PgpInline);
        }
    }
    found
}

/// The encryption and signature one MIME node announces.
fn scheme_of(part: &MimePart) -> (Option<CryptoScheme>, Option<CryptoScheme>) {
    let protocol = param(part, "protocol")
        .unwrap_or_default()
        .to_ascii_lowercase();
    match part.content_type.as_str() {
        "multipart/encrypted" if protocol == "application/pgp-encrypted" => {
            (Some(CryptoScheme::PgpMime), None)
        }
        "application/pgp-encrypted" => (Some(CryptoScheme::PgpMime), None),
        "multipart/signed" => match protocol.as_str() {
            "application/pgp-signature" => (None, Some(CryptoScheme::PgpMime)),
            "application/pkcs7-signature" | "application/x-pkcs7-signature" => {
                (None, Some(CryptoScheme::Smime))
            }
            _ => (None, None),
        },
        "application/pkcs7-mime" | "application/x-pkcs7-mime" => {
            let smime_type = param(part, "smime-type")
                .unwrap_or_default()
                .to_ascii_lowercase();
            match smime_type.as_str() {
                "" | "enveloped-data" | "authenveloped-data" => (Some(CryptoScheme::Smime), None),
                "signed-data" => (None, Some(CryptoScheme::Smime)),
                _ => (None, None),
            }
        }
        _ => (None, None),
    }
}

/// A Content-Type parameter of `part`, by lower-case name, trimmed.
fn param<'p>(part: &'p MimePart, name: &str) -> Option<&'p str> {
    part.params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
}

/// True when `armour` starts a line of `text` (leading spaces allowed).
fn has_armour(text: &str, armour: &str) -> bool {
    text.lines()
        .any(|line| line.trim_start().starts_with(armour))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(content_type: &str, params: &[(&str, &str)]) -> MimePart {
        MimePart {
            depth: 0,
            content_type: content_type.into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            size: 0,
        }
    }

    #[test]
    fn mime_schemes() {
        let cases = [
            (
                part(
                    "multipart/encrypted",
                    &[("protocol", "application/pgp-encrypted")],
                ),
                (Some(CryptoScheme::PgpMime), None),
            ),
            (
                part(
                    "multipart/signed",
                    &[("protocol", "Application/PGP-Signature")],
                ),
                (None, Some(CryptoScheme::PgpMime)),
            ),
            (
                part(
                    "multipart/signed",
                    &[("protocol", "application/x-pkcs7-signature")],
                ),
                (None, Some(CryptoScheme::Smime)),
            ),
            (
                part(
                    "application/pkcs7-mime",
                    &[("smime-type", "enveloped-data")],
                ),
                (Some(CryptoScheme::Smime), None),
            ),
            (
                part("application/x-pkcs7-mime", &[("name", "smime.p7m")]),
                (Some(CryptoScheme::Smime), None),
            ),
            (
                part("application/pkcs7-mime", &[("smime-type", "signed-data")]),
                (None, Some(CryptoScheme::Smime)),
            ),
            (part("multipart/signed", &[]), (None, None)),
            (part("text/plain", &[]), (None, None)),
        ];
        for (part, expected) in cases {
            assert_eq!(scheme_of(&part), expected, "{part:?}");
        }
    }

    #[test]
    fn armour_at_line_start_only() {
        assert!(has_armour(
            "hi\n-----BEGIN PGP MESSAGE-----\nabc",
            "-----BEGIN PGP MESSAGE-----"
        ));
        assert!(!has_armour(
            "say \"-----BEGIN PGP MESSAGE-----\"",
            "-----BEGIN PGP MESSAGE-----"
        ));
    }
}
