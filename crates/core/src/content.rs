//! An unambiguous byte encoding of OTLP values, for content hashes: the
//! correlator's deduplication and the sinks' record ids. Every variable-length
//! field goes after its length and every value after a type tag, so no two
//! different values encode the same. Nothing stores these bytes: callers hash
//! them and keep the hash.

use crate::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};

/// Appends `b` after its length: one byte below 255, else 255 and eight
/// bytes, so no field runs into the next. Always inlined: it is an attribute
/// walk's inner step, and a call per field costs more than the field's bytes.
#[inline(always)]
pub fn put(buf: &mut Vec<u8>, b: &[u8]) {
    match u8::try_from(b.len()) {
        Ok(n) if n < u8::MAX => buf.push(n),
        _ => {
            buf.push(u8::MAX);
            buf.extend_from_slice(&(b.len() as u64).to_le_bytes());
        }
    }
    buf.extend_from_slice(b);
}

/// Appends `v`: a type tag, then the value. A key-value list inside it is
/// written by `kvlist` (callers differ in which keys count as content).
pub fn any(buf: &mut Vec<u8>, v: &AnyValue, kvlist: fn(&mut Vec<u8>, &[KeyValue])) {
    match &v.value {
        None => buf.push(0),
        Some(Value::StringValue(s)) => {
            buf.push(1);
            put(buf, s.as_bytes());
        }
        Some(Value::BoolValue(b)) => buf.extend_from_slice(&[2, u8::from(*b)]),
        Some(Value::IntValue(i)) => {
            buf.push(3);
            buf.extend_from_slice(&i.to_le_bytes());
        }
        Some(Value::DoubleValue(d)) => {
            buf.push(4);
            buf.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        Some(Value::BytesValue(b)) => {
            buf.push(5);
            put(buf, b);
        }
        Some(Value::ArrayValue(a)) => {
            buf.push(6);
            buf.extend_from_slice(&(a.values.len() as u64).to_le_bytes());
            for x in &a.values {
                any(buf, x, kvlist);
            }
        }
        Some(Value::KvlistValue(kv)) => {
            buf.push(7);
            kvlist(buf, &kv.values);
        }
        Some(Value::StringValueStrindex(i)) => {
            buf.push(8);
            buf.extend_from_slice(&i.to_le_bytes());
        }
    }
}

/// Appends every key and value of `kvs`, after their count.
pub fn attrs(buf: &mut Vec<u8>, kvs: &[KeyValue]) {
    buf.extend_from_slice(&(kvs.len() as u64).to_le_bytes());
    for kv in kvs {
        put(buf, kv.key.as_bytes());
        match &kv.value {
            Some(v) => any(buf, v, attrs),
            None => buf.push(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::kv_str;

    fn enc(kvs: &[KeyValue]) -> Vec<u8> {
        let mut b = Vec::new();
        attrs(&mut b, kvs);
        b
    }

    #[test]
    fn boundaries_lengths_and_tags_are_unambiguous() {
        assert_ne!(enc(&[kv_str("ab", "c")]), enc(&[kv_str("a", "bc")]));
        let long = "x".repeat(300);
        let mut b = Vec::new();
        put(&mut b, long.as_bytes());
        assert_eq!(b.len(), 1 + 8 + 300);
        assert_eq!(b[0], u8::MAX);
        let int = KeyValue {
            key: "k".into(),
            value: Some(AnyValue {
                value: Some(Value::IntValue(i64::from(b'1'))),
            }),
            ..Default::default()
        };
        assert_ne!(enc(&[int]), enc(&[kv_str("k", "1")]));
        let missing = KeyValue {
            key: "k".into(),
            ..Default::default()
        };
        assert_ne!(enc(&[missing]), enc(&[kv_str("k", "")]));
    }
}
