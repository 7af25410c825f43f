//! The fake cluster's document store and dynamic mapping: what each
//! action does to it, and the per-item answers.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde_json::{Value, json};

use super::{Logic, bulk::Action};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FieldKind {
    Object,
    Leaf,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) docs: BTreeMap<(String, String), Value>,
    /// Dynamic mapping per index: field path → object or leaf.
    pub(super) mappings: HashMap<String, HashMap<String, FieldKind>>,
    pub(super) fail_ids: HashMap<String, VecDeque<u16>>,
    pub(super) fail_positions: HashMap<(usize, usize), u16>,
    pub(super) drop_after: HashSet<usize>,
    pub(super) statuses: BTreeMap<usize, Vec<u16>>,
    pub(super) next_auto_id: u64,
    pub(super) seq_no: u64,
}

fn is_data_stream(index: &str) -> bool {
    index
        .strip_prefix("logs-")
        .is_some_and(|rest| rest.contains('-'))
}

/// Whether a `@timestamp` value parses as a `date` (RFC 3339 / ISO 8601
/// with a zone, or epoch milliseconds).
fn valid_timestamp(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_i64().is_some(),
        Value::String(s) => {
            let b = s.as_bytes();
            let digits = |r: std::ops::Range<usize>| {
                b.get(r.clone())
                    .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            };
            let shape = b.len() >= 20
                && digits(0..4)
                && b[4] == b'-'
                && digits(5..7)
                && b[7] == b'-'
                && digits(8..10)
                && b[10] == b'T'
                && digits(11..13)
                && b[13] == b':'
                && digits(14..16)
                && b[16] == b':'
                && digits(17..19);
            shape && (s.ends_with('Z') || s[19..].contains(['+', '-']))
        }
        _ => false,
    }
}

/// The field paths of a document as dynamic mapping sees them: dotted keys
/// expand into objects, arrays are transparent, nulls add nothing.
fn field_paths(
    v: &Value,
    prefix: &str,
    depth: usize,
    out: &mut Vec<(String, FieldKind, usize)>,
) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            if !prefix.is_empty() {
                out.push((prefix.to_owned(), FieldKind::Object, depth));
            }
            for (k, child) in m {
                let parts: Vec<&str> = k.split('.').collect();
                if parts.iter().any(|p| p.trim().is_empty()) {
                    return Err(format!(
                        "field name [{k}] cannot be empty or hold an empty part"
                    ));
                }
                let mut path = prefix.to_owned();
                let mut d = depth;
                for (i, part) in parts.iter().enumerate() {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(part);
                    d += 1;
                    if i + 1 < parts.len() {
                        out.push((path.clone(), FieldKind::Object, d));
                    }
                }
                field_paths(child, &path, d, out)?;
            }
            Ok(())
        }
        Value::Array(a) => {
            for child in a {
                field_paths(child, prefix, depth, out)?;
            }
            Ok(())
        }
        Value::Null => Ok(()),
        _ => {
            out.push((prefix.to_owned(), FieldKind::Leaf, depth));
            Ok(())
        }
    }
}

impl Logic {
    /// Runs the actions against the store; one item per action.
    pub(super) fn apply(&self, request: usize, actions: Vec<Action>) -> Vec<(String, Value)> {
        let mut s = self.state.lock().unwrap();
        let mut items = Vec::with_capacity(actions.len());
        for (pos, a) in actions.into_iter().enumerate() {
            let index = a.index.clone().unwrap_or_default();
            let id = a.id.clone().unwrap_or_else(|| {
                s.next_auto_id += 1;
                format!("auto-{}", s.next_auto_id)
            });
            let backing = if is_data_stream(&index) {
                format!(".ds-{index}-2026.01.05-000001")
            } else {
                index.clone()
            };
            let fail = |status: u16, kind: &str, reason: &str| {
                json!({"_index": backing, "_id": id, "status": status,
                       "error": {"type": kind, "reason": reason, "index": backing}})
            };
            let scripted = s
                .fail_positions
                .remove(&(request, pos))
                .or_else(|| s.fail_ids.get_mut(&id).and_then(VecDeque::pop_front));
            let item = if let Some(status) = scripted {
                match status {
                    429 => fail(
                        429,
                        "es_rejected_execution_exception",
                        "rejected execution of primary operation [shard_detail=[.ds][0][P]]",
                    ),
                    400 => fail(400, "document_parsing_exception", "[1:2] failed to parse"),
                    404 => fail(
                        404,
                        "index_not_found_exception",
                        "no such index [logs-cairn.audit-default] and [require_data_stream] request flag is [true]",
                    ),
                    s if s >= 500 => fail(
                        s,
                        "unavailable_shards_exception",
                        "primary shard is not active",
                    ),
                    s => fail(s, "exception", "scripted item failure"),
                }
            } else {
                self.store(&mut s, &a, &index, &id, &backing, fail)
            };
            items.push((a.op, item));
        }
        items
    }

