//! The typed fields of `parsed-mail` taken from the top-level header fields: subject,
//! date, mailboxes, message ids and list id.
//!
//! Singular fields (From, Sender, Reply-To, Subject, Date, Message-ID, In-Reply-To,
//! References, List-Id) use the first occurrence and report duplicates: a second
//! From is a known spoofing trick, so the broker should hear of it. To, Cc and Bcc
//! merge every occurrence, as RFC 5322 §4.5.3 (obsolete syntax) allows.

use mail_parser::parsers::MessageStream;
use mail_parser::{Addr, HeaderValue};

use crate::Mailbox;
use crate::headers::{RawField, field_problem};
use crate::limits::{MAX_IDS, MAX_MAILBOXES};
use crate::problems::{Problems, quote};

/// The typed fields, ready to move into `parsed-mail`.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub subject: Option<String>,
    pub date: Option<i64>,
    pub from: Vec<Mailbox>,
    pub sender: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub list_id: Option<String>,
}

/// Extracts the typed fields from the header fields, reporting what is missing or
/// does not parse.
pub(crate) fn extract(fields: &[RawField<'_>], problems: &mut Problems) -> Fields {
    let subject = first(fields, "Subject", problems).map(RawField::text);
    let date = date(first(fields, "Date", problems), problems);
    let from = first(fields, "From", problems)
        .map(|f| mailboxes(f, problems))
        .unwrap_or_default();
    if !fields.iter().any(|f| f.is("From")) {
        problems.push("no From header");
    }
    let sender = first(fields, "Sender", problems).and_then(|f| {
        let mut list = mailboxes(f, problems);
        if list.len() > 1 {
            problems.push(field_problem(
                "Sender has several mailboxes, the first is used",
                f,
            ));
        }
        (!list.is_empty()).then(|| list.swap_remove(0))
    });
    let reply_to = first(fields, "Reply-To", problems)
        .map(|f| mailboxes(f, problems))
        .unwrap_or_default();
    let message_id = first(fields, "Message-ID", problems).and_then(|f| {
        let mut list = ids(f, problems);
        if list.len() > 1 {
            problems.push(field_problem(
                "Message-ID has several ids, the first is used",
                f,
            ));
        }
        (!list.is_empty()).then(|| list.swap_remove(0))
    });
    if !fields.iter().any(|f| f.is("Message-ID")) {
        problems.push("no Message-ID header");
    }
    Fields {
        subject,
        date,
        from,
        sender,
        reply_to,
        to: merged(fields, "To", problems),
        cc: merged(fields, "Cc", problems),
        bcc: merged(fields, "Bcc", problems),
        message_id,
        in_reply_to: first(fields, "In-Reply-To", problems)
            .map(|f| ids(f, problems))
            .unwrap_or_default(),
        references: first(fields, "References", problems)
            .map(|f| ids(f, problems))
            .unwrap_or_default(),
        list_id: first(fields, "List-Id", problems).and_then(|f| list_id(f, problems)),
    }
}

/// The first field named `name`; reports when there are several.
fn first<'f, 'a>(
    fields: &'f [RawField<'a>],
    name: &str,
    problems: &mut Problems,
) -> Option<&'f RawField<'a>> {
    let mut matching = fields.iter().filter(|f| f.is(name));
    let found = matching.next();
    let more = matching.count();
    if more > 0 {
        problems.push(format!("{} {name} headers; the first is used", more + 1));
    }
    found
}

