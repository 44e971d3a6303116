//! One handler per command, and the end of DATA.
//!
//! Replies: 503 5.5.1 for commands out of sequence, 500 5.5.1 for unknown commands (and for
//! EHLO/HELO in LMTP, LHLO in SMTP), 555 5.5.4 for unsupported MAIL/RCPT parameters, 552 5.3.4
//! for messages over the size limit, 452 4.5.3 past the recipient limit, 553 5.6.7 for a UTF-8
//! address without SMTPUTF8. Bad commands (syntax, sequence, unknown, unsupported parameter)
//! count towards the error limit; refusals of a well-formed request do not.

use super::{Session, State, Transaction};
use crate::address::{ForwardPath, ReversePath};
use crate::command::{Command, Param};
use crate::config::Mode;
use crate::data::{DataOutcome, DataReader};
use crate::event::{Envelope, Event};
use crate::reply::{EnhancedCode, Reply};

fn unrecognized(text: &str) -> Reply {
    Reply::new(500, EnhancedCode(5, 5, 1), text)
}

fn bad_sequence(text: &str) -> Reply {
    Reply::new(503, EnhancedCode(5, 5, 1), text)
}

fn bad_argument(text: String) -> Reply {
    Reply::new(501, EnhancedCode(5, 5, 4), text)
}

fn unsupported_parameter(keyword: &str) -> Reply {
    Reply::new(
        555,
        EnhancedCode(5, 5, 4),
        format!("Unsupported parameter {keyword}"),
    )
}

fn utf8_not_allowed() -> Reply {
    Reply::new(
        553,
        EnhancedCode(5, 6, 7),
        "Non-ASCII address requires SMTPUTF8",
    )
}

/// MAIL parameters this server understands.
#[derive(Debug, Default)]
struct MailParams {
    size: Option<usize>,
    body_8bit: bool,
    smtputf8: bool,
}

/// Reads SIZE, BODY and SMTPUTF8; anything else, or a repeated keyword, is an error reply.
fn mail_params(params: &[Param]) -> Result<MailParams, Reply> {
    let mut out = MailParams::default();
    for (i, param) in params.iter().enumerate() {
        if params[..i].iter().any(|p| p.keyword == param.keyword) {
            return Err(bad_argument(format!(
                "Duplicate parameter {}",
                param.keyword
            )));
        }
        let value = param.value.as_deref();
        match (param.keyword.as_str(), value) {
            ("SIZE", Some(v)) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                // Too many digits for usize is simply "too big".
                out.size = Some(v.parse().unwrap_or(usize::MAX));
            }
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("7BIT") => out.body_8bit = false,
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("8BITMIME") => out.body_8bit = true,
            ("SMTPUTF8", None) => out.smtputf8 = true,
            ("SIZE" | "BODY" | "SMTPUTF8", _) => {
                return Err(bad_argument(format!("Invalid value for {}", param.keyword)));
            }
            (keyword, _) => return Err(unsupported_parameter(keyword)),
        }
    }
    Ok(out)
}

impl Session {
    /// Dispatches one parsed command.
    pub(super) fn handle_command(&mut self, command: Command) {
        let lmtp = self.config.mode == Mode::Lmtp;
        match command {
            Command::Ehlo(_) | Command::Helo(_) if lmtp => {
                self.reject(unrecognized("Command unrecognized, use LHLO"));
            }
            Command::Lhlo(_) if !lmtp => self.reject(unrecognized("Command unrecognized")),
            Command::Ehlo(domain) | Command::Lhlo(domain) => self.greet(domain, true),
            Command::Helo(domain) => self.greet(domain, false),
            Command::Mail { from, params } => self.mail(from, &params),
            Command::Rcpt { to, params } => self.rcpt(&to, params),
            Command::Data => self.data(),
            Command::Rset => {
                self.transaction = None;
                self.reply(Reply::ok());
            }
            Command::Noop => self.reply(Reply::ok()),
            Command::Quit => {
                let text = format!("{} Bye", self.config.hostname);
                self.close(Reply::new(221, EnhancedCode(2, 0, 0), text));
            }
            Command::Vrfy(_) => self.reply(Reply::new(
                252,
                EnhancedCode(2, 0, 0),
                "Cannot VRFY user, but will accept message and attempt delivery",
            )),
            Command::Expn(_) => {
                self.reply(Reply::new(502, EnhancedCode(5, 5, 1), "EXPN not supported"));
            }
            Command::Help(_) => self.help(),
            Command::StartTls => self.start_tls(),
            Command::Unknown(_) => self.reject(unrecognized("Command unrecognized")),
        }
    }

    /// EHLO/LHLO (extended) or HELO: new identity, no transaction.
    fn greet(&mut self, domain: String, extended: bool) {
        self.helo = Some(domain);
        self.transaction = None;
        let mut reply = Reply::new(250, None, self.config.hostname.clone());
        if extended {
            reply = reply
                .with_line("PIPELINING")
                .with_line(format!("SIZE {}", self.config.max_message_size))
                .with_line("8BITMIME")
                .with_line("ENHANCEDSTATUSCODES")
                .with_line("SMTPUTF8");
            if self.config.tls_available && !self.tls_active {
                reply = reply.with_line("STARTTLS");
            }
        }
        self.reply_plain(reply);
    }

