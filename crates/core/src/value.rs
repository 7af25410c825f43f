//! Reading OTLP `AnyValue`s the way Claude Code actually sends them.
//!
//! The same attribute changes wire type between events and releases
//! (`duration_ms` is an int on `api_request` and a string on `tool_result`;
//! booleans are mostly the strings `"true"`/`"false"`). Every accessor here
//! therefore coerces: numbers are accepted as string, int or double, booleans as
//! string or bool. Nothing here mutates a value: the original stays on the
//! record, these are views.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};

use crate::{
    attr_layout,
    json::{self, KeyStyle},
};

/// A borrowed view over a list of attributes with coercing getters.
///
/// Lookups are linear: OTLP attribute lists are short (Claude Code sends
/// 15–40 per record) and a linear scan over a contiguous `Vec` beats hashing
/// at that size.
#[derive(Clone, Copy, Debug)]
pub struct Attrs<'a>(pub &'a [KeyValue]);

impl<'a> Attrs<'a> {
    /// The raw value under `key`, if present. The first occurrence wins.
    pub fn get(&self, key: &str) -> Option<&'a AnyValue> {
        self.0
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
    }

    /// Whether `key` is present at all (even with an empty value).
    pub fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|kv| kv.key == key)
    }

    /// A string attribute; numbers and booleans are *not* turned into strings
    /// here, so `str` never invents text that was not sent.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(as_str)
    }

    /// A string attribute, owned.
    pub fn string(&self, key: &str) -> Option<String> {
        self.str(key).map(str::to_owned)
    }

    /// A number sent as string, int or double.
    pub fn f64(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(as_f64)
    }

    /// An integer sent as string, int or integral double.
    pub fn i64(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(as_i64)
    }

    /// A non-negative integer sent as string, int or integral double.
    pub fn u64(&self, key: &str) -> Option<u64> {
        self.i64(key).and_then(|v| u64::try_from(v).ok())
    }

    /// A boolean sent as bool or as the strings `true`/`false` (any case).
    pub fn bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(as_bool)
    }

    /// A string array (`workspace.host_paths`); non-string members are skipped.
    pub fn strings(&self, key: &str) -> Option<Vec<String>> {
        match self.get(key)?.value.as_ref()? {
            Value::ArrayValue(arr) => Some(
                arr.values
                    .iter()
                    .filter_map(as_str)
                    .map(str::to_owned)
                    .collect(),
            ),
            Value::StringValue(s) => Some(vec![s.clone()]),
            _ => None,
        }
    }
}

/// The text of a string value.
pub fn as_str(v: &AnyValue) -> Option<&str> {
    match v.value.as_ref()? {
        Value::StringValue(s) => Some(s.as_str()),
        _ => None,
    }
}

/// A number from a string, int or double value.
pub fn as_f64(v: &AnyValue) -> Option<f64> {
    match v.value.as_ref()? {
        Value::IntValue(i) => Some(*i as f64),
        Value::DoubleValue(d) if d.is_finite() => Some(*d),
        Value::StringValue(s) => s.trim().parse::<f64>().ok().filter(|d| d.is_finite()),
        _ => None,
    }
}

/// An integer from a string, int or integral double value.
pub fn as_i64(v: &AnyValue) -> Option<i64> {
    match v.value.as_ref()? {
        Value::IntValue(i) => Some(*i),
        Value::DoubleValue(d) => double_to_i64(*d),
        Value::StringValue(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(double_to_i64))
        }
        _ => None,
    }
}

fn double_to_i64(d: f64) -> Option<i64> {
    // 2^63 as f64; anything at or beyond it does not fit.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (d.is_finite() && d.fract() == 0.0 && d.abs() < LIMIT).then_some(d as i64)
}

/// A boolean from a bool value or the strings `true`/`false`.
pub fn as_bool(v: &AnyValue) -> Option<bool> {
    match v.value.as_ref()? {
        Value::BoolValue(b) => Some(*b),
        Value::StringValue(s) => {
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") {
                Some(true)
            } else if s.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        }
        Value::IntValue(0) => Some(false),
        Value::IntValue(1) => Some(true),
        _ => None,
    }
}

