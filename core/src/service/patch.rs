//! RFC 7396 merge patches with the `current_state` check of the Caliopen API.
//!
//! A PATCH body carries the fields to change and `current_state`, the client's
//! view of those same fields before its change. Core first checks that view
//! against the stored record: when they differ, someone changed the record since
//! the client read it and the answer is [`CoreError::Conflict`]. Then the changes
//! are merged (RFC 7396: objects merge key by key, `null` removes, anything else
//! replaces) into the record's JSON form, and the result is decoded back into the
//! record type, so a change of the wrong type is refused with the field's name.
//! Each service then applies its usual validation to the outcome.
//!
//! Comparison of `current_state` is lenient where clients are known to differ
//! from the stored form: an object in the client's view may leave out sub-fields
//! it does not show (ids the server assigned), `null` equals an empty value, and
//! the API's `type` key matches the record's `kind` or `role`.
//!
//! As the original (Go `helpers/patch.go` `validateCurrentState`, Python
//! `caliopen_main/common/objects/base.py` `apply_patch`), a changed field that
//! `current_state` leaves out means "it was empty": the patch applies when the
//! stored value is empty (`null`, `""`, `0`, `false`, `[]`, `{}`) and conflicts
//! otherwise. The web client relies on it: its patches never put a falsy previous
//! value in `current_state` (`web/services/api-patch/index.js`). A patch that
//! changes nothing is a no-op ([`MergePatch::changes_nothing`]), not an error.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult};

/// A PATCH body: the changes, and the client's view of the changed fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergePatch {
    changes: Map<String, Value>,
    current_state: Map<String, Value>,
}

impl MergePatch {
    /// A patch from its parts.
    pub fn new(changes: Map<String, Value>, current_state: Map<String, Value>) -> Self {
        Self {
            changes,
            current_state,
        }
    }

    /// Splits a PATCH body (`{"field": new, ..., "current_state": {"field": old}}`).
    pub fn from_json(body: Value) -> CoreResult<Self> {
        let Value::Object(mut changes) = body else {
            return Err(CoreError::invalid("patch", "must be a JSON object"));
        };
        let current_state = match changes.remove("current_state") {
            Some(Value::Object(state)) => state,
            Some(_) => return Err(CoreError::invalid("current_state", "must be a JSON object")),
            None => return Err(CoreError::invalid("current_state", "is required")),
        };
        Ok(Self {
            changes,
            current_state,
        })
    }

    /// The changed fields and their new values.
    pub fn changes(&self) -> &Map<String, Value> {
        &self.changes
    }

    /// The client's view of the changed fields.
    pub fn current_state(&self) -> &Map<String, Value> {
        &self.current_state
    }

    /// Whether the patch has no change at all (only `current_state`): the
    /// original answered such a patch 204 and changed nothing, which services do
    /// once the record is found.
    pub fn changes_nothing(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether the patch changes `field`.
    pub fn changes_field(&self, field: &str) -> bool {
        self.changes.contains_key(field)
    }
}

/// A field a patch may change: its name in the API, and in the record's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub api: &'static str,
    pub record: &'static str,
}

/// A field named alike in the API and in the record.
pub(crate) const fn field(name: &'static str) -> Field {
    Field {
        api: name,
        record: name,
    }
}

/// A field the API names differently from the record.
pub(crate) const fn renamed(api: &'static str, record: &'static str) -> Field {
    Field { api, record }
}

/// Checks that the patch changes only `fields`, and that the client's view of
/// each changed field matches `seen` (the record as the client sees it, keyed by
/// record names); a changed field missing from that view must be empty in `seen`
/// (see the module docs).
pub(crate) fn check_state(
    patch: &MergePatch,
    seen: &Map<String, Value>,
    fields: &[Field],
) -> CoreResult<()> {
    for key in patch.changes.keys() {
        let f = find(fields, key)?;
        let stored = seen.get(f.record).unwrap_or(&Value::Null);
        let matches = match patch.current_state.get(key) {
            Some(client) => same_state(client, stored),
            None => is_zero(stored),
        };
        if !matches {
            return Err(CoreError::Conflict(format!(
                "`{key}` was changed since the client read it; read it again"
            )));
        }
    }
    Ok(())
}

