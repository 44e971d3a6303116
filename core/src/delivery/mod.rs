//! The inbound pipeline.
//!
//! 1. [`accept`]: a protocol server resolves recipients, then hands the raw mail
//!    over; core stores the raw bytes as a blob and one pending delivery per
//!    recipient in one durable batch, and only then may the server acknowledge.
//! 2. [`worker`]: pending deliveries are processed asynchronously through the
//!    [`port::MailProcessor`] (the runtime's component chain) by whichever worker
//!    is free; stores of one user are serialised by the user's lock, under which
//!    (user, raw mail) is checked, so the same mail gives one message (a shared
//!    Message-ID does not fold different mail)
//!    however often, and however concurrently, the mail is delivered. `express`
//!    keeps one user's backlog from holding back the other users' new mail.
//! 3. [`store`]: the processed message, its discussion, counters, outbox entry and
//!    notification are written in one batch that also removes the pending delivery.
//! 4. [`import`]: mail brought in from a mailbox export takes the same path, with
//!    the read and answered flags and the date its source gave.
//! 5. Failures are retried with exponential backoff, then [`quarantine`]d with
//!    their reason, never dropped; an operator can list and replay them.

pub mod accept;
pub(crate) mod express;
pub mod import;
pub mod port;
pub mod quarantine;
pub mod store;
pub mod worker;

pub use accept::{PendingDelivery, Recipient, SmtpClient};
pub use import::{ImportOutcome, ImportedMail};
pub use port::{
    Arrival, InboundMessage, MailProcessor, MergedVerdict, ProcessedMail, ProcessingError,
};
pub use quarantine::QuarantinedDelivery;
pub use worker::DeliveryWorkers;
