//! Reading a bulk answer: which operations succeeded, which were rejected for overload
//! (and are retried, in order, from the first of them), which failed for good.

use serde_json::Value;

use crate::error::{ElasticError, is_retryable_status};

/// What to do after a bulk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every operation is applied.
    Done,
    /// Operations from this index on must be sent again (after a pause): retrying the
    /// whole suffix in order keeps the last operation on each document the winner.
    Retry { from: usize },
}

/// Reads a bulk answer for `sent` operations.
pub fn outcome(answer: &Value, sent: usize) -> Result<Outcome, ElasticError> {
    let operation = "apply a bulk request";
    if answer.get("errors").and_then(Value::as_bool) == Some(false) {
        return Ok(Outcome::Done);
    }
    let items = answer
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| ElasticError::Answer {
            operation,
            message: "no `items` in a bulk answer".into(),
        })?;
    if items.len() != sent {
        return Err(ElasticError::Answer {
            operation,
            message: format!("{} items answered for {sent} operations", items.len()),
        });
    }
    let mut retry_from = None;
    let mut failures = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some((action, result)) = item.as_object().and_then(|o| o.iter().next()) else {
            return Err(ElasticError::Answer {
                operation,
                message: format!("bulk item {index} is not an object"),
            });
        };
        let status = result.get("status").and_then(Value::as_u64).unwrap_or(0);
        let status = u16::try_from(status).unwrap_or(0);
        let ok = (200..300).contains(&status) || (action == "delete" && status == 404);
        if ok {
            continue;
        }
        if is_retryable_status(status) {
            retry_from.get_or_insert(index);
        } else {
            let reason = result
                .pointer("/error/reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            failures.push(format!("{action} #{index} (HTTP {status}): {reason}"));
        }
    }
    if let Some(first) = failures.first() {
        return Err(ElasticError::Bulk {
            failed: failures.len(),
            first: first.clone(),
        });
    }
    Ok(match retry_from {
        Some(from) => Outcome::Retry { from },
        None => Outcome::Done,
    })
}

/// The pause before retry number `attempt` (0-based): `base_ms` doubled each time,
/// capped at ten seconds.
pub fn backoff_ms(base_ms: u64, attempt: u32) -> u64 {
    base_ms.saturating_mul(1u64 << attempt.min(16)).min(10_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_without_errors_is_done() {
        let answer = json!({ "took": 3, "errors": false, "items": [] });
        assert_eq!(outcome(&answer, 2).expect("ok"), Outcome::Done);
    }

    #[test]
    fn deleting_a_missing_document_is_not_an_error() {
        let answer = json!({ "errors": true, "items": [
            { "index": { "status": 201 } },
            { "delete": { "status": 404, "result": "not_found" } }
        ]});
        assert_eq!(outcome(&answer, 2).expect("ok"), Outcome::Done);
    }

    #[test]
    fn rejected_operations_are_retried_from_the_first() {
        let answer = json!({ "errors": true, "items": [
            { "index": { "status": 201 } },
            { "index": { "status": 429, "error": { "type": "es_rejected_execution_exception" } } },
            { "delete": { "status": 200 } },
            { "index": { "status": 503 } }
        ]});
        assert_eq!(outcome(&answer, 4).expect("ok"), Outcome::Retry { from: 1 });
    }

    #[test]
    fn a_mapping_error_fails_for_good() {
        let answer = json!({ "errors": true, "items": [
            { "index": { "status": 429 } },
            { "index": { "status": 400, "error": {
                "type": "strict_dynamic_mapping_exception",
                "reason": "mapping set to strict, dynamic introduction of [x] is not allowed"
            } } }
        ]});
        let err = outcome(&answer, 2).unwrap_err();
        assert!(
            err.to_string()
                .contains("index #1 (HTTP 400): mapping set to strict"),
            "{err}"
        );
        assert!(!err.is_transient());
    }

    #[test]
    fn a_short_answer_is_refused() {
        let answer = json!({ "errors": true, "items": [ { "index": { "status": 201 } } ] });
        assert!(outcome(&answer, 3).is_err());
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff_ms(100, 0), 100);
        assert_eq!(backoff_ms(100, 3), 800);
        assert_eq!(backoff_ms(100, 30), 10_000);
    }
}
