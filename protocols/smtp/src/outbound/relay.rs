//! One relay, through lettre's SMTP transport.

use std::time::Duration;

use caliopen_core::outbound::OutboundJob;
use caliopen_core::outbound::queue::RelayOutcome;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::settings::{OutboundSettings, RelayTls};
use crate::InboundError;

/// A configured relay.
#[derive(Debug)]
pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    name: String,
}

impl Relay {
    /// The relay of the settings, or none when no relay is configured.
    pub fn new(settings: &OutboundSettings) -> Result<Option<Self>, InboundError> {
        if settings.relay.trim().is_empty() {
            return Ok(None);
        }
        let bad = |m: String| InboundError::Settings(format!("[outbound] {m}"));
        let (host, port) = settings
            .relay
            .rsplit_once(':')
            .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_owned(), p)))
            .ok_or_else(|| bad(format!("relay `{}` must be host:port", settings.relay)))?;
        let mut tls = TlsParameters::builder(host.clone());
        if let Some(ca) = &settings.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| bad(format!("cannot read ca_file {}: {e}", ca.display())))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| bad(format!("ca_file {}: {e}", ca.display())))?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls.build_rustls().map_err(|e| bad(format!("TLS: {e}")))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(settings.timeout.max(1))))
            .hello_name(ClientId::Domain(settings.hello_name.clone()))
            .tls(match settings.tls {
                RelayTls::None => Tls::None,
                RelayTls::Starttls => Tls::Required(tls),
                RelayTls::Tls => Tls::Wrapper(tls),
            });
        if !settings.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                settings.username.clone(),
                settings.password.clone(),
            ));
        }
        Ok(Some(Self {
            transport: builder.build(),
            name: settings.relay.clone(),
        }))
    }

    /// Hands one message to the relay.
    #[tracing::instrument(skip_all, fields(relay = %self.name, job = %job.id))]
    pub async fn send(&self, job: &OutboundJob, raw: &[u8]) -> RelayOutcome {
        let envelope = match envelope(job) {
            Ok(e) => e,
            Err(reason) => return RelayOutcome::Permanent(reason),
        };
        // lettre ends DATA with CRLF "." CRLF whatever the message ends with; the
        // message's own final CRLF is that sequence's first one (RFC 5321 4.1.1.4),
        // so the relay receives exactly the stored bytes.
        let raw = raw.strip_suffix(b"\r\n").unwrap_or(raw);
        match self.transport.send_raw(&envelope, raw).await {
            Ok(_) => RelayOutcome::Sent,
            Err(e) if e.is_permanent() => {
                RelayOutcome::Permanent(format!("the relay refused the message: {e}"))
            }
            Err(e) => RelayOutcome::Transient(format!("relay {}: {e}", self.name)),
        }
    }
}

fn envelope(job: &OutboundJob) -> Result<Envelope, String> {
    let parse = |a: &str| {
        a.parse::<Address>()
            .map_err(|e| format!("`{a}` is not a deliverable address: {e}"))
    };
    let from = parse(&job.envelope_from)?;
    let to = job
        .recipients
        .iter()
        .map(|r| parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(Some(from), to).map_err(|e| format!("invalid envelope: {e}"))
}
