//! The MIME tree of the top-level entity in depth-first order, the attachments and the
//! decoded size of each leaf.
//!
//! A `message/rfc822` part is a leaf here (its size is the encapsulated message's);
//! its own tree is not descended into, so that part indexes and attachments stay
//! those of the outer mail.

use std::borrow::Cow;

use mail_parser::parsers::MessageStream;
use mail_parser::{ContentType, Encoding, Message, MessagePart, MimeHeaders, PartType};

use crate::limits::{MAX_BOUNDARY_CHECKS, MAX_BOUNDARY_LEN, MAX_PARTS};
use crate::problems::{Problems, quote};
use crate::{Attachment, MimePart};

/// The tree as listed in `parts`, plus what the other modules need to know of it.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    /// The listed nodes, in depth-first order.
    pub parts: Vec<MimePart>,
    /// For each of mail-parser's part ids, its leaf index when it is a listed leaf.
    pub leaf_index: Vec<Option<u32>>,
    /// For each of mail-parser's part ids, its position in `parts` when listed.
    pub node_index: Vec<Option<usize>>,
}

/// Walks the tree from the root, depth first, without recursion.
pub(crate) fn walk(message: &Message<'_>, raw: &[u8], problems: &mut Problems) -> Tree {
    let count = message.parts.len();
    let mut tree = Tree {
        parts: Vec::new(),
        leaf_index: vec![None; count],
        node_index: vec![None; count],
    };
    let mut visited = vec![false; count];
    let mut leaves = 0u32;
    let mut boundary_checks = 0;
    // (part id, depth, parent is multipart/digest)
    let mut stack = vec![(0u32, 0u32, false)];
    while let Some((id, depth, in_digest)) = stack.pop() {
        let Some(part) = message.parts.get(id as usize) else {
            continue;
        };
        if std::mem::replace(&mut visited[id as usize], true) {
            continue;
        }
        if tree.parts.len() == MAX_PARTS {
            problems.push(format!(
                "the mail has more than {MAX_PARTS} MIME parts; only the first {MAX_PARTS} are listed"
            ));
            break;
        }
        let content_type = content_type_of(part, in_digest);
        let node = tree.parts.len();
        tree.node_index[id as usize] = Some(node);
        let size = match &part.body {
            PartType::Multipart(children) => {
                if boundary_checks < MAX_BOUNDARY_CHECKS {
                    boundary_checks += 1;
                    check_closing_boundary(part, raw, node, &content_type, problems);
                }
                let is_digest = content_type == "multipart/digest";
                stack.extend(children.iter().rev().map(|&c| (c, depth + 1, is_digest)));
                0
            }
            _ => {
                report_leaf(part, id == 0, node, &content_type, problems);
                tree.leaf_index[id as usize] = Some(leaves);
                leaves += 1;
                decoded_size(raw, part)
            }
        };
        tree.parts.push(MimePart {
            depth,
            content_type,
            params: params_of(part.content_type()),
            size,
        });
    }
    tree
}

/// The lower-case `type/subtype` of a part; the RFC 2045/2046 defaults when absent.
pub(crate) fn content_type_of(part: &MessagePart<'_>, in_digest: bool) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if in_digest => "message/rfc822".to_string(),
        None => "text/plain".to_string(),
    }
}

/// Content-Type parameters, names lower case, values as decoded by mail-parser.
fn params_of(content_type: Option<&ContentType<'_>>) -> Vec<(String, String)> {
    content_type
        .and_then(ContentType::attributes)
        .unwrap_or_default()
        .iter()
        .map(|a| (a.name.to_ascii_lowercase(), a.value.to_string()))
        .collect()
}