    fn store(
        &self,
        s: &mut State,
        a: &Action,
        index: &str,
        id: &str,
        backing: &str,
        fail: impl Fn(u16, &str, &str) -> Value,
    ) -> Value {
        let key = (index.to_owned(), id.to_owned());
        let stream = is_data_stream(index);
        if stream && a.op != "create" {
            return fail(
                400,
                "illegal_argument_exception",
                "only write ops with an op_type of create are allowed in data streams",
            );
        }
        let source = match &a.source {
            Some(Ok(v)) => v.clone(),
            Some(Err(e)) => return fail(400, "document_parsing_exception", e),
            None => Value::Null,
        };
        if a.op == "delete" {
            return match s.docs.remove(&key) {
                Some(_) => {
                    json!({"_index": backing, "_id": id, "result": "deleted", "status": 200})
                }
                None => json!({"_index": backing, "_id": id, "result": "not_found", "status": 404}),
            };
        }
        if stream {
            match source.get("@timestamp") {
                None => {
                    return fail(
                        400,
                        "document_parsing_exception",
                        "[1:1] failed to parse: data stream timestamp field [@timestamp] is missing",
                    );
                }
                Some(t) if !valid_timestamp(t) => {
                    return fail(
                        400,
                        "document_parsing_exception",
                        "[1:15] failed to parse field [@timestamp] of type [date]",
                    );
                }
                Some(_) => {}
            }
        }
        if let Some(ip) = source.get("source").and_then(|s| s.get("ip"))
            && ip
                .as_str()
                .and_then(|t| t.parse::<std::net::IpAddr>().ok())
                .is_none()
        {
            return fail(
                400,
                "document_parsing_exception",
                &format!(
                    "[1:40] failed to parse field [source.ip] of type [ip] in document with id '{id}'. Preview of field's value: '{ip}'"
                ),
            );
        }
        if let Some(labels) = source.get("labels").and_then(Value::as_object)
            && let Some((k, _)) = labels.iter().find(|(_, v)| v.is_object() || v.is_array())
        {
            return fail(
                400,
                "document_parsing_exception",
                &format!(
                    "[1:60] failed to parse field [labels.{k}] of type [keyword] in document with id '{id}'"
                ),
            );
        }
        let mapped = if a.op == "update" {
            source.get("doc").cloned().unwrap_or(Value::Null)
        } else {
            source.clone()
        };
        if let Err(reason) = self.map(s, index, &mapped) {
            return fail(400, "document_parsing_exception", &reason);
        }
        let exists = s.docs.contains_key(&key);
        match a.op.as_str() {
            "create" if exists => fail(
                409,
                "version_conflict_engine_exception",
                &format!("[{id}]: version conflict, document already exists (current version [1])"),
            ),
            "update" if !exists => fail(
                404,
                "document_missing_exception",
                &format!("[{id}]: document missing"),
            ),
            "update" => {
                if let (Some(Value::Object(old)), Some(Value::Object(new))) =
                    (s.docs.get_mut(&key), source.get("doc"))
                {
                    for (k, v) in new {
                        old.insert(k.clone(), v.clone());
                    }
                }
                s.seq_no += 1;
                json!({"_index": backing, "_id": id, "result": "updated", "status": 200, "_seq_no": s.seq_no})
            }
            _ => {
                s.docs.insert(key, source);
                s.seq_no += 1;
                let (result, status) = if exists {
                    ("updated", 200)
                } else {
                    ("created", 201)
                };
                json!({"_index": backing, "_id": id, "_version": 1, "result": result, "status": status, "_seq_no": s.seq_no})
            }
        }
    }

    /// Dynamic mapping: refuses an object/leaf conflict, too deep a field,
    /// or more fields than the limit; records the new fields otherwise.
    fn map(&self, s: &mut State, index: &str, source: &Value) -> Result<(), String> {
        let mut paths = Vec::new();
        field_paths(source, "", 0, &mut paths)?;
        let mapping = s.mappings.entry(index.to_owned()).or_default();
        let mut added: HashMap<String, FieldKind> = HashMap::new();
        for (path, kind, depth) in paths {
            if depth > self.max_depth {
                return Err(format!(
                    "Limit of mapping depth [{}] has been exceeded due to object field [{path}]",
                    self.max_depth
                ));
            }
            let known = mapping.get(&path).or_else(|| added.get(&path)).copied();
            match known {
                Some(k) if k != kind => {
                    return Err(format!(
                        "can't merge a non object mapping [{path}] with an object mapping"
                    ));
                }
                Some(_) => {}
                None => {
                    added.insert(path, kind);
                }
            }
        }
        if let Some(limit) = self.max_fields
            && mapping.len() + added.len() > limit
        {
            return Err(format!(
                "Limit of total fields [{limit}] has been exceeded while adding new fields [{}]",
                added.len()
            ));
        }
        mapping.extend(added);
        Ok(())
    }
}
