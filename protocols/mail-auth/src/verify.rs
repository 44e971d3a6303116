//! One mail's verification: DKIM signatures, SPF of the envelope sender (or of
//! the HELO name for bounces), DMARC of the From domain, written as the value of
//! an `Authentication-Results` field.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use mail_auth::common::headers::HeaderWriter;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::Dmarc;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::spf::Spf;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimOutput, DkimResult, DmarcResult, MX,
    MessageAuthenticator, Parameters, RecordSet, ResolverCache, SpfOutput, SpfResult, Txt,
};

use crate::cache::BoundedCache;
use crate::{Error, Settings};

/// Signatures verified per mail at most: each may ask for a body hash of its own
/// (`l=`), so a mail with thousands would cost thousands of passes over its body.
/// Mail with more is not DKIM-verified at all (`permerror`).
pub const MAX_SIGNATURES: usize = 8;

/// What the SMTP client said about itself, for SPF.
#[derive(Debug, Clone, Copy, Default)]
pub struct Envelope<'a> {
    /// The client's address; none when unknown (then SPF is `none`).
    pub client_ip: Option<IpAddr>,
    /// The EHLO/HELO name.
    pub helo: &'a str,
    /// The envelope sender (`MAIL FROM`), empty for bounces.
    pub mail_from: &'a str,
}

/// The results of one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    /// The value of the `Authentication-Results` field (RFC 8601), unfolded,
    /// starting with the authserv-id.
    pub header_value: String,
    /// `pass`, `fail`, `temperror`, ... of each method (`none` when not checked).
    pub dkim: &'static str,
    pub spf: &'static str,
    pub dmarc: &'static str,
    /// The `d=` domains of the signatures that verified.
    pub dkim_domains: Vec<String>,
}

impl AuthResults {
    fn none(authserv_id: &str, reason: &str) -> Self {
        Self {
            header_value: format!("{authserv_id}; none ({reason})"),
            dkim: "none",
            spf: "none",
            dmarc: "none",
            dkim_domains: Vec::new(),
        }
    }

    fn temperror(authserv_id: &str, reason: &str) -> Self {
        Self {
            header_value: format!(
                "{authserv_id}; dkim=temperror ({reason}); spf=temperror ({reason}); dmarc=temperror ({reason})"
            ),
            dkim: "temperror",
            spf: "temperror",
            dmarc: "temperror",
            dkim_domains: Vec::new(),
        }
    }
}

/// The DNS caches of every verification.
struct Caches {
    txt: BoundedCache<Box<str>, Txt>,
    mx: BoundedCache<Box<str>, RecordSet<MX>>,
    ipv4: BoundedCache<Box<str>, RecordSet<Ipv4Addr>>,
    ipv6: BoundedCache<Box<str>, RecordSet<Ipv6Addr>>,
    ptr: BoundedCache<IpAddr, RecordSet<Box<str>>>,
}

struct Dns {
    authenticator: MessageAuthenticator,
    caches: Caches,
}

