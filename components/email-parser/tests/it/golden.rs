//! Golden tests: every `tests/fixtures/*.eml` is parsed and compared, field by field,
//! with the `*.json` next to it. `UPDATE_GOLDEN=1 cargo test -p caliopen-email-parser
//! --test it golden` rewrites the goldens; review every change by eye before keeping it.

use crate::common;

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
    assert!(fixtures.len() >= 10, "fixtures missing: {fixtures:?}");

    let mut failures = Vec::new();
    for eml in &fixtures {
        let raw = fs::read(eml).expect("readable fixture");
        let actual = common::result_json(&caliopen_email_parser::parse(&raw));
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
        compare(name(eml), &expected, &actual, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}

/// Compares the top-level fields one by one, so that a failure names the field.
fn compare(fixture: &str, expected: &Value, actual: &Value, failures: &mut Vec<String>) {
    let (Some(expected), Some(actual)) = (expected.as_object(), actual.as_object()) else {
        failures.push(format!("{fixture}: golden or result is not an object"));
        return;
    };
    let keys: std::collections::BTreeSet<_> = expected.keys().chain(actual.keys()).collect();
    for key in keys {
        let (e, a) = (expected.get(key), actual.get(key));
        if e != a {
            failures.push(format!(
                "{fixture}: field {key}\n  expected: {}\n  actual:   {}",
                e.map_or("(absent)".into(), Value::to_string),
                a.map_or("(absent)".into(), Value::to_string),
            ));
        }
    }
}

fn name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
}

/// Prints the JSON of any mail, to inspect a parse or draft a golden:
/// `DUMP_EML=path/to/mail.eml cargo test -p caliopen-email-parser --test it golden::dump -- --ignored --nocapture`.
#[test]
#[ignore = "a tool: set DUMP_EML to a file"]
fn dump() {
    let Some(path) = std::env::var_os("DUMP_EML") else {
        eprintln!("set DUMP_EML to the mail to dump");
        return;
    };
    let raw = fs::read(&path).expect("readable DUMP_EML");
    let json = common::result_json(&caliopen_email_parser::parse(&raw));
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&json).expect("serializable")
    );
}
