//! A validator for the subset of JSON Schema that Swagger 2.0 definitions use:
//! `type`, `properties`, `required`, `additionalProperties` (false, true or a
//! schema), `items`, `enum`, `$ref` to `#/definitions/...`, `format: date-time`
//! and the `int32` range. References outside the document (`../objects/...`,
//! left over in a few request schemas of the original spec) are not checked.
//!
//! [`Spec::check_response`] finds the operation of a request by its path and
//! checks an answer against what the spec declares for its status; the test
//! client of `mod.rs` runs it on every answer.
//!
//! The spec is read with the overrides of `openapi/client-overrides.json`
//! applied: properties the original server answered and its web client reads,
//! which the swagger forbids (docs/api-compatibility.md, Spec overrides).

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The spec the API implements, as served at `/api/openapi.json` (without the
/// admin paths, which live on another listener).
const SWAGGER: &str = include_str!("../../../openapi/swagger.json");
/// Properties the swagger lacks and clients need (see the module docs).
const OVERRIDES: &str = include_str!("../../../openapi/client-overrides.json");

/// The original Caliopen spec.
#[derive(Debug)]
pub struct Spec {
    doc: Value,
}

impl Spec {
    /// The spec, parsed once.
    pub fn caliopen() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let mut doc: Value = serde_json::from_str(SWAGGER).expect("swagger.json parses");
            let overrides: Value =
                serde_json::from_str(OVERRIDES).expect("client-overrides.json parses");
            apply_overrides(&mut doc, &overrides);
            Spec::new(doc)
        })
    }

    pub fn new(doc: Value) -> Self {
        Self { doc }
    }

    /// The definition `name` (`User`, `Device`, ...).
    pub fn definition(&self, name: &str) -> &Value {
        self.doc
            .pointer(&format!("/definitions/{name}"))
            .unwrap_or_else(|| panic!("no definition `{name}` in the spec"))
    }

    /// Checks `value` against the definition `name`; the errors name the JSON path.
    pub fn validate_definition(&self, name: &str, value: &Value) -> Vec<String> {
        self.validate(self.definition(name), value)
    }

    /// Checks `value` against `schema`; the errors name the JSON path.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", &mut errors, 0);
        errors
    }

    /// The operation that serves `method` on `path` (without `/api` and query): its
    /// path template and its object. A literal segment wins over a `{param}`.
    pub fn operation(&self, method: &str, path: &str) -> Option<(&str, &Value)> {
        let paths = self.doc.get("paths")?.as_object()?;
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let mut best: Option<(usize, &str, &Value)> = None;
        for (template, item) in paths {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut literals = 0;
            let matches = parts.iter().zip(&segments).all(|(p, s)| {
                if p.starts_with('{') && p.ends_with('}') {
                    !s.is_empty()
                } else {
                    literals += 1;
                    p == s
                }
            });
            let Some(op) = item.get(method.to_ascii_lowercase()) else {
                continue;
            };
            if matches && best.as_ref().is_none_or(|(n, _, _)| literals > *n) {
                best = Some((literals, template.as_str(), op));
            }
        }
        best.map(|(_, t, op)| (t, op))
    }

    /// Checks an answer of the API (`uri` as requested, with `/api`) against the
    /// spec. Paths the spec does not have (the docs, unknown routes) pass.
    ///
    /// - a status the operation declares with a schema: the body must conform;
    /// - `204`: the body must be empty;
    /// - a success status the operation does not declare is an error;
    /// - every error status (4xx, 5xx): the body must be the API's error shape,
    ///   `{"errors": [{"code": <status>, "name", "message"}]}`, beside whatever
    ///   schema the spec declares for it.
    pub fn check_response(
        &self,
        method: &str,
        uri: &str,
        status: u16,
        body: &[u8],
    ) -> Result<(), String> {
        let path = uri.split('?').next().unwrap_or(uri);
        let Some(path) = path.strip_prefix("/api") else {
            return Ok(());
        };
        let Some((template, op)) = self.operation(method, path) else {
            return Ok(());
        };
        let what = format!("{method} {template} answered {status}");
        let json = || -> Result<Value, String> {
            serde_json::from_slice(body).map_err(|e| {
                format!(
                    "{what} with a body that is not JSON ({e}): {}",
                    String::from_utf8_lossy(body)
                )
            })
        };
        let mut errors = Vec::new();
        if status >= 400 {
            errors.extend(error_shape(status, &json()?));
        }
        let declared = op.get("responses").and_then(|r| r.get(status.to_string()));
        match declared {
            None if status < 400 => errors.push("status not declared by the spec".into()),
            None => {}
            // A 204 has no body to validate: it only must not have one.
            #[allow(clippy::collapsible_match)]
            Some(_) if status == 204 => {
                if !body.is_empty() {
                    errors.push(format!(
                        "a 204 has a body: {}",
                        String::from_utf8_lossy(body)
                    ));
                }
            }
            Some(response) => {
                if let Some(schema) = response.get("schema") {
                    errors.extend(self.validate(schema, &json()?));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{what}, not as the spec says:\n  - {}\nbody: {}",
                errors.join("\n  - "),
                String::from_utf8_lossy(body)
            ))
        }
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        let name = reference.strip_prefix("#/definitions/")?;
        self.doc.pointer(&format!("/definitions/{name}"))
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) {
        assert!(depth < 64, "schema recursion too deep at {at}");
        let Some(schema) = schema.as_object() else {
            return;
        };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str)
            && let Some(target) = self.resolve(reference)
        {
            self.check(target, value, at, errors, depth + 1);
        }
        if let Some(ty) = schema.get("type").and_then(Value::as_str)
            && !has_type(ty, value)
        {
            errors.push(format!("{at}: expected {ty}, got {}", kind(value)));
            return;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
        if let (Some("date-time"), Some(s)) =
            (schema.get("format").and_then(Value::as_str), value.as_str())
            && chrono::DateTime::parse_from_rfc3339(s).is_err()
        {
            errors.push(format!("{at}: `{s}` is not an RFC 3339 date-time"));
        }
        if let (Some("int32"), Some(n)) =
            (schema.get("format").and_then(Value::as_str), value.as_i64())
            && i32::try_from(n).is_err()
        {
            errors.push(format!("{at}: {n} does not fit int32"));
        }
        if let Some(obj) = value.as_object() {
            self.check_object(schema, obj, at, errors, depth);
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                self.check(items, item, &format!("{at}[{i}]"), errors, depth + 1);
            }
        }
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        obj: &Map<String, Value>,
        at: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !obj.contains_key(name) {
                    errors.push(format!("{at}: required property `{name}` is missing"));
                }
            }
        }
        for (key, v) in obj {
            let path = format!("{at}.{key}");
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => self.check(sub, v, &path, errors, depth + 1),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{at}: property `{key}` is not declared"));
                    }
                    Some(sub @ Value::Object(_)) => self.check(sub, v, &path, errors, depth + 1),
                    _ => {}
                },
            }
        }
    }
}