    fn mail(&mut self, from: ReversePath, params: &[Param]) {
        if self.helo.is_none() {
            let greeting = if self.config.mode == Mode::Lmtp {
                "LHLO"
            } else {
                "EHLO/HELO"
            };
            return self.reject(bad_sequence(&format!("Send {greeting} first")));
        }
        if self.transaction.is_some() {
            return self.reject(bad_sequence("Nested MAIL command"));
        }
        let params = match mail_params(params) {
            Ok(params) => params,
            Err(reply) => return self.reject(reply),
        };
        if params
            .size
            .is_some_and(|size| size > self.config.max_message_size)
        {
            return self.reply(Reply::new(
                552,
                EnhancedCode(5, 3, 4),
                "Message size exceeds fixed maximum message size",
            ));
        }
        if !params.smtputf8 && from.mailbox().is_some_and(|m| !m.is_ascii()) {
            return self.reply(utf8_not_allowed());
        }
        self.transaction = Some(Transaction {
            mail_from: from,
            body_8bit: params.body_8bit,
            smtputf8: params.smtputf8,
            recipients: Vec::new(),
        });
        self.reply(Reply::sender_ok());
    }

    fn rcpt(&mut self, to: &ForwardPath, params: Vec<Param>) {
        let Some(transaction) = &self.transaction else {
            return self.reject(bad_sequence("Need MAIL command"));
        };
        if let Some(param) = params.first() {
            return self.reject(unsupported_parameter(&param.keyword));
        }
        if transaction.recipients.len() >= self.config.max_recipients {
            return self.reply(Reply::new(
                452,
                EnhancedCode(4, 5, 3),
                "Too many recipients",
            ));
        }
        if !transaction.smtputf8 && !to.is_ascii() {
            return self.reply(utf8_not_allowed());
        }
        let address = to.to_string();
        self.state = State::AwaitRecipient {
            address: address.clone(),
        };
        self.events.push_back(Event::Recipient { address, params });
    }

    fn data(&mut self) {
        match &self.transaction {
            None => self.reject(bad_sequence("Need MAIL command")),
            Some(transaction) if transaction.recipients.is_empty() => {
                self.reject(bad_sequence("No valid recipients"));
            }
            Some(_) => {
                self.reply_plain(Reply::new(354, None, "End data with <CR><LF>.<CR><LF>"));
                let max_line = match self.config.mode {
                    Mode::Smtp => self.config.max_data_line_length,
                    Mode::Lmtp => None,
                };
                let reader = DataReader::new(self.config.max_message_size, max_line);
                self.state = State::Data(reader);
            }
        }
    }

    /// End of DATA: hand the message over, or refuse it for every recipient.
    pub(super) fn finish_data(&mut self, reader: DataReader) {
        let Some(transaction) = self.transaction.take() else {
            return;
        };
        let replies = match self.config.mode {
            Mode::Smtp => 1,
            Mode::Lmtp => transaction.recipients.len(),
        };
        let refusal = match reader.finish() {
            DataOutcome::Complete(size) => {
                self.events.push_back(Event::Message(Envelope {
                    helo: self.helo.clone().unwrap_or_default(),
                    mail_from: transaction.mail_from,
                    recipients: transaction.recipients,
                    body_8bit: transaction.body_8bit,
                    smtputf8: transaction.smtputf8,
                    tls: self.tls_active,
                    size,
                }));
                self.state = State::AwaitMessage { replies };
                return;
            }
            DataOutcome::TooBig => Reply::new(
                552,
                EnhancedCode(5, 3, 4),
                "Message size exceeds fixed maximum message size",
            ),
            DataOutcome::LineTooLong => Reply::new(
                554,
                EnhancedCode(5, 6, 0),
                format!(
                    "Message has lines longer than {} octets",
                    self.config.max_data_line_length.unwrap_or_default()
                ),
            ),
        };
        for _ in 0..replies {
            self.reply(refusal.clone());
        }
    }

    fn help(&mut self) {
        let greeting = if self.config.mode == Mode::Lmtp {
            "LHLO"
        } else {
            "EHLO HELO"
        };
        let mut commands = format!("{greeting} MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
        if self.config.tls_available {
            commands.push_str(" STARTTLS");
        }
        self.reply(Reply::new(
            214,
            EnhancedCode(2, 0, 0),
            format!("Commands: {commands}"),
        ));
    }

    /// STARTTLS: 220, then nothing more is read until the caller upgraded the connection;
    /// bytes already received (pipelined after STARTTLS) are dropped (RFC 3207 §4.2,
    /// CVE-2011-0411).
    fn start_tls(&mut self) {
        if self.tls_active {
            return self.reject(bad_sequence("TLS already active"));
        }
        if !self.config.tls_available {
            return self.reject(Reply::new(
                502,
                EnhancedCode(5, 5, 1),
                "STARTTLS not available",
            ));
        }
        self.reply(Reply::new(220, EnhancedCode(2, 0, 0), "Ready to start TLS"));
        self.events.push_back(Event::StartTls);
        self.state = State::AwaitTls;
        self.input.clear();
        self.pos = 0;
        self.discarding_line = false;
    }
}