/// Checks the patch against `record` itself, then merges it (see the module docs).
pub(crate) fn apply<T: Serialize + DeserializeOwned>(
    record: &T,
    patch: &MergePatch,
    fields: &[Field],
) -> CoreResult<T> {
    let doc = to_object(record)?;
    check_state(patch, &doc, fields)?;
    merge_fields(&doc, patch, fields)
}

/// Merges the patch into `record` without checking `current_state` (the caller
/// checked it against another view with [`check_state`]).
pub(crate) fn merge_into<T: Serialize + DeserializeOwned>(
    record: &T,
    patch: &MergePatch,
    fields: &[Field],
) -> CoreResult<T> {
    merge_fields(&to_object(record)?, patch, fields)
}

/// A record's JSON object form.
pub(crate) fn to_object<T: Serialize>(record: &T) -> CoreResult<Map<String, Value>> {
    match serde_json::to_value(record) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(corrupt("a record is not a JSON object")),
        Err(e) => Err(corrupt(&e.to_string())),
    }
}

fn merge_fields<T: DeserializeOwned>(
    original: &Map<String, Value>,
    patch: &MergePatch,
    fields: &[Field],
) -> CoreResult<T> {
    let mut doc = original.clone();
    for (key, change) in &patch.changes {
        let f = find(fields, key)?;
        let current = doc.get(f.record).cloned().unwrap_or(Value::Null);
        let mut merged = merge(current.clone(), change);
        if merged.is_null() {
            merged = empty_like(&current);
        }
        // Decoding the original with only this change names the field at fault.
        let mut single = original.clone();
        single.insert(f.record.to_owned(), merged.clone());
        serde_json::from_value::<T>(Value::Object(single))
            .map_err(|e| CoreError::invalid(key.as_str(), e.to_string()))?;
        doc.insert(f.record.to_owned(), merged);
    }
    serde_json::from_value(Value::Object(doc))
        .map_err(|e| CoreError::invalid("patch", e.to_string()))
}

fn find<'a>(fields: &'a [Field], key: &str) -> CoreResult<&'a Field> {
    fields
        .iter()
        .find(|f| f.api == key)
        .ok_or_else(|| CoreError::invalid(key, "cannot be changed"))
}

/// RFC 7396 `MergePatch(target, patch)`.
pub fn merge(target: Value, patch: &Value) -> Value {
    let Value::Object(changes) = patch else {
        return patch.clone();
    };
    let mut target = match target {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (key, value) in changes {
        if value.is_null() {
            target.remove(key);
        } else {
            let current = target.remove(key).unwrap_or(Value::Null);
            target.insert(key.clone(), merge(current, value));
        }
    }
    Value::Object(target)
}

/// What a field removed by `null` becomes: the empty value of its type.
fn empty_like(current: &Value) -> Value {
    match current {
        Value::String(_) => Value::String(String::new()),
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Object(_) => Value::Object(Map::new()),
        Value::Bool(_) => Value::Bool(false),
        Value::Number(_) => Value::from(0),
        Value::Null => Value::Null,
    }
}

/// Whether the client's view of a value matches the stored one (see the module docs).
fn same_state(client: &Value, stored: &Value) -> bool {
    match (client, stored) {
        (Value::Null, s) => is_empty(s),
        (c, Value::Null) => is_empty(c),
        (Value::Object(c), Value::Object(s)) => c
            .iter()
            .all(|(k, v)| same_state(v, lookup(s, k).unwrap_or(&Value::Null))),
        (Value::Array(c), Value::Array(s)) => {
            c.len() == s.len() && c.iter().zip(s).all(|(a, b)| same_state(a, b))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => client == stored,
    }
}

/// Whether a stored value is its type's zero value (what a client leaves out of
/// `current_state`): empty, `0` or `false`.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        v => is_empty(v),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A key of a stored object, by its API name.
fn lookup<'a>(stored: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    stored.get(key).or_else(|| match key {
        "type" => stored.get("kind").or_else(|| stored.get("role")),
        _ => None,
    })
}

