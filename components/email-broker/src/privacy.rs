//! The `privacy-features` of an inbound mail: what the original Caliopen extracted
//! for its privacy index, with the defects of the original left out.
//!
//! `extra` carries, when known (names as the original used where it had them):
//! - `ingress_server`, `ingress_ip`, `ingress_protocol`: the `from` host, its IP and
//!   the `with` protocol of the ingress hop (see `received`);
//! - `ingress_tls`: `true` when that hop used TLS, even when it does not say which
//!   version (`with ESMTPS`), else `false`;
//! - `spam_method`: `spamassassin` or `rspamd`, the family of headers read;
//! - `dkim_domains`: the `d=` domains of the DKIM signatures the host verified,
//!   lower case, joined by `,`;
//! - `auth_dkim`, `auth_spf`, `auth_dmarc`: the host's results (`pass`, `fail`,
//!   `temperror`, `none`, ...; see `authentication`).
//!
//! `dkim-signed` means a signature the host verified, never the mere presence of
//! a `DKIM-Signature` field, which anyone can write.

use crate::domain::LocalDomain;
use crate::headers;
use crate::participants;
use crate::{ParsedMail, Participant, PrivacyFeatures, authentication, crypto, received, spam};

/// Builds the privacy features of `mail`, whose participants are already known.
pub(crate) fn features(
    mail: &ParsedMail,
    participants: &[Participant],
    local: &LocalDomain,
) -> PrivacyFeatures {
    let transport = received::transport(&mail.headers, local);
    let upstream = spam::upstream(&mail.headers);
    let crypto = crypto::detect(mail);
    let mut extra = Vec::new();
    if let Some(hop) = &transport.ingress {
        let pairs = [
            ("ingress_server", hop.from_host.clone()),
            ("ingress_ip", hop.from_ip.clone()),
            ("ingress_protocol", hop.protocol.clone()),
            ("ingress_tls", Some(hop.uses_tls().to_string())),
        ];
        extra.extend(
            pairs
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
        );
    }
    if let Some(method) = upstream.method {
        extra.push(("spam_method".to_string(), method.to_string()));
    }
    let verified = authentication::verified(&mail.headers);
    if !verified.dkim_domains.is_empty() {
        extra.push(("dkim_domains".to_string(), verified.dkim_domains.join(",")));
    }
    if verified.present {
        for (name, result) in [
            ("auth_dkim", &verified.dkim),
            ("auth_spf", &verified.spf),
            ("auth_dmarc", &verified.dmarc),
        ] {
            extra.push((name.to_string(), result.clone()));
        }
    }
    let ingress = transport.ingress.as_ref();
    PrivacyFeatures {
        transport_tls_version: ingress.and_then(|h| h.tls_version.clone()),
        transport_cipher: ingress.and_then(|h| h.cipher.clone()),
        external_hops: transport.external_hops,
        dkim_signed: verified.dkim_passed(),
        upstream_spam: upstream.is_spam,
        upstream_spam_score: upstream.score,
        encryption: crypto.encryption,
        signature: crypto.signature,
        mail_agent: headers::first(&mail.headers, "User-Agent")
            .or_else(|| headers::first(&mail.headers, "X-Mailer"))
            .map(str::to_string),
        is_internal: participants::is_internal(participants, local),
        extra,
    }
}
