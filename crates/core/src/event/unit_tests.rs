//! Coercion and vocabulary edge cases of the typed events, on hand-built
//! attribute lists.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use serde_json::json;

use super::*;
use crate::value::kv_str;

pub(super) fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

pub(super) fn int(key: &str, v: i64) -> KeyValue {
    kv(key, Value::IntValue(v))
}

pub(super) fn double(key: &str, v: f64) -> KeyValue {
    kv(key, Value::DoubleValue(v))
}

pub(super) fn boolean(key: &str, v: bool) -> KeyValue {
    kv(key, Value::BoolValue(v))
}

pub(super) fn parse(name: &str, kvs: &[KeyValue]) -> ClaudeEvent {
    ClaudeEvent::parse(name, Attrs(kvs))
}

pub(super) fn to_json(e: &ClaudeEvent) -> serde_json::Value {
    serde_json::to_value(e).expect("serialize")
}

#[test]
fn numbers_arrive_as_strings_ints_or_doubles() {
    let kvs = [
        kv_str("input_tokens", "1234"),
        int("output_tokens", 42),
        double("cache_read_tokens", 3000.0),
        kv_str("cost_usd", "0.0125"),
        int("cost_usd_micros", 12500),
        double("duration_ms", 61.5),
        kv_str("ttft_ms", "19"),
    ];
    let ClaudeEvent::ApiRequest(r) = parse("api_request", &kvs) else {
        panic!("not api_request")
    };
    assert_eq!(r.input_tokens, Some(1234));
    assert_eq!(r.output_tokens, Some(42));
    assert_eq!(r.cache_read_tokens, Some(3000));
    assert_eq!(r.cost_usd, Some(0.0125));
    assert_eq!(r.cost_usd_micros, Some(12500));
    assert_eq!(r.duration_ms, Some(61.5));
    assert_eq!(r.ttft_ms, Some(19.0));
}

#[test]
fn malformed_numbers_are_none() {
    let kvs = [
        double("input_tokens", 12.5),
        int("output_tokens", -3),
        kv_str("cost_usd", "n/a"),
        kv_str("duration_ms", ""),
        boolean("cache_read_tokens", true),
    ];
    let ClaudeEvent::ApiRequest(r) = parse("api_request", &kvs) else {
        panic!("not api_request")
    };
    assert_eq!(r.input_tokens, None, "a fractional token count");
    assert_eq!(r.output_tokens, None, "a negative token count");
    assert_eq!(r.cost_usd, None);
    assert_eq!(r.duration_ms, None);
    assert_eq!(r.cache_read_tokens, None);
}

#[test]
fn duration_ms_is_read_from_every_wire_kind() {
    for (value, want) in [
        (Value::IntValue(36), 36.0),
        (Value::StringValue("36".into()), 36.0),
        (Value::DoubleValue(36.25), 36.25),
        (Value::StringValue(" 36.5 ".into()), 36.5),
    ] {
        let ClaudeEvent::ToolResult(r) = parse("tool_result", &[kv("duration_ms", value)]) else {
            panic!("not tool_result")
        };
        assert_eq!(r.duration_ms, Some(want));
    }
}

#[test]
fn booleans_arrive_as_strings_or_bools() {
    let cases = [
        (kv_str("success", "true"), Some(true)),
        (kv_str("success", "FALSE"), Some(false)),
        (boolean("success", true), Some(true)),
        (kv_str("success", "yes"), None),
        (double("success", 1.0), None),
    ];
    for (attr, want) in cases {
        let ClaudeEvent::ToolResult(r) = parse("tool_result", &[attr]) else {
            panic!("not tool_result")
        };
        assert_eq!(r.success, want);
    }
    let kvs = [
        kv_str("is_built_in", "true"),
        boolean("is_async", false),
        kv_str("model_swapped", "false"),
    ];
    let ClaudeEvent::SubagentCompleted(s) = parse("subagent_completed", &kvs) else {
        panic!("not subagent_completed")
    };
    assert_eq!(
        (s.is_built_in, s.is_async, s.model_swapped),
        (Some(true), Some(false), Some(false))
    );
}

#[test]
fn cowork_undefined_status_code_is_none() {
    let kvs = [
        kv_str("status_code", "undefined"),
        kv_str("attempt", "3"),
        kv_str("error", "boom"),
    ];
    let ClaudeEvent::ApiError(e) = parse("api_error", &kvs) else {
        panic!("not api_error")
    };
    assert_eq!(e.status_code, None);
    assert_eq!(e.attempt, Some(3));
    assert!(e.has_error);
    for (value, want) in [
        (Value::StringValue("529".into()), Some(529)),
        (Value::IntValue(529), Some(529)),
        (Value::DoubleValue(529.0), Some(529)),
        (Value::IntValue(70_000), None),
        (Value::IntValue(-1), None),
    ] {
        let ClaudeEvent::ApiError(e) = parse("api_error", &[kv("status_code", value)]) else {
            panic!("not api_error")
        };
        assert_eq!(e.status_code, want);
    }
    let ClaudeEvent::Auth(a) = parse("auth", &[kv_str("status_code", "401")]) else {
        panic!("not auth")
    };
    assert_eq!(a.status_code, Some(401));
}