fn corrupt(message: &str) -> CoreError {
    CoreError::Corrupt {
        table: "patch",
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Rec {
        name: String,
        level: i8,
        infos: std::collections::BTreeMap<String, String>,
        items: Vec<Item>,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq, Default)]
    #[serde(default)]
    struct Item {
        id: u32,
        kind: String,
    }

    fn rec() -> Rec {
        Rec {
            name: "a".into(),
            level: 1,
            infos: [("x".to_owned(), "1".to_owned())].into(),
            items: vec![Item {
                id: 7,
                kind: "home".into(),
            }],
        }
    }

    const FIELDS: &[Field] = &[
        field("name"),
        field("level"),
        field("infos"),
        field("items"),
    ];

    fn patch(body: Value) -> MergePatch {
        MergePatch::from_json(body).unwrap()
    }

    #[test]
    fn rfc7396_examples() {
        let target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        let out = merge(target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(out, json!({"a": "z", "c": {"d": "e"}}));
        assert_eq!(
            merge(json!({"a": [1]}), &json!({"a": [2, 3]})),
            json!({"a": [2, 3]})
        );
        assert_eq!(merge(json!("x"), &json!({"a": 1})), json!({"a": 1}));
    }

    #[test]
    fn applies_when_the_state_matches() {
        let p = patch(json!({
            "name": "b", "infos": {"y": "2", "x": null},
            "current_state": {"name": "a", "infos": {"x": "1"}}
        }));
        let out = apply(&rec(), &p, FIELDS).unwrap();
        assert_eq!(out.name, "b");
        assert_eq!(out.infos, [("y".to_owned(), "2".to_owned())].into());
    }

    #[test]
    fn stale_state_is_a_conflict() {
        let p = patch(json!({"name": "b", "current_state": {"name": "old"}}));
        assert!(matches!(
            apply(&rec(), &p, FIELDS),
            Err(CoreError::Conflict(_))
        ));
    }

    /// `hlp/patch.go` `validateCurrentState`: a changed key absent from
    /// `current_state` must hold its type's zero value in the store.
    #[test]
    fn a_field_left_out_of_the_state_must_be_empty() {
        let p = patch(json!({"name": "b", "current_state": {}}));
        assert!(matches!(
            apply(&rec(), &p, FIELDS),
            Err(CoreError::Conflict(_))
        ));
        let empty = Rec {
            name: String::new(),
            level: 0,
            infos: Default::default(),
            items: Vec::new(),
        };
        let p = patch(json!({
            "name": "b", "level": 3, "infos": {"k": "v"}, "items": [{"id": 1}],
            "current_state": {}
        }));
        let out = apply(&empty, &p, FIELDS).unwrap();
        assert_eq!((out.name.as_str(), out.level), ("b", 3));
        assert_eq!(
            out.items,
            vec![Item {
                id: 1,
                kind: String::new()
            }]
        );
        let p = patch(json!({"level": 3, "current_state": {}}));
        assert!(matches!(
            apply(&rec(), &p, FIELDS),
            Err(CoreError::Conflict(_))
        ));
    }

    #[test]
    fn a_patch_without_changes_is_a_no_op() {
        let p = patch(json!({"current_state": {"name": "zzz"}}));
        assert!(p.changes_nothing());
        assert_eq!(apply(&rec(), &p, FIELDS).unwrap(), rec());
    }

    #[test]
    fn unknown_fields_and_bad_types_name_the_field() {
        let p = patch(json!({"secret": 1, "current_state": {"secret": 0}}));
        assert!(
            matches!(apply(&rec(), &p, FIELDS), Err(CoreError::Invalid { field, .. }) if field == "secret")
        );
        let p = patch(json!({"level": 500, "current_state": {"level": 1}}));
        assert!(
            matches!(apply(&rec(), &p, FIELDS), Err(CoreError::Invalid { field, .. }) if field == "level")
        );
        assert!(
            matches!(MergePatch::from_json(json!({"name": "b"})), Err(CoreError::Invalid { field, .. }) if field == "current_state")
        );
    }

    #[test]
    fn client_views_may_omit_ids_and_say_type() {
        let p = patch(json!({
            "items": [{"type": "work"}],
            "current_state": {"items": [{"type": "home"}]}
        }));
        let out = apply(&rec(), &p, FIELDS).unwrap();
        assert_eq!(
            out.items,
            vec![Item {
                id: 0,
                kind: String::new()
            }]
        );
        let p = patch(json!({"name": null, "current_state": {"name": "a"}}));
        assert_eq!(apply(&rec(), &p, FIELDS).unwrap().name, "");
    }
}
