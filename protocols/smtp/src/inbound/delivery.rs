//! What a session asks of core, and how core's answers become replies: recipients are
//! resolved at RCPT, the message is stored durably at the end of DATA, and only then is it
//! acknowledged. Every storage failure is a 451 4.3.0 so that the MTA keeps the mail and
//! retries; a message the spool could not keep is a 452 4.3.1 (too much in flight) or a
//! 451 4.3.0 (spool file not written), refused before anything is stored.

use std::collections::HashMap;
use std::mem;
use std::net::IpAddr;

use caliopen_core::delivery::accept::{Recipient, SmtpClient};
use caliopen_core::{Core, CoreError};
use caliopen_smtp_proto::{EnhancedCode, Envelope, Mode, Reply};
use tracing::{Instrument, Span};

use super::spool::{SpooledMail, Unspooled};

/// The core side of one connection: resolved recipients and the transaction's span.
#[derive(Debug)]
pub(super) struct Mailroom {
    core: Core,
    mode: Mode,
    /// Recipients accepted at RCPT, by address, until the next message. A client that
    /// resets transactions in a loop cannot grow it past `max_known`: it is then emptied,
    /// and the message's recipients are resolved again at the end of DATA.
    known: HashMap<String, Recipient>,
    max_known: usize,
    /// The span of the transaction in progress, opened at its first RCPT.
    transaction: Option<Span>,
    transactions: u64,
    /// The client's address, kept with its mail for SPF in SMTP mode (in LMTP mode
    /// the peer is the MTA in front, and its `Received` field names the client).
    peer: Option<IpAddr>,
}

impl Mailroom {
    pub(super) fn new(core: Core, mode: Mode, max_recipients: usize) -> Self {
        Self {
            core,
            mode,
            known: HashMap::new(),
            max_known: max_recipients.max(1),
            transaction: None,
            transactions: 0,
            peer: None,
        }
    }

    /// Keeps `peer` with each mail of an SMTP session.
    pub(super) fn with_peer(mut self, peer: IpAddr) -> Self {
        if self.mode == Mode::Smtp {
            self.peer = Some(peer);
        }
        self
    }

    /// The answer to `RCPT TO:<address>`: 250 for a local user, 550 5.1.1 for anyone else,
    /// 451 4.3.0 when core cannot tell.
    pub(super) async fn recipient(&mut self, address: &str) -> Reply {
        let span = self.transaction_span();
        let result = self
            .core
            .resolve_recipient(address)
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        match result {
            Ok(Some(recipient)) => {
                if self.known.len() >= self.max_known {
                    self.known.clear();
                }
                self.known.insert(address.to_owned(), recipient);
                tracing::debug!("recipient accepted");
                Reply::recipient_ok()
            }
            Ok(None) => {
                tracing::debug!("unknown recipient refused");
                Reply::no_such_user()
            }
            Err(error) => {
                tracing::warn!(%error, "recipient lookup failed");
                Reply::temporary_failure("Temporary lookup failure, try again later")
            }
        }
    }

    /// Stores the message for its recipients, then gives the replies the session expects:
    /// one per recipient in LMTP, one in SMTP. A 250 is given only once core has the mail
    /// durably.
    pub(super) async fn message(
        &mut self,
        envelope: Envelope,
        mail: Result<SpooledMail, Unspooled>,
    ) -> Vec<Reply> {
        let span = self.transaction_span();
        self.transaction = None;
        let known = mem::take(&mut self.known);
        self.deliver(envelope, mail, known).instrument(span).await
    }

    async fn deliver(
        &self,
        envelope: Envelope,
        mail: Result<SpooledMail, Unspooled>,
        known: HashMap<String, Recipient>,
    ) -> Vec<Reply> {
        let count = match self.mode {
            Mode::Lmtp => envelope.recipients.len(),
            Mode::Smtp => 1,
        };
        let every = |reply: Reply| vec![reply; count];
        let mail = match mail {
            Ok(mail) => mail,
            Err(Unspooled::Full) => {
                return every(Reply::new(
                    452,
                    EnhancedCode(4, 3, 1),
                    "Insufficient system storage, try again later",
                ));
            }
            Err(Unspooled::Failed) => {
                return every(Reply::temporary_failure(
                    "Temporary local failure, try again later",
                ));
            }
        };
        let resolved = match self.recipients(&envelope.recipients, known).await {
            Ok(resolved) => resolved,
            Err(error) => {
                tracing::warn!(%error, "recipient lookup failed at end of data");
                return every(Reply::temporary_failure(
                    "Temporary lookup failure, try again later",
                ));
            }
        };
        let targets: Vec<Recipient> = resolved.iter().flatten().cloned().collect();
        if targets.is_empty() {
            return every(Reply::no_such_user());
        }
        let size = envelope.size;
        let from = envelope.mail_from.to_string();
        let client = self.peer.map(|ip| SmtpClient {
            ip,
            helo: envelope.helo.clone(),
        });
        let accepted = self
            .core
            .accept_mail_from(mail.source, &from, client, &targets)
            .await;
        match accepted {
            Ok(deliveries) => {
                tracing::info!(
                    size,
                    recipients = targets.len(),
                    deliveries = deliveries.len(),
                    tls = envelope.tls,
                    "mail accepted"
                );
                let accepted = || Reply::message_accepted("Message accepted for delivery");
                match self.mode {
                    Mode::Smtp => vec![accepted()],
                    Mode::Lmtp => resolved
                        .iter()
                        .map(|r| match r {
                            Some(_) => accepted(),
                            None => Reply::no_such_user(),
                        })
                        .collect(),
                }
            }
            Err(error @ CoreError::Invalid { .. }) => {
                tracing::info!(size, %error, "mail refused");
                every(Reply::new(
                    554,
                    EnhancedCode(5, 6, 0),
                    format!("Message refused: {error}"),
                ))
            }
            Err(error) => {
                tracing::error!(size, %error, "cannot store mail, asking the client to retry");
                every(Reply::temporary_failure(
                    "Temporary local failure, try again later",
                ))
            }
        }
    }

    /// The envelope's recipients, in order, from the RCPT lookups or looked up again.
    /// `None` for an address that no longer resolves (a user removed since RCPT).
    async fn recipients(
        &self,
        addresses: &[String],
        known: HashMap<String, Recipient>,
    ) -> Result<Vec<Option<Recipient>>, CoreError> {
        let mut out = Vec::with_capacity(addresses.len());
        for address in addresses {
            let recipient = match known.get(address) {
                Some(recipient) => Some(recipient.clone()),
                None => self.core.resolve_recipient(address).await?,
            };
            if recipient.is_none() {
                tracing::warn!("a recipient accepted at RCPT no longer resolves");
            }
            out.push(recipient);
        }
        Ok(out)
    }

    /// The current transaction's span, opened on first use.
    fn transaction_span(&mut self) -> Span {
        self.transaction
            .get_or_insert_with(|| {
                self.transactions += 1;
                tracing::info_span!("transaction", n = self.transactions)
            })
            .clone()
    }
}
