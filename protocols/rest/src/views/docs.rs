//! The human-readable API page (`GET /api/docs`), made from the OpenAPI
//! document: operations grouped by tag, each with its method, path, parameters
//! and responses. Self-contained: inline CSS, no script, no external resource.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::routes::docs::LISTENER_KEY;

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

/// One operation as listed.
struct Op<'a> {
    method: &'a str,
    path: &'a str,
    op: &'a Value,
}

/// The page.
pub fn page(doc: &Value) -> String {
    let base = doc["basePath"].as_str().unwrap_or("");
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let version = doc["info"]["version"].as_str().unwrap_or("");
    let tag_notes: BTreeMap<&str, &str> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["name"].as_str()?, t["description"].as_str()?)))
        .collect();

    let mut groups: BTreeMap<&str, Vec<Op<'_>>> = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                let tag = op["tags"][0].as_str().unwrap_or("other");
                groups.entry(tag).or_default().push(Op { method, path, op });
            }
        }
    }
    // The admin API, on another listener, comes last.
    let mut order: Vec<&str> = groups.keys().copied().filter(|t| *t != "admin").collect();
    if groups.contains_key("admin") {
        order.push("admin");
    }

    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} {v}</title><style>{STYLE}</style></head><body>\
         <h1>{t} <small>{v}</small></h1>\
         <p>Every path below is under <code>{b}</code> unless its section says otherwise. \
         Authenticated operations want <code>Authorization: Bearer base64(user_id:access_token)</code> \
         (or <code>Basic</code>) and <code>X-Caliopen-Device-ID</code>. Errors are \
         <code>{{\"errors\": [{{\"code\", \"name\", \"message\"}}]}}</code>. \
         The machine-readable document is <a href=\"{b}/openapi.json\">{b}/openapi.json</a>.</p><nav><ul>",
        t = esc(title),
        v = esc(version),
        b = esc(base),
    );
    for tag in &order {
        let _ = write!(
            out,
            "<li><a href=\"#tag-{a}\">{n}</a> ({c})</li>",
            a = anchor(tag),
            n = esc(tag),
            c = groups[tag].len()
        );
    }
    out.push_str("</ul></nav>");
    for tag in &order {
        let _ = write!(
            out,
            "<section id=\"tag-{}\"><h2>{}</h2>",
            anchor(tag),
            esc(tag)
        );
        if let Some(note) = tag_notes.get(tag) {
            let _ = write!(out, "<p class=\"note\">{}</p>", esc(note));
        }
        for op in &groups[tag] {
            operation(&mut out, base, op);
        }
        out.push_str("</section>");
    }
    out.push_str("</body></html>\n");
    out
}

fn operation(out: &mut String, base: &str, op: &Op<'_>) {
    let elsewhere = op.op.get(LISTENER_KEY).and_then(Value::as_str);
    let full = match elsewhere {
        Some(_) => op.path.to_owned(),
        None => format!("{base}{}", op.path),
    };
    let _ = write!(
        out,
        "<div class=\"op\"><h3><span class=\"m {m}\">{M}</span> <code>{p}</code>{l}{a}</h3>",
        m = op.method,
        M = op.method.to_ascii_uppercase(),
        p = esc(&full),
        l = elsewhere
            .map(|l| format!(" <span class=\"tag\">{} listener</span>", esc(l)))
            .unwrap_or_default(),
        a = if needs_auth(op.op) {
            ""
        } else {
            " <span class=\"tag\">no authentication</span>"
        },
    );
    if let Some(d) = op.op["description"].as_str() {
        let _ = write!(out, "<p>{}</p>", esc(d));
    }
    let params = op.op["parameters"].as_array().filter(|p| !p.is_empty());
    if let Some(params) = params {
        out.push_str(
            "<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th>description</th></tr>",
        );
        for p in params {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(p["name"].as_str().unwrap_or("")),
                esc(p["in"].as_str().unwrap_or("")),
                esc(&type_of(p.get("schema").unwrap_or(p))),
                if p["required"].as_bool() == Some(true) {
                    "yes"
                } else {
                    "no"
                },
                esc(p["description"].as_str().unwrap_or("")),
            );
        }
        out.push_str("</table>");
    }
    out.push_str("<table><tr><th>status</th><th>description</th><th>body</th></tr>");
    for (code, r) in op.op["responses"].as_object().into_iter().flatten() {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(code),
            esc(r["description"].as_str().unwrap_or("")),
            r.get("schema")
                .map(|s| esc(&type_of(s)))
                .unwrap_or_default(),
        );
    }
    out.push_str("</table></div>");
}

/// Whether the operation wants credentials: its own `security`, else the
/// spec's operations all declare theirs (none means none).
fn needs_auth(op: &Value) -> bool {
    op["security"].as_array().is_some_and(|s| !s.is_empty())
}

/// A short type description: `User`, `array of Device`, `string (date-time)`,
/// `object {total, devices}`.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    let ty = schema["type"].as_str().unwrap_or("any");
    match ty {
        "array" => format!("array of {}", type_of(&schema["items"])),
        "object" => match schema["properties"].as_object() {
            Some(p) if !p.is_empty() => {
                let names: Vec<&str> = p.keys().map(String::as_str).collect();
                format!("object {{{}}}", names.join(", "))
            }
            _ => "object".into(),
        },
        _ => {
            let mut s = ty.to_owned();
            if let Some(f) = schema["format"].as_str() {
                let _ = write!(s, " ({f})");
            }
            if let Some(e) = schema["enum"].as_array() {
                let values: Vec<String> = e.iter().map(Value::to_string).collect();
                let _ = write!(s, ": one of {}", values.join(", "));
            }
            s
        }
    }
}

fn anchor(tag: &str) -> String {
    tag.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// HTML escaping for text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}\
code{font-family:ui-monospace,monospace}\
nav ul{columns:4;list-style:none;padding:0}\
section{border-top:2px solid #ccc;margin-top:2rem}\
.op{margin:1rem 0;padding:.5rem 1rem;border:1px solid #ddd;border-radius:4px}\
.op h3{margin:.2rem 0;font-size:1rem}\
.m{display:inline-block;min-width:4.5rem;text-align:center;color:#fff;border-radius:3px;padding:0 .3rem}\
.get{background:#2a7}.post{background:#27c}.put{background:#a6c}.patch{background:#c82}.delete{background:#c33}\
.tag{font-size:.75rem;background:#eee;border-radius:3px;padding:0 .3rem;font-weight:normal}\
.note{background:#fff7d6;padding:.5rem}\
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}\
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}";
