//! Golden tests: every `tests/fixtures/*.eml` is parsed by the parser crate, brokered
//! for a user of `caliopen.local` received at a fixed time, and compared, field by
//! field, with the `*.json` next to it. `UPDATE_GOLDEN=1 cargo test -p
//! caliopen-email-broker --test it golden` rewrites the goldens; review every change by
//! eye before keeping it.

use crate::common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value;

#[test]
fn fixtures_match_their_goldens() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut fixtures: Vec<_> = fs::read_dir(common::fixtures_dir())
        .expect("tests/fixtures exists")
        .map(|entry| entry.expect("readable fixtures dir").path())
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 12, "fixtures missing: {fixtures:?}");

    let mut failures = Vec::new();
    for eml in &fixtures {
        let raw = fs::read(eml).expect("readable fixture");
        let Some(message) = common::broker(&raw) else {
            failures.push(format!("{}: the parser refused it", name(eml)));
            continue;
        };
        if message.discussion_key != common::core_discussion_key(&message) {
            failures.push(format!("{}: discussion key differs from core's", name(eml)));
        }
        let actual = common::message_json(&message);
        let golden = eml.with_extension("json");
        if update {
            let text = serde_json::to_string_pretty(&actual).expect("serializable") + "\n";
            fs::write(&golden, text).expect("writable golden");
            continue;
        }
        let expected: Value = match fs::read(&golden) {
            Ok(bytes) => serde_json::from_slice(&bytes).expect("golden is JSON"),
            Err(e) => {
                failures.push(format!(
                    "{}: no golden ({e}); run with UPDATE_GOLDEN=1",
                    name(eml)
                ));
                continue;
            }
        };
        compare(name(eml), "", &expected, &actual, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}

/// Compares objects key by key (recursing into `privacy-features` and the other
/// records), so that a failure names the field.
fn compare(
    fixture: &str,
    path: &str,
    expected: &Value,
    actual: &Value,
    failures: &mut Vec<String>,
) {
    if let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) {
        let keys: BTreeSet<_> = e.keys().chain(a.keys()).collect();
        for key in keys {
            let (ev, av) = (
                e.get(key).unwrap_or(&Value::Null),
                a.get(key).unwrap_or(&Value::Null),
            );
            compare(fixture, &format!("{path}/{key}"), ev, av, failures);
        }
    } else if expected != actual {
        failures.push(format!(
            "{fixture}: {path}\n  expected: {expected}\n  actual:   {actual}"
        ));
    }
}

fn name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
}

/// Prints the brokered JSON of any mail:
/// `DUMP_EML=path/to/mail.eml cargo test -p caliopen-email-broker --test it golden::dump -- --ignored --nocapture`.
#[test]
#[ignore = "a tool: set DUMP_EML to a file"]
fn dump() {
    let Some(path) = std::env::var_os("DUMP_EML") else {
        eprintln!("set DUMP_EML to the mail to dump");
        return;
    };
    let raw = fs::read(&path).expect("readable DUMP_EML");
    match common::broker(&raw) {
        Some(message) => {
            let json = common::message_json(&message);
            eprintln!(
                "{}",
                serde_json::to_string_pretty(&json).expect("serializable")
            );
        }
        None => eprintln!("the parser refused it"),
    }
}