/// Sets each property of `overrides.definitions.<name>.properties` in the
/// spec's definition `<name>`.
fn apply_overrides(doc: &mut Value, overrides: &Value) {
    let definitions = overrides["definitions"].as_object().into_iter().flatten();
    for (name, change) in definitions {
        let target = doc
            .pointer_mut(&format!("/definitions/{name}/properties"))
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("override of `{name}`, which has no properties"));
        for (key, schema) in change["properties"].as_object().into_iter().flatten() {
            target.insert(key.clone(), schema.clone());
        }
    }
}

/// The API's error body: `{"errors": [{"code", "name", "message"}]}`, nothing else
/// in an entry, and the first entry's code is the status. Spec override
/// (docs/api-compatibility.md "Spec overrides"): entries after the first may
/// carry one of the original's facility codes (below 400, `obj/errors.go`), which
/// the web client looks for (code 6 on a duplicate remote identity, code 8 on a
/// wrong password at account deletion).
pub fn error_shape(status: u16, body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(list) = body.get("errors").and_then(Value::as_array) else {
        return vec![format!("an error answer without an `errors` array: {body}")];
    };
    if list.is_empty() {
        errors.push("`errors` is empty".into());
    }
    for (i, e) in list.iter().enumerate() {
        let Some(e) = e.as_object() else {
            errors.push(format!("errors[{i}] is not an object"));
            continue;
        };
        let code = e.get("code").and_then(Value::as_u64);
        let facility = i > 0 && code.is_some_and(|c| c < 400);
        if code != Some(u64::from(status)) && !facility {
            errors.push(format!("errors[{i}].code is not {status}"));
        }
        for key in ["name", "message"] {
            if !e.get(key).is_some_and(Value::is_string) {
                errors.push(format!("errors[{i}].{key} is not a string"));
            }
        }
        if let Some(extra) = e
            .keys()
            .find(|k| !["code", "name", "message"].contains(&k.as_str()))
        {
            errors.push(format!("errors[{i}] has an undeclared `{extra}`"));
        }
    }
    errors
}

fn has_type(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