/// Renders a value as plain JSON for the records file: strings stay strings,
/// ints and doubles become numbers (non-finite doubles become strings), bytes
/// become base64, arrays and maps nest. An empty value is `null`.
pub fn to_json(v: &AnyValue) -> serde_json::Value {
    use base64::Engine as _;
    use serde_json::Value as J;
    match &v.value {
        None => J::Null,
        Some(Value::StringValue(s)) => J::String(s.clone()),
        Some(Value::BoolValue(b)) => J::Bool(*b),
        Some(Value::IntValue(i)) => J::from(*i),
        Some(Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(J::Number)
            .unwrap_or_else(|| J::String(d.to_string())),
        Some(Value::BytesValue(b)) => {
            J::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Some(Value::ArrayValue(a)) => J::Array(a.values.iter().map(to_json).collect()),
        Some(Value::KvlistValue(kv)) => J::Object(attrs_to_json(&kv.values)),
        // A string-table reference only exists in the profiles signal.
        Some(Value::StringValueStrindex(i)) => J::from(*i),
    }
}

/// Renders an attribute list as a JSON object. A repeated key keeps its first
/// value, matching [`Attrs::get`].
pub fn attrs_to_json(kvs: &[KeyValue]) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::with_capacity(kvs.len());
    for kv in kvs {
        if !map.contains_key(&kv.key) {
            let v = kv
                .value
                .as_ref()
                .map(to_json)
                .unwrap_or(serde_json::Value::Null);
            map.insert(kv.key.clone(), v);
        }
    }
    map
}

/// The text of a value that [`to_json`] renders as a JSON string: a
/// string, a non-finite double (`NaN`, `inf`, `-inf`) or bytes (base64);
/// `None` for anything rendered otherwise.
pub fn json_text(v: &AnyValue) -> Option<std::borrow::Cow<'_, str>> {
    use base64::Engine as _;
    use std::borrow::Cow;
    match v.value.as_ref()? {
        Value::StringValue(s) => Some(Cow::Borrowed(s)),
        Value::DoubleValue(d) if !d.is_finite() => Some(Cow::Owned(d.to_string())),
        Value::BytesValue(b) => Some(Cow::Owned(
            base64::engine::general_purpose::STANDARD.encode(b),
        )),
        _ => None,
    }
}

/// Writes a value as [`to_json`] renders it, straight into `out`: the same
/// bytes as `serde_json::to_vec(&to_json(v))` (keys in `style`).
pub fn write_json(v: &AnyValue, style: KeyStyle, out: &mut Vec<u8>) {
    use base64::Engine as _;
    match &v.value {
        None => json::null(out),
        Some(Value::StringValue(s)) => json::str(out, s),
        Some(Value::BoolValue(b)) => json::bool(out, *b),
        Some(Value::IntValue(i)) => json::i64(out, *i),
        Some(Value::DoubleValue(d)) if d.is_finite() => json::f64(out, *d),
        // `NaN`, `inf`, `-inf`: what `to_json` keeps as a string.
        Some(Value::DoubleValue(d)) => json::str(out, &d.to_string()),
        Some(Value::BytesValue(b)) => {
            json::str(out, &base64::engine::general_purpose::STANDARD.encode(b))
        }
        Some(Value::ArrayValue(a)) => {
            out.push(b'[');
            for (i, item) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(item, style, out);
            }
            out.push(b']');
        }
        Some(Value::KvlistValue(kv)) => write_attrs_json(&kv.values, style, out),
        Some(Value::StringValueStrindex(i)) => json::i64(out, i64::from(*i)),
    }
}

/// Attribute lists up to this long are sorted on the stack.
const ON_STACK: usize = 48;

/// Writes an attribute list as [`attrs_to_json`] renders it: keys sorted,
/// a repeated key with its first value, the same bytes as
/// `serde_json::to_vec` of that map (keys in `style`). Where its members
/// go and how their keys are written is worked out once per list of keys
/// and remembered (`attr_layout`).
pub fn write_attrs_json(kvs: &[KeyValue], style: KeyStyle, out: &mut Vec<u8>) {
    attr_layout::write(
        kvs,
        style,
        out,
        |kv, out| write_value(kv, style, out),
        |out, notes| write_attrs_fresh(kvs, style, out, notes),
    );
}

/// An attribute's value as [`write_json`] writes it, `null` when unset.
#[inline]
fn write_value(kv: &KeyValue, style: KeyStyle, out: &mut Vec<u8>) {
    match &kv.value {
        Some(v) => write_json(v, style, out),
        None => json::null(out),
    }
}