/// Mailboxes of every field named `name`, in order; reports when there are several.
fn merged(fields: &[RawField<'_>], name: &str, problems: &mut Problems) -> Vec<Mailbox> {
    let mut list = Vec::new();
    let mut count = 0;
    for field in fields.iter().filter(|f| f.is(name)) {
        count += 1;
        list.extend(mailboxes(field, problems));
    }
    if count > 1 {
        problems.push(format!(
            "{count} {name} headers; their mailboxes are merged"
        ));
    }
    list.truncate(MAX_MAILBOXES);
    list
}

/// The Date field in milliseconds since the epoch, when it parses to a valid date.
fn date(field: Option<&RawField<'_>>, problems: &mut Problems) -> Option<i64> {
    let Some(field) = field else {
        problems.push("no Date header");
        return None;
    };
    let parsed = match MessageStream::new(&field.value).parse_date() {
        HeaderValue::DateTime(date) if date.is_valid() => date.to_timestamp().checked_mul(1000),
        _ => None,
    };
    if parsed.is_none() {
        problems.push(field_problem("Date header does not parse", field));
    }
    parsed
}

/// The mailboxes of an address field, groups flattened.
fn mailboxes(field: &RawField<'_>, problems: &mut Problems) -> Vec<Mailbox> {
    let parsed = match MessageStream::new(&field.value).parse_address() {
        HeaderValue::Address(address) => address
            .iter()
            .filter_map(|addr| mailbox(&field.name, addr, problems))
            .take(MAX_MAILBOXES)
            .collect(),
        _ => Vec::new(),
    };
    if parsed.is_empty() && !is_empty_group(&field.text()) {
        problems.push(field_problem(
            &format!("{} header has no address", field.name),
            field,
        ));
    }
    parsed
}

/// True for a blank value or a group with no member (`undisclosed-recipients:;`).
fn is_empty_group(text: &str) -> bool {
    text.is_empty() || text.ends_with(":;") || text.ends_with(": ;")
}

/// One mailbox; a name without an address keeps the text as the address, as the
/// WIT says, and is reported.
fn mailbox(field_name: &str, addr: &Addr<'_>, problems: &mut Problems) -> Option<Mailbox> {
    let name = addr.name().map(str::trim).unwrap_or_default();
    match addr.address().map(str::trim).filter(|a| !a.is_empty()) {
        Some(address) => {
            if !address.contains('@') {
                problems.push(format!(
                    "{field_name}: address without a domain: {}",
                    quote(address)
                ));
            }
            Some(Mailbox {
                name: name.to_string(),
                address: address.to_string(),
            })
        }
        None if !name.is_empty() => {
            problems.push(format!(
                "{field_name}: mailbox without an address: {}",
                quote(name)
            ));
            Some(Mailbox {
                name: String::new(),
                address: name.to_string(),
            })
        }
        None => None,
    }
}

/// Message ids of a field, without angle brackets, in order.
fn ids(field: &RawField<'_>, problems: &mut Problems) -> Vec<String> {
    let mut list: Vec<String> = match MessageStream::new(&field.value).parse_id() {
        HeaderValue::Text(id) => vec![id.into_owned()],
        HeaderValue::TextList(ids) => ids.into_iter().map(|id| id.into_owned()).collect(),
        _ => Vec::new(),
    };
    list.retain(|id| !id.is_empty());
    if list.is_empty() {
        if !field.text().is_empty() {
            problems.push(field_problem(
                &format!("{} header has no message id", field.name),
                field,
            ));
        }
    } else if !field.value.contains(&b'<') {
        problems.push(field_problem(
            &format!("{} header without angle brackets", field.name),
            field,
        ));
    }
    list.truncate(MAX_IDS);
    list
}

/// The list id of a List-Id field (RFC 2919): the text between the last angle
/// brackets, or the whole value when there are none (reported).
fn list_id(field: &RawField<'_>, problems: &mut Problems) -> Option<String> {
    let text = field.text();
    let inner = text
        .rfind('<')
        .and_then(|open| {
            let rest = &text[open + 1..];
            rest.find('>').map(|close| &rest[..close])
        })
        .map(str::trim);
    let id = match inner {
        Some(id) => id,
        None => {
            problems.push(field_problem(
                "List-Id header without angle brackets",
                field,
            ));
            text.trim()
        }
    };
    if id.is_empty() {
        problems.push(field_problem("List-Id header has no list id", field));
        return None;
    }
    Some(id.to_string())
}
