//! Parsing a `_bulk` body the strict way the cluster does, and the
//! `filter_path` reply filter.

use serde_json::{Map, Value};

/// One parsed action with its source.
pub(super) struct Action {
    pub(super) op: String,
    pub(super) index: Option<String>,
    pub(super) id: Option<String>,
    pub(super) source: Option<Result<Value, String>>,
}

const KNOWN_META: [&str; 11] = [
    "_index",
    "_id",
    "routing",
    "pipeline",
    "require_alias",
    "require_data_stream",
    "if_seq_no",
    "if_primary_term",
    "version",
    "version_type",
    "dynamic_templates",
];

/// Parses a `_bulk` body strictly; an `Err` is a request-level `400`.
pub(super) fn parse_ndjson(body: &[u8], target: Option<&str>) -> Result<Vec<Action>, String> {
    if body.is_empty() {
        return Err("Validation Failed: 1: no requests added;".into());
    }
    if body.last() != Some(&b'\n') {
        return Err("The bulk request must be terminated by a newline [\\n]".into());
    }
    let text =
        std::str::from_utf8(body).map_err(|_| "Invalid UTF-8 in the bulk body".to_owned())?;
    let mut lines = text[..text.len() - 1]
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .peekable();
    let mut actions = Vec::new();
    while let Some((n, line)) = lines.next() {
        let n = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|_| {
            format!("Malformed action/metadata line [{n}], expected START_OBJECT or END_OBJECT")
        })?;
        let Some(obj) = v.as_object().filter(|o| o.len() == 1) else {
            return Err(format!(
                "Malformed action/metadata line [{n}], expected a single action"
            ));
        };
        let (op, meta) = obj
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v))
            .unwrap_or_default();
        if !matches!(op.as_str(), "create" | "index" | "update" | "delete") {
            return Err(format!(
                "Malformed action/metadata line [{n}], expected one of [create, delete, index, update] but found [{op}]"
            ));
        }
        let Some(meta) = meta.as_object() else {
            return Err(format!(
                "Malformed action/metadata line [{n}], expected START_OBJECT"
            ));
        };
        if let Some(k) = meta.keys().find(|k| !KNOWN_META.contains(&k.as_str())) {
            return Err(format!(
                "Action/metadata line [{n}] contains an unknown parameter [{k}]"
            ));
        }
        let index = meta
            .get("_index")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| target.map(str::to_owned));
        if index.is_none() {
            return Err(format!(
                "Validation Failed: 1: index is missing for action on line [{n}];"
            ));
        }
        let id = meta.get("_id").and_then(Value::as_str).map(str::to_owned);
        let source = if op == "delete" {
            None
        } else {
            let Some((_, src)) = lines.next() else {
                return Err(format!(
                    "Validation Failed: 1: source is missing for action on line [{n}];"
                ));
            };
            Some(match serde_json::from_str::<Value>(src) {
                Ok(v @ Value::Object(_)) => Ok(v),
                Ok(_) => Err("[1:1] failed to parse: source is not an object".to_owned()),
                Err(_) => Err("[1:1] failed to parse: malformed JSON source".to_owned()),
            })
        };
        actions.push(Action {
            op,
            index,
            id,
            source,
        });
    }
    if actions.is_empty() {
        return Err("Validation Failed: 1: no requests added;".into());
    }
    Ok(actions)
}

/// Applies an Elasticsearch `filter_path` (comma-separated dotted paths,
/// `*` matching any key; arrays are transparent).
pub fn filter_path(v: &Value, filter: &str) -> Value {
    let paths: Vec<Vec<&str>> = filter
        .split(',')
        .map(|p| p.trim().split('.').collect())
        .filter(|p: &Vec<&str>| !p.is_empty() && !p[0].is_empty())
        .collect();
    let refs: Vec<&[&str]> = paths.iter().map(Vec::as_slice).collect();
    keep(v, &refs).unwrap_or_else(|| Value::Object(Map::new()))
}

fn keep(v: &Value, paths: &[&[&str]]) -> Option<Value> {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, child) in m {
                let tails: Vec<&[&str]> = paths
                    .iter()
                    .filter(|p| p[0] == "*" || p[0] == k)
                    .map(|p| &p[1..])
                    .collect();
                if tails.is_empty() {
                    continue;
                }
                if tails.iter().any(|t| t.is_empty()) {
                    out.insert(k.clone(), child.clone());
                } else if let Some(kept) = keep(child, &tails) {
                    out.insert(k.clone(), kept);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => {
            let kept: Vec<Value> = a.iter().filter_map(|c| keep(c, paths)).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        _ => None,
    }
}
