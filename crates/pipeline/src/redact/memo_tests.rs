//! The per-request memo changes nothing anyone can see: a request scrubbed
//! whole (values reused from the memo) equals its records scrubbed one
//! request each (every value scanned), text, tags and counters alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_core::{otlp::common::v1::KeyValue, scrub::Scrubber, value::Attrs};
use prometheus_client::{encoding::text::encode, registry::Registry};
use proptest::prelude::*;

use super::{
    Action, RedactStage,
    tests::{AWS, kv, record_attrs, request, s, stage, tag},
};

/// A stage where `user.email` and `user.id` are hashed and values over 100
/// bytes are unscannable (so the memo also holds fail-closed verdicts).
fn hashing_stage() -> RedactStage {
    stage(
        vec![("user.email", Action::Hash), ("user.id", Action::Hash)],
        100,
    )
}

/// The stage's counters as sorted exposition lines (families iterate in
/// hash order).
fn counters(st: &RedactStage) -> Vec<String> {
    let mut registry = Registry::default();
    st.stats().register(&mut registry);
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_secret_repeated_in_every_record_is_redacted_tagged_and_counted_each_time() {
    let st = hashing_stage();
    let records = (0..5)
        .map(|_| {
            vec![
                kv("prompt", s(&format!("key {AWS}"))),
                kv("user.email", s("Dev@Example.com")),
            ]
        })
        .collect();
    let mut req = request(vec![], records);
    st.logs(&mut req);
    let logs = &req.resource_logs[0].scope_logs[0].log_records;
    let first_pseudonym = Attrs(&logs[0].attributes).str("user.email").unwrap();
    for log in logs {
        let a = Attrs(&log.attributes);
        assert_eq!(a.str("prompt"), Some("key [REDACTED:aws_access_key_id]"));
        assert_eq!(a.str("user.email"), Some(first_pseudonym));
        assert_eq!(tag(&log.attributes), vec!["aws_access_key_id"]);
    }
    assert_eq!(st.stats().records.get(), 5);
    let found = counters(&st);
    assert!(
        found.contains(
            &"cairn_redactions_total{kind=\"aws_access_key_id\",attribute=\"prompt\"} 5".to_owned()
        ),
        "{found:?}"
    );
    assert!(
        found.contains(
            &"cairn_redaction_policy_total{reason=\"hash\",attribute=\"user.email\"} 5".to_owned()
        ),
        "{found:?}"
    );
}

#[test]
fn the_same_text_hashed_as_an_email_and_as_an_id_keeps_both_pseudonyms() {
    // `user.email` is normalised before hashing, `user.id` is not: a memo
    // keyed by the text alone would hand one the other's pseudonym.
    let st = hashing_stage();
    let text = " Dev@Example.com";
    let mut req = request(
        vec![],
        vec![
            vec![kv("user.email", s(text)), kv("user.id", s(text))],
            vec![kv("user.id", s(text)), kv("user.email", s(text))],
            vec![kv("prompt", s(text))],
        ],
    );
    st.logs(&mut req);
    let logs = &req.resource_logs[0].scope_logs[0].log_records;
    let (email, id) = {
        let a = Attrs(&logs[0].attributes);
        (a.str("user.email").unwrap(), a.str("user.id").unwrap())
    };
    assert_ne!(email, id);
    let a = Attrs(&logs[1].attributes);
    assert_eq!(
        (a.str("user.email"), a.str("user.id")),
        (Some(email), Some(id))
    );
    // Scanned where it is not hashed.
    assert_ne!(Attrs(&logs[2].attributes).str("prompt"), Some(email));
    assert_ne!(Attrs(&logs[2].attributes).str("prompt"), Some(id));
}

const VALUES: &[&str] = &[
    "abc",
    "vscode",
    "claude-sonnet-4-5",
    "6f1f3c2a-0000-4000-8000-000000000001",
    "2026-11-22T18:00:00.000Z",
    "ssn 078-05-1120",
    "Dev@Example.com",
    "dev@example.com ",
    "card 4111 1111 1111 1111 ok",
    "key=AKIAIOSFODNN7EXAMPLE",
    "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(VALUES).prop_map(str::to_owned),
        // Short values past the 100-byte scan limit: remembered as unscannable.
        1 => (101usize..=128).prop_map(|n| "x".repeat(n)),
        // Longer than the memo takes: scanned every time.
        1 => (129usize..300).prop_map(|n| format!("{AWS} {}", "y".repeat(n))),
    ]
}

fn attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    let key = proptest::sample::select(vec!["prompt", "user.email", "user.id", "model", "k"]);
    proptest::collection::vec((key, value()), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| kv(k, s(&v)))
            .collect::<Vec<_>>()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_request_scrubbed_whole_equals_its_records_scrubbed_alone(
        resource in attrs(),
        records in proptest::collection::vec(attrs(), 1..8),
    ) {
        let whole_stage = hashing_stage();
        let mut whole = request(resource.clone(), records.clone());
        whole_stage.logs(&mut whole);

        let alone_stage = hashing_stage();
        let mut alone_records = Vec::new();
        let mut alone_resource = None;
        for attrs in records {
            let mut one = request(resource.clone(), vec![attrs]);
            alone_stage.logs(&mut one);
            alone_records.push(record_attrs(&one).to_vec());
            alone_resource = one.resource_logs[0].resource.clone();
        }

        let rl = &whole.resource_logs[0];
        let whole_records: Vec<Vec<KeyValue>> = rl.scope_logs[0]
            .log_records
            .iter()
            .map(|l| l.attributes.clone())
            .collect();
        prop_assert_eq!(whole_records, alone_records);
        prop_assert_eq!(&rl.resource, &alone_resource);
        // The resource was scrubbed once per request alone, once whole:
        // compare the record counters, which do not depend on that.
        prop_assert_eq!(whole_stage.stats().records.get(), alone_stage.stats().records.get());
        let resource_free = |lines: Vec<String>| -> Vec<String> {
            lines.into_iter().filter(|l| !l.contains("attribute=\"resource:")).collect()
        };
        prop_assert_eq!(
            resource_free(counters(&whole_stage)),
            resource_free(counters(&alone_stage))
        );
    }
}
