//! A qualifier that behaves as its manifest's `[config] mode` says, so the runtime's
//! tests can check how the host contains each kind of misbehaviour:
//!
//! - `tag` (default): adds the tag `[config] tag` and one rule; a well-behaved
//!   qualifier, used by the hot-swap tests (each version adds its own tag);
//! - `loop`: never returns (the epoch deadline must stop it);
//! - `memory`: allocates until it dies (the memory cap must stop it);
//! - `panic`: panics (a trap with this crate's function names in the backtrace);
//! - `huge-output`: returns a verdict of several MB (the output cap must refuse it);
//! - `contacts`: asks the host for the contact `[config] contact-id` and the address
//!   `[config] address`, and reports what it got as tags `found-id` / `found-address`
//!   (the host must only ever answer with the message's user's contacts).

#![allow(unsafe_code)] // the generated bindings use `unsafe`; this crate's own code does not

// Memory for the component's allocations: bump allocation for a one-call instance (see the crate).
use caliopen_guest_alloc as _;

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/0.1.0",
        world: "qualifier",
    });
}

use bindings::caliopen::platform::types::{ComponentError, MessageView, RuleHit, Verdict};
use bindings::caliopen::platform::{config, contacts, log};

struct TestQualifier;

fn verdict(tags: Vec<String>, rule: &str, detail: String) -> Verdict {
    Verdict {
        pi: None,
        importance_level: None,
        is_spam: None,
        spam_score: None,
        add_tags: tags,
        rules: vec![RuleHit {
            rule: rule.into(),
            contribution: 1.0,
            detail,
        }],
    }
}

#[inline(never)]
fn spin_forever() -> u64 {
    let mut n: u64 = 0;
    loop {
        n = n.wrapping_mul(6364136223846793005).wrapping_add(1);
        if n == 42 {
            return n;
        }
    }
}

#[inline(never)]
fn eat_memory() -> usize {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![7u8; 1 << 20]);
        if hoard.len() == usize::MAX {
            return hoard.len();
        }
    }
}

#[inline(never)]
fn explode(subject: &str) -> ! {
    panic!("test qualifier panics on purpose (subject: {subject})")
}

impl bindings::Guest for TestQualifier {
    fn qualify(view: MessageView) -> Result<Verdict, ComponentError> {
        let mode = config::get("mode").unwrap_or_else(|| "tag".into());
        match mode.as_str() {
            "tag" => {
                let tag = config::get("tag").unwrap_or_else(|| "tested".into());
                log::log(
                    log::Level::Debug,
                    &format!("tagging `{}` with {tag}", view.message.subject),
                );
                Ok(verdict(
                    vec![tag.clone()],
                    "test-tag",
                    format!("tagged {tag}"),
                ))
            }
            "loop" => Ok(verdict(vec![], "never", spin_forever().to_string())),
            "memory" => Ok(verdict(vec![], "never", eat_memory().to_string())),
            "panic" => explode(&view.message.subject),
            "huge-output" => Ok(verdict(vec![], "huge", "x".repeat(8 << 20))),
            "contacts" => {
                let mut tags = Vec::new();
                if let Some(id) = config::get("contact-id")
                    && let Ok(Some(_)) = contacts::get(&id)
                {
                    tags.push("found-id".to_owned());
                }
                if let Some(address) = config::get("address")
                    && let Ok(Some(_)) = contacts::lookup(&address)
                {
                    tags.push("found-address".to_owned());
                }
                Ok(verdict(tags, "contacts", String::new()))
            }
            other => Err(ComponentError {
                kind: "config".into(),
                message: format!("unknown mode `{other}`"),
            }),
        }
    }
}

bindings::export!(TestQualifier with_types_in bindings);