/// Verifies mail; one for the whole process (its caches are shared).
pub struct Verifier {
    authserv_id: String,
    dns: Option<Dns>,
    timeout: Duration,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("authserv_id", &self.authserv_id)
            .field("enabled", &self.dns.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Verifier {
    /// A verifier as `settings` say; `authserv_id` names this server in the results.
    pub fn new(authserv_id: &str, settings: &Settings) -> Result<Self, Error> {
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        if !settings.enabled {
            return Ok(Self::disabled(authserv_id));
        }
        let (config, mut options) = if settings.nameservers.is_empty() {
            mail_auth::hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| Error::SystemConf(e.to_string()))?
        } else {
            let servers = settings
                .nameservers
                .iter()
                .map(|s| name_server(s))
                .collect::<Result<Vec<_>, _>>()?;
            (
                ResolverConfig::from_name_servers(servers),
                ResolverOpts::default(),
            )
        };
        // One query waits at most the mail's whole budget, and is tried twice.
        options.timeout = options.timeout.min(timeout);
        options.attempts = options.attempts.min(2);
        // Answers are cached here, bounded; the resolver keeps none of its own.
        options.cache_size = 0;
        let authenticator = MessageAuthenticator::new(config, options)
            .map_err(|e| Error::Resolver(e.to_string()))?;
        let n = settings.cache_entries;
        Ok(Self {
            authserv_id: authserv_id.to_owned(),
            dns: Some(Dns {
                authenticator,
                caches: Caches {
                    txt: BoundedCache::new(n),
                    mx: BoundedCache::new(n),
                    ipv4: BoundedCache::new(n),
                    ipv6: BoundedCache::new(n),
                    ptr: BoundedCache::new(n),
                },
            }),
            timeout,
        })
    }

    /// A verifier that checks nothing: every mail gets `none`.
    pub fn disabled(authserv_id: &str) -> Self {
        Self {
            authserv_id: authserv_id.to_owned(),
            dns: None,
            timeout: Duration::from_secs(1),
        }
    }

    /// A verifier whose cache holds these TXT records (`name`, `text`) for good:
    /// offline tests answer from them, and anything else from `settings`' name
    /// servers.
    pub fn with_records(
        authserv_id: &str,
        settings: &Settings,
        records: &[(&str, &str)],
    ) -> Result<Self, Error> {
        let verifier = Self::new(authserv_id, settings)?;
        if let Some(dns) = &verifier.dns {
            let forever = Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600);
            for (name, text) in records {
                let bad = |reason: String| Error::Record {
                    name: (*name).to_owned(),
                    reason,
                };
                let txt: Txt = if text.starts_with("v=spf1") {
                    Spf::parse(text.as_bytes())
                        .map_err(|e| bad(e.to_string()))?
                        .into()
                } else if text.starts_with("v=DMARC1") {
                    Dmarc::parse(text.as_bytes())
                        .map_err(|e| bad(e.to_string()))?
                        .into()
                } else {
                    DomainKey::parse(text.as_bytes())
                        .map_err(|e| bad(e.to_string()))?
                        .into()
                };
                let fqdn = format!("{}.", name.trim_end_matches('.').to_ascii_lowercase());
                dns.caches.txt.insert(fqdn.into_boxed_str(), txt, forever);
            }
        }
        Ok(verifier)
    }

    pub fn authserv_id(&self) -> &str {
        &self.authserv_id
    }

    /// Verifies `raw`; never fails (see the module docs).
    #[tracing::instrument(skip_all, fields(size = raw.len()))]
    pub async fn verify(&self, raw: &[u8], envelope: &Envelope<'_>) -> AuthResults {
        let Some(dns) = &self.dns else {
            return AuthResults::none(&self.authserv_id, "verification is disabled");
        };
        let headers_end = header_section_end(raw);
        let too_many = count_signatures(&raw[..headers_end]) > MAX_SIGNATURES;
        // With too many signatures only the header section is parsed: no body hash.
        let input = if too_many { &raw[..headers_end] } else { raw };
        let Some(message) = AuthenticatedMessage::parse(input) else {
            return AuthResults::none(&self.authserv_id, "no header section");
        };
        match tokio::time::timeout(self.timeout, self.run(dns, &message, envelope, too_many)).await
        {
            Ok(results) => results,
            Err(_) => {
                tracing::info!(
                    timeout_ms = self.timeout.as_millis() as u64,
                    "mail authentication timed out"
                );
                AuthResults::temperror(&self.authserv_id, "timed out")
            }
        }
    }

