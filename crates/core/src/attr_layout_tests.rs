#![allow(clippy::unwrap_used)]
//! Kept attribute layouts against the tree: every list written the
//! ordinary way, then again through its kept layout (with other values
//! under the same keys, among other lists that replace it), serializes as
//! `attrs_to_json` does, in both key styles.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value};
use proptest::prelude::*;

use super::same;
use crate::{
    json::{KeyStyle, tests::escape_keys},
    value::{attrs_to_json, kv_str, write_attrs_json},
};

#[test]
fn same_is_byte_equality() {
    let texts = [
        "",
        "a",
        "ab",
        "abcdefg",
        "abcdefgh",
        "abcdefghi",
        "abcdefghijklmnop",
        "abcdefghijklmnopq",
        "abcdefghijklmnopqrstuvwxyz0",
    ];
    for a in texts {
        for b in texts {
            assert_eq!(same(a.as_bytes(), b.as_bytes()), a == b, "{a} {b}");
        }
        // One byte changed at every position.
        for i in 0..a.len() {
            let mut c = a.as_bytes().to_vec();
            c[i] ^= 1;
            assert!(!same(a.as_bytes(), &c), "{a} at {i}");
        }
    }
}

/// Keys that repeat, collide once dots are rewritten, sort otherwise once
/// rewritten, need escapes, or are empty.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ab._]{1,3}",
        "(event|session|user)[._](id|name|a[.]b)",
        "[a-z.\"\\\\\n\u{e9}]{0,20}",
    ]
}

fn kvs_of(pairs: Vec<(String, Option<AnyValue>)>) -> Vec<KeyValue> {
    pairs
        .into_iter()
        .map(|(key, value)| KeyValue {
            key,
            value,
            ..Default::default()
        })
        .collect()
}

/// Unset, scalars, and lists of attributes (nested up to twice).
fn value() -> impl Strategy<Value = Option<AnyValue>> {
    let leaf = prop_oneof![
        Just(None),
        any::<i64>().prop_map(|i| Some(AnyValue {
            value: Some(Value::IntValue(i))
        })),
        "[a-z\"]{0,12}".prop_map(|s| Some(AnyValue {
            value: Some(Value::StringValue(s))
        })),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop::collection::vec((key(), inner), 0..4).prop_map(|pairs| {
            Some(AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: kvs_of(pairs),
                })),
            })
        })
    })
}

fn list() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec((key(), value()), 0..12).prop_map(kvs_of)
}

fn check(kvs: &[KeyValue]) {
    let tree = serde_json::Value::Object(attrs_to_json(kvs));
    for (style, want) in [
        (KeyStyle::Plain, serde_json::to_vec(&tree).unwrap()),
        (
            KeyStyle::NoDots,
            serde_json::to_vec(&escape_keys(&tree)).unwrap(),
        ),
    ] {
        let mut got = b"x".to_vec();
        write_attrs_json(kvs, style, &mut got);
        assert_eq!(
            String::from_utf8_lossy(&got[1..]),
            String::from_utf8_lossy(&want),
            "{style:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn kept_layouts_write_what_the_tree_does(
        lists in prop::collection::vec(list(), 1..6),
        values in prop::collection::vec(value(), 12),
    ) {
        for _ in 0..2 {
            for kvs in &lists {
                check(kvs);
                let mut other = kvs.clone();
                for (kv, v) in other.iter_mut().zip(&values) {
                    kv.value = v.clone();
                }
                check(&other);
            }
        }
    }
}

#[test]
fn more_lists_than_slots_take_turns() {
    let lists: Vec<Vec<KeyValue>> = (0..200)
        .map(|n| {
            (0..1 + n % 7)
                .map(|i| kv_str(format!("k.{}.{i}", n % 13), "v"))
                .collect()
        })
        .collect();
    for _ in 0..2 {
        for kvs in &lists {
            check(kvs);
        }
    }
}

#[test]
fn long_lists_and_long_keys_are_written_without_a_layout() {
    let many: Vec<KeyValue> = (0..60)
        .rev()
        .map(|i| kv_str(format!("a.{i}"), "v"))
        .collect();
    let long: Vec<KeyValue> = (0..3)
        .map(|i| kv_str(format!("{i}.{}", "x".repeat(600)), "v"))
        .collect();
    for _ in 0..2 {
        check(&many);
        check(&long);
    }
}

#[test]
fn lists_alike_but_in_their_middle_keys_are_told_apart() {
    // The same length, key lengths, first and last key: one fingerprint,
    // so one set, and only the keys themselves differ.
    let middles = ["a.b", "a_b", "b.a", "aab", "a.a"];
    let mut lists = Vec::new();
    for x in middles {
        for y in middles {
            lists.push(vec![
                kv_str("first", "1"),
                kv_str(x, "2"),
                kv_str(y, "3"),
                kv_str("last", "4"),
            ]);
        }
    }
    for _ in 0..3 {
        for kvs in &lists {
            check(kvs);
        }
    }
}