#[test]
fn unknown_vocabulary_values_are_kept_as_other() {
    let kvs = [
        kv_str("decision", "defer"),
        kv_str("source", "policy_rule"),
        kv_str("tool_source", "plugin"),
        kv_str("permission_mode", "dontAsk"),
    ];
    let ClaudeEvent::ToolDecision(d) = parse("tool_decision", &kvs) else {
        panic!("not tool_decision")
    };
    assert_eq!(d.decision, Some(Decision::Other("defer".into())));
    assert_eq!(d.source, Some(DecisionSource::Other("policy_rule".into())));
    assert_eq!(d.tool_source, Some(ToolSource::Other("plugin".into())));
    assert_eq!(
        d.permission_mode,
        Some(PermissionMode::Other("dontAsk".into()))
    );
    let json = to_json(&ClaudeEvent::ToolDecision(d));
    assert_eq!(json["decision"], "defer");
    assert_eq!(json["source"], "policy_rule");

    let kvs = [kv_str("speed", "turbo"), kv_str("effort", "extreme")];
    let ClaudeEvent::ApiRequest(r) = parse("api_request", &kvs) else {
        panic!("not api_request")
    };
    assert_eq!(r.speed, Some(Speed::Other("turbo".into())));
    assert_eq!(r.effort, Some(Effort::Other("extreme".into())));
    // An empty value is no value.
    let ClaudeEvent::ApiRequest(r) = parse("api_request", &[kv_str("speed", "")]) else {
        panic!("not api_request")
    };
    assert_eq!(r.speed, None);
}

#[test]
fn decision_keys_fall_back_between_the_two_spellings() {
    // tool_result documents decision_type/decision_source ...
    let kvs = [
        kv_str("decision_type", "accept"),
        kv_str("decision_source", "user_temporary"),
    ];
    let ClaudeEvent::ToolResult(r) = parse("tool_result", &kvs) else {
        panic!("not tool_result")
    };
    assert_eq!(r.decision_type, Some(Decision::Accept));
    assert_eq!(r.decision_source, Some(DecisionSource::UserTemporary));
    // ... tool_decision documents decision/source; each accepts the other.
    let kvs = [
        kv_str("decision_type", "reject"),
        kv_str("decision_source", "user_reject"),
    ];
    let ClaudeEvent::ToolDecision(d) = parse("tool_decision", &kvs) else {
        panic!("not tool_decision")
    };
    assert_eq!(d.decision, Some(Decision::Reject));
    assert_eq!(d.source, Some(DecisionSource::UserReject));
    let kvs = [
        kv_str("source", "hook"),
        kv_str("decision_source", "config"),
    ];
    let ClaudeEvent::ToolDecision(d) = parse("tool_decision", &kvs) else {
        panic!("not tool_decision")
    };
    assert_eq!(
        d.source,
        Some(DecisionSource::Hook),
        "`source` wins on tool_decision"
    );
}

#[test]
fn unknown_event_names_keep_the_name() {
    let e = parse("brand_new_event", &[kv_str("x", "1")]);
    assert_eq!(
        e,
        ClaudeEvent::Unknown {
            name: "brand_new_event".into()
        }
    );
    assert_eq!(e.name(), "brand_new_event");
    assert!(!e.is_known());
    assert_eq!(
        to_json(&e),
        json!({"type": "unknown", "name": "brand_new_event"})
    );
    assert_eq!(parse("", &[]).name(), "");
    // Names are bare and exact: the prefix is stripped by the header, not here.
    assert!(!parse("claude_code.tool_result", &[]).is_known());
    assert!(!parse("Tool_Result", &[]).is_known());
}

#[test]
fn every_known_name_round_trips() {
    let mut names: Vec<&str> = KNOWN_EVENTS.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), KNOWN_EVENTS.len(), "duplicate names");
    assert_eq!(KNOWN_EVENTS.len(), 27);
    for &name in KNOWN_EVENTS {
        let e = parse(name, &[]);
        assert!(e.is_known(), "{name}");
        assert_eq!(e.name(), name);
        assert_eq!(to_json(&e)["type"], name, "serde tag of {name}");
    }
}