/// [`write_attrs_json`] worked out in full: the keys sorted, repeats
/// dropped and the keys styled, each member's index and `"key":` span
/// noted in `notes` when given.
fn write_attrs_fresh(
    kvs: &[KeyValue],
    style: KeyStyle,
    out: &mut Vec<u8>,
    mut notes: Option<&mut attr_layout::Notes>,
) {
    // Sorted by a key's first eight bytes as a number, then by the key:
    // the same order as by the key, with most comparisons one integer
    // compare. Stable: of equal keys the first sent stays first, and dedup
    // keeps it. Short lists are sorted on the stack.
    const _: () = assert!(attr_layout::MAX_KEYS <= ON_STACK);
    let mut stack = [(0u64, 0usize); ON_STACK];
    let mut heap: Vec<(u64, usize)>;
    let keyed: &mut [(u64, usize)] = if kvs.len() <= ON_STACK {
        &mut stack[..kvs.len()]
    } else {
        heap = vec![(0, 0); kvs.len()];
        &mut heap
    };
    for (slot, (i, kv)) in keyed.iter_mut().zip(kvs.iter().enumerate()) {
        *slot = (json::key_prefix(&kv.key), i);
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| kvs[a.1].key.cmp(&kvs[b.1].key)));
    let mut kept = 0;
    for n in 0..keyed.len() {
        if kept == 0 || kvs[keyed[kept - 1].1].key != kvs[keyed[n].1].key {
            keyed[kept] = keyed[n];
            kept += 1;
        }
    }
    let order = keyed[..kept].iter().map(|&(_, i)| i);
    // One member: the separator, `"key":` (noted) and the value.
    let mut member = |out: &mut Vec<u8>, n: usize, i: usize, key: &dyn Fn(&mut Vec<u8>)| {
        if n > 0 {
            out.push(b',');
        }
        let start = out.len();
        key(out);
        out.push(b':');
        if let Some(notes) = notes.as_deref_mut() {
            notes.push((i, start..out.len()));
        }
        write_value(&kvs[i], style, out);
    };
    out.push(b'{');
    let plain = style == KeyStyle::Plain || order.clone().all(|i| !style.rewrites(&kvs[i].key));
    if plain {
        for (n, i) in order.enumerate() {
            member(out, n, i, &|out| json::str(out, &kvs[i].key));
        }
    } else if keyed[..kept]
        .windows(2)
        .all(|w| json::styled_less(&kvs[w[0].1].key, &kvs[w[1].1].key, style))
    {
        // The rewritten keys are already in order and none collide (the
        // usual case): written in place, none built.
        for (n, i) in order.enumerate() {
            member(out, n, i, &|out| json::styled_key(out, &kvs[i].key, style));
        }
    } else {
        // Rewritten keys that collide keep the greatest original key's
        // value, as collecting the rewritten pairs into a map would.
        let mut styled: Vec<(std::borrow::Cow<'_, str>, usize)> =
            order.map(|i| (style.apply(&kvs[i].key), i)).collect();
        styled.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(std::borrow::Cow<'_, str>, usize)> = Vec::with_capacity(styled.len());
        for (key, i) in styled {
            match kept.last_mut() {
                Some(last) if last.0 == key => *last = (key, i),
                _ => kept.push((key, i)),
            }
        }
        for (n, (key, i)) in kept.iter().enumerate() {
            member(out, n, *i, &|out| json::str(out, key));
        }
    }
    out.push(b'}');
}

/// Builds a string attribute.
pub fn kv_str(key: impl Into<String>, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(value: Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    #[test]
    fn numbers_coerce_from_every_wire_form() {
        assert_eq!(as_f64(&v(Value::StringValue(" 42.5 ".into()))), Some(42.5));
        assert_eq!(as_f64(&v(Value::IntValue(7))), Some(7.0));
        assert_eq!(as_i64(&v(Value::DoubleValue(12.0))), Some(12));
        assert_eq!(as_i64(&v(Value::DoubleValue(12.5))), None);
        assert_eq!(as_i64(&v(Value::StringValue("1e3".into()))), Some(1000));
        assert_eq!(as_i64(&v(Value::DoubleValue(f64::NAN))), None);
        assert_eq!(as_i64(&v(Value::DoubleValue(1e300))), None);
        assert_eq!(as_f64(&v(Value::StringValue("inf".into()))), None);
        assert_eq!(as_f64(&v(Value::BoolValue(true))), None);
    }

    #[test]
    fn booleans_coerce_from_strings_and_bools() {
        assert_eq!(as_bool(&v(Value::StringValue("TRUE".into()))), Some(true));
        assert_eq!(as_bool(&v(Value::StringValue("false".into()))), Some(false));
        assert_eq!(as_bool(&v(Value::StringValue("yes".into()))), None);
        assert_eq!(as_bool(&v(Value::BoolValue(false))), Some(false));
    }

    #[test]
    fn first_key_wins_and_missing_is_none() {
        let kvs = vec![kv_str("a", "1"), kv_str("a", "2")];
        let attrs = Attrs(&kvs);
        assert_eq!(attrs.str("a"), Some("1"));
        assert_eq!(attrs.u64("a"), Some(1));
        assert_eq!(attrs.str("b"), None);
        assert_eq!(attrs_to_json(&kvs).get("a"), Some(&serde_json::json!("1")));
    }
}