    async fn run(
        &self,
        dns: &Dns,
        message: &AuthenticatedMessage<'_>,
        envelope: &Envelope<'_>,
        too_many: bool,
    ) -> AuthResults {
        let c = &dns.caches;
        let auth = &dns.authenticator;
        let dkim: Vec<DkimOutput<'_>> = if too_many {
            Vec::new()
        } else {
            auth.verify_dkim(
                Parameters::new(message)
                    .with_txt_cache(&c.txt)
                    .with_mx_cache(&c.mx)
                    .with_ipv4_cache(&c.ipv4)
                    .with_ipv6_cache(&c.ipv6)
                    .with_ptr_cache(&c.ptr),
            )
            .await
        };
        let helo = envelope.helo.trim();
        let mail_from = envelope.mail_from.trim();
        let spf = match envelope.client_ip {
            Some(ip) => {
                let params = if mail_from.is_empty() {
                    SpfParameters::verify_ehlo(ip, helo, &self.authserv_id)
                } else {
                    SpfParameters::verify_mail_from(ip, helo, &self.authserv_id, mail_from)
                };
                auth.verify_spf(
                    Parameters::new(params)
                        .with_txt_cache(&c.txt)
                        .with_mx_cache(&c.mx)
                        .with_ipv4_cache(&c.ipv4)
                        .with_ipv6_cache(&c.ipv6)
                        .with_ptr_cache(&c.ptr),
                )
                .await
            }
            None => SpfOutput::new(String::new()),
        };
        let mail_from_domain = mail_from
            .rsplit_once('@')
            .map_or(helo, |(_, domain)| domain);
        let dmarc = auth
            .verify_dmarc(
                Parameters::new(DmarcParameters::new(message, &dkim, mail_from_domain, &spf))
                    .with_txt_cache(&c.txt)
                    .with_mx_cache(&c.mx)
                    .with_ipv4_cache(&c.ipv4)
                    .with_ipv6_cache(&c.ipv6)
                    .with_ptr_cache(&c.ptr),
            )
            .await;
        let from_domain = message
            .from
            .first()
            .and_then(|f| f.rsplit_once('@'))
            .map_or("", |(_, d)| d);
        let mut header = AuthenticationResults::new(&self.authserv_id);
        if too_many {
            // Written by hand below: mail-auth has no word for "not tried".
        } else {
            header = header.with_dkim_results(&dkim, from_domain);
        }
        if let Some(ip) = envelope.client_ip {
            header = if mail_from.is_empty() {
                header.with_spf_ehlo_result(&spf, ip, helo)
            } else {
                header.with_spf_mailfrom_result(&spf, ip, mail_from, helo)
            };
        }
        header = header.with_dmarc_result(&dmarc);
        let mut value = unfold(&header.to_header());
        if too_many {
            value = value.replacen(
                ';',
                &format!("; dkim=permerror (more than {MAX_SIGNATURES} signatures);"),
                1,
            );
        }
        AuthResults {
            header_value: value,
            dkim: if too_many {
                "permerror"
            } else {
                dkim_summary(&dkim)
            },
            spf: spf_word(spf.result()),
            dmarc: dmarc_word(&dmarc.result()),
            dkim_domains: passing_domains(&dkim),
        }
    }
}

/// `IP` or `IP:port` of a name server (UDP, with TCP for long answers).
fn name_server(text: &str) -> Result<NameServerConfig, Error> {
    let bad = || Error::NameServer(text.to_owned());
    let address: SocketAddr = match text.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, 53),
        Err(_) => text.parse().map_err(|_| bad())?,
    };
    let mut server = NameServerConfig::udp_and_tcp(address.ip());
    for connection in &mut server.connections {
        connection.port = address.port();
    }
    Ok(server)
}

/// The offset where the body starts (after the blank line), or the end.
fn header_section_end(raw: &[u8]) -> usize {
    let mut i = 0;
    while i < raw.len() {
        match raw[i..].iter().position(|&b| b == b'\n') {
            Some(n) => {
                let line = &raw[i..i + n];
                i += n + 1;
                if line.is_empty() || line == b"\r" {
                    return i;
                }
            }
            None => return raw.len(),
        }
    }
    raw.len()
}

fn count_signatures(headers: &[u8]) -> usize {
    headers
        .split(|&b| b == b'\n')
        .filter(|line| line.len() >= 15 && line[..15].eq_ignore_ascii_case(b"DKIM-Signature:"))
        .count()
}

/// The `Authentication-Results` value of a whole field, unfolded.
fn unfold(field: &str) -> String {
    let value = field
        .strip_prefix("Authentication-Results: ")
        .unwrap_or(field)
        .trim_end();
    value.replace("\r\n\t", " ").replace("\r\n ", " ")
}

fn dkim_summary(outputs: &[DkimOutput<'_>]) -> &'static str {
    if outputs.iter().any(|o| *o.result() == DkimResult::Pass) {
        return "pass";
    }
    outputs.first().map_or("none", |o| match o.result() {
        DkimResult::Pass => "pass",
        DkimResult::Neutral(_) => "neutral",
        DkimResult::Fail(_) => "fail",
        DkimResult::PermError(_) => "permerror",
        DkimResult::TempError(_) => "temperror",
        DkimResult::None => "none",
    })
}

fn passing_domains(outputs: &[DkimOutput<'_>]) -> Vec<String> {
    let mut domains: Vec<String> = Vec::new();
    for output in outputs.iter().filter(|o| *o.result() == DkimResult::Pass) {
        if let Some(signature) = output.signature() {
            let d = signature.d.to_ascii_lowercase();
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
    }
    domains
}

fn spf_word(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// DMARC's result as `mail-auth` writes it (either aligned identifier passing
/// is a pass; a published policy that nothing aligns with is a fail).
fn dmarc_word(result: &DmarcResult) -> &'static str {
    match result {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}
