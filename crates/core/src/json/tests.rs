#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! [`write_sorted`] against `serde_json::to_vec(&to_value(v))` on every
//! serde shape the typed records use (and the ones they might grow into).

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::*;

fn reference<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    serde_json::to_vec(&serde_json::to_value(v).unwrap_or(Value::Null)).unwrap()
}

fn direct<T: Serialize + ?Sized>(v: &T, style: KeyStyle) -> Vec<u8> {
    let mut out = b"prefix".to_vec();
    write_sorted(v, style, &mut out);
    out.split_off(6)
}

/// The Elasticsearch rewrite on a tree, as the elastic sink did it.
pub(crate) fn escape_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = if k.is_empty() {
                        "_empty".to_owned()
                    } else {
                        k.replace('.', "_")
                    };
                    (key, escape_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(escape_keys).collect()),
        other => other.clone(),
    }
}

fn same<T: Serialize + ?Sized>(v: &T) {
    let want = reference(v);
    let got = direct(v, KeyStyle::Plain);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    let tree = serde_json::to_value(v).unwrap_or(Value::Null);
    let want = serde_json::to_vec(&escape_keys(&tree)).unwrap();
    let got = direct(v, KeyStyle::NoDots);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want),
        "no dots"
    );
}

#[derive(Serialize)]
struct Inner {
    zeta: u8,
    #[serde(rename = "a.b")]
    dotted: &'static str,
    #[serde(rename = "a_b")]
    underscored: &'static str,
    alpha: Option<f32>,
}

#[derive(Serialize)]
struct Flat {
    yes: bool,
    #[serde(flatten)]
    inner: Inner,
    #[serde(flatten)]
    extra: BTreeMap<String, i64>,
    zeta: i8,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Tagged {
    One(Inner),
    Two {
        b: u64,
        a: u64,
    },
    Three,
    /// Fields in key order, the tag after the first, in the middle, last
    /// and first.
    Four {
        a: u8,
        b: u8,
    },
    Five {
        a: u8,
        s: u8,
        u: u8,
        z: u8,
    },
    Six {
        a: u8,
        b: u8,
        c: u8,
    },
    Seven {
        u: u8,
        v: u8,
    },
}

#[derive(Serialize)]
enum External {
    Unit,
    New(i32),
    Tuple(u8, &'static str),
    Struct { z: (), a: char },
}

#[derive(Serialize)]
#[serde(untagged)]
enum Untagged {
    N(f64),
    F(bool),
}

#[derive(Serialize)]
struct Wrapper(Vec<Untagged>);

#[derive(Serialize)]
struct Big {
    big: u128,
}

fn inner() -> Inner {
    Inner {
        zeta: 9,
        dotted: "d",
        underscored: "u",
        alpha: Some(0.1),
    }
}

#[test]
fn structs_come_out_with_their_keys_sorted() {
    same(&inner());
    same(&Inner {
        alpha: Some(f32::NAN),
        ..inner()
    });
}

#[test]
fn flatten_and_duplicate_keys_keep_the_last_value() {
    let mut extra = BTreeMap::new();
    extra.insert("zeta".to_owned(), 5);
    extra.insert("".to_owned(), -1);
    extra.insert("m.n".to_owned(), 2);
    same(&Flat {
        yes: true,
        inner: inner(),
        extra,
        zeta: -3,
    });
}

#[test]
fn enums_in_every_representation() {
    same(&Tagged::One(inner()));
    same(&Tagged::Two { b: 1, a: 2 });
    same(&Tagged::Three);
    same(&Tagged::Four { a: 1, b: 2 });
    same(&Tagged::Five {
        a: 1,
        s: 2,
        u: 3,
        z: 4,
    });
    same(&Tagged::Six { a: 1, b: 2, c: 3 });
    same(&Tagged::Seven { u: 1, v: 2 });
    same(&External::Unit);
    same(&External::New(-7));
    same(&External::Tuple(1, "x"));
    same(&External::Struct { z: (), a: 'é' });
    same(&Wrapper(vec![
        Untagged::N(1.0),
        Untagged::N(-0.0),
        Untagged::N(f64::INFINITY),
        Untagged::F(false),
        Untagged::N(1e300),
        Untagged::N(5e-324),
    ]));
}

#[test]
fn map_keys_are_written_as_a_value_map_keys_them() {
    let mut ints = HashMap::new();
    for i in [10, 9, -1, 100] {
        ints.insert(i, i);
    }
    same(&ints);
    let mut bools = BTreeMap::new();
    bools.insert(true, "t");
    bools.insert(false, "f");
    same(&bools);
    let mut floats: Vec<(f64, u8)> = vec![(1.5, 1), (0.25, 2)];
    floats.sort_by(|a, b| a.0.total_cmp(&b.0));
    same(&floats);
    // A key `to_value` refuses makes the whole value null.
    let mut bad = BTreeMap::new();
    bad.insert(vec![1u8], 1);
    same(&bad);
    same(&Big { big: 1 });
    same(&Big { big: u128::MAX });
    same(&serde_bytes_like());
}

fn serde_bytes_like() -> BTreeMap<&'static str, Vec<u8>> {
    let mut m = BTreeMap::new();
    m.insert("b", vec![0, 255]);
    m.insert("a", vec![]);
    m
}

fn json_tree() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just(String::new()),
        Just("a.b".to_owned()),
        Just("a_b".to_owned()),
        Just("a.z".to_owned()),
        Just("a0".to_owned()),
        "[a-c._]{0,3}",
        "\\PC{0,4}",
        "[\\x00-\\x1f\"\\\\]{1,2}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::String),
        "[\\x00-\\x7f]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kvs| Value::Object(kvs.into_iter().collect())),
        ]
    })
}

proptest! {
    /// A `Value` serializes through the same serde calls as any type, so
    /// arbitrary trees exercise every path of the sorted writer.
    #[test]
    fn any_tree_writes_as_serde_json_writes_it(v in json_tree()) {
        same(&v);
    }

    #[test]
    fn maps_out_of_order_sort_like_a_value_map(kvs in prop::collection::vec(("[a-c.]{0,3}", any::<i32>()), 0..12)) {
        // A Vec of pairs serialized as a map, in the given (unsorted,
        // repeating) order.
        struct Pairs(Vec<(String, i32)>);
        impl Serialize for Pairs {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }
        same(&Pairs(kvs));
    }
}

proptest! {
    #[test]
    fn styled_keys_order_and_write_as_apply_says(
        head in "[a.]{0,9}",
        a in "[._/a-z\\x2d-\\x30é\"]{0,20}|\\PC{0,20}",
        b in "[._/a-z\\x2d-\\x30é\"]{0,20}|\\PC{0,20}",
    ) {
        // Often the same first bytes, so the second word decides.
        let (a, b) = (format!("{head}{a}"), format!("{head}{b}"));
        for style in [KeyStyle::Plain, KeyStyle::NoDots] {
            let (sa, sb) = (style.apply(&a), style.apply(&b));
            prop_assert_eq!(style.rewrites(&a), sa != a.as_str());
            prop_assert_eq!(styled_less(&a, &b, style), sa < sb);
            let mut got = Vec::new();
            styled_key(&mut got, &a, style);
            prop_assert_eq!(got, serde_json::to_vec(sa.as_ref()).unwrap());
        }
        if key_prefix(&a) != key_prefix(&b) {
            prop_assert_eq!(key_prefix(&a).cmp(&key_prefix(&b)), a.cmp(&b));
        }
    }
}