/// Reports leaves mail-parser could not decode, and multiparts it had to keep as
/// text.
fn report_leaf(
    part: &MessagePart<'_>,
    is_root: bool,
    node: usize,
    content_type: &str,
    problems: &mut Problems,
) {
    if let Some(sub) = content_type.strip_prefix("multipart/") {
        let what = match part.content_type().and_then(|ct| ct.attribute("boundary")) {
            Some(boundary) => format!("its boundary {} is never used", quote(boundary)),
            None => "it has no boundary parameter".to_string(),
        };
        problems.push(format!(
            "multipart/{sub} part {node}: {what}; its body is kept as text"
        ));
    } else if !content_type.contains('/') {
        problems.push(format!(
            "part {node}: Content-Type {} has no subtype",
            quote(content_type)
        ));
    }
    let headers_only = is_root && part.offset_body as usize >= part.offset_end as usize;
    if part.is_encoding_problem && !headers_only {
        let cte = part
            .content_transfer_encoding()
            .map(|cte| cte.to_ascii_lowercase());
        let what = match (content_type, cte.as_deref()) {
            ("message/rfc822" | "message/global", _) => {
                "the encapsulated message could not be parsed".to_string()
            }
            (_, Some(cte @ ("base64" | "quoted-printable"))) => {
                format!("its {cte} content does not decode, or its boundary is missing")
            }
            _ => "it is not terminated by its boundary".to_string(),
        };
        problems.push(format!(
            "{content_type} part {node}: {what}; kept as raw text"
        ));
    }
}

/// Reports a multipart whose closing delimiter (`--boundary--`) is missing.
fn check_closing_boundary(
    part: &MessagePart<'_>,
    raw: &[u8],
    node: usize,
    content_type: &str,
    problems: &mut Problems,
) {
    let Some(boundary) = part.content_type().and_then(|ct| ct.attribute("boundary")) else {
        return;
    };
    if boundary.len() > MAX_BOUNDARY_LEN {
        problems.push(format!(
            "{content_type} part {node}: boundary longer than {MAX_BOUNDARY_LEN} bytes, not checked"
        ));
        return;
    }
    let start = (part.offset_body as usize).min(raw.len());
    let end = (part.offset_end as usize).clamp(start, raw.len());
    let delimiter = format!("--{boundary}--");
    if !contains(&raw[start..end], delimiter.as_bytes()) {
        problems.push(format!(
            "{content_type} part {node}: closing boundary {} missing",
            quote(&delimiter)
        ));
    }
}

/// Substring search with memchr's `memmem` (on wasm32 without `simd128`, as the
/// guests are built, its word-at-a-time fallback); comparing every window instead
/// cost one `memcmp` call per byte of the mail, a tenth of the parser's time in Wasm.
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// The size of a leaf's content after transfer decoding (before charset conversion).
pub(crate) fn decoded_size(raw: &[u8], part: &MessagePart<'_>) -> u64 {
    match &part.body {
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes.len() as u64,
        PartType::Multipart(_) => 0,
        PartType::Text(_) | PartType::Html(_) | PartType::Message(_) => {
            transfer_decoded(raw, part).len() as u64
        }
    }
}

/// The content of a leaf after transfer decoding, taken again from the raw bytes
/// (mail-parser keeps text parts only after charset conversion).
pub(crate) fn transfer_decoded<'r>(raw: &'r [u8], part: &MessagePart<'_>) -> Cow<'r, [u8]> {
    let start = (part.offset_body as usize).min(raw.len());
    let end = (part.offset_end as usize).clamp(start, raw.len());
    let body = &raw[start..end];
    let (end, decoded) = match part.encoding {
        Encoding::Base64 => MessageStream::new(body).decode_base64_mime(b""),
        Encoding::QuotedPrintable => MessageStream::new(body).decode_quoted_printable_mime(b""),
        Encoding::None => return Cow::Borrowed(body),
    };
    if end == usize::MAX {
        Cow::Borrowed(body)
    } else {
        decoded
    }
}

/// Attachment metadata for mail-parser's attachments that are listed leaves.
pub(crate) fn attachments(message: &Message<'_>, tree: &Tree) -> Vec<Attachment> {
    message
        .attachments
        .iter()
        .filter_map(|&id| {
            let part = message.parts.get(id as usize)?;
            let part_index = (*tree.leaf_index.get(id as usize)?)?;
            let node = (*tree.node_index.get(id as usize)?)?;
            let content_id = part
                .content_id()
                .map(|cid| cid.trim().trim_start_matches('<').trim_end_matches('>'))
                .filter(|cid| !cid.is_empty())
                .map(str::to_string);
            let is_attachment = part
                .content_disposition()
                .is_some_and(|cd| cd.is_attachment());
            Some(Attachment {
                file_name: part.attachment_name().map(str::to_string),
                content_type: tree.parts[node].content_type.clone(),
                size: tree.parts[node].size,
                is_inline: content_id.is_some() && !is_attachment,
                content_id,
                part_index,
            })
        })
        .collect()
}
