//! Coercion and vocabulary edge cases of the typed events, on hand-built
//! attribute lists.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use serde_json::json;

use super::*;
use crate::value::kv_str;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn int(key: &str, v: i64) -> KeyValue {
    kv(key, Value::IntValue(v))
}

fn double(key: &str, v: f64) -> KeyValue {
    kv(key, Value::DoubleValue(v))
}

fn boolean(key: &str, v: bool) -> KeyValue {
    kv(key, Value::BoolValue(v))
}

fn parse(name: &str, kvs: &[KeyValue]) -> ClaudeEvent {
    ClaudeEvent::parse(name, Attrs(kvs))
}

fn to_json(e: &ClaudeEvent) -> serde_json::Value {
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

#[test]
fn content_is_reported_by_presence_only() {
    let secret = "my key is AKIAIOSFODNN7EXAMPLE";
    let kvs = [kv_str("prompt", secret), kv_str("prompt_length", "26")];
    let e = parse("user_prompt", &kvs);
    let ClaudeEvent::UserPrompt(p) = &e else {
        panic!("not user_prompt")
    };
    assert!(p.has_prompt);
    assert_eq!(p.prompt_length, Some(26));
    assert!(!serde_json::to_string(&e).expect("json").contains("AKIA"));

    let redacted = [kv_str("prompt", "<REDACTED>"), int("prompt_length", 26)];
    let ClaudeEvent::UserPrompt(p) = parse("user_prompt", &redacted) else {
        panic!()
    };
    assert!(!p.has_prompt, "the placeholder is not content");
    assert_eq!(p.prompt_length, Some(26));

    let kvs = [
        kv_str("error", secret),
        kv_str("body", secret),
        int("body_length", 9),
    ];
    for name in [
        "api_error",
        "api_request_body",
        "compaction",
        "mcp_server_connection",
    ] {
        let json = serde_json::to_string(&parse(name, &kvs)).expect("json");
        assert!(!json.contains("AKIA"), "{name}: {json}");
    }
    let ClaudeEvent::ApiResponseBody(b) = parse("api_response_body", &kvs) else {
        panic!()
    };
    assert!(b.has_body && !b.has_body_ref);
    assert_eq!(b.body_length, Some(9));
}

#[test]
fn tool_parameters_lift_only_non_content_keys() {
    let mcp = r#"{"mcp_server_name":"github","mcp_tool_name":"create_issue","body":"AKIAIOSFODNN7EXAMPLE"}"#;
    let ClaudeEvent::ToolResult(r) = parse("tool_result", &[kv_str("tool_parameters", mcp)]) else {
        panic!()
    };
    let p = r.parameters.expect("typed parameters");
    assert_eq!(p.mcp_server_name.as_deref(), Some("github"));
    assert_eq!(p.mcp_tool_name.as_deref(), Some("create_issue"));

    let bash = r#"{"bash_command":"curl","full_command":"curl -H 'x: AKIAIOSFODNN7EXAMPLE'","timeout":"120000","dangerouslyDisableSandbox":true}"#;
    let e = parse("tool_decision", &[kv_str("tool_parameters", bash)]);
    let ClaudeEvent::ToolDecision(d) = &e else {
        panic!()
    };
    let p = d.parameters.as_ref().expect("typed parameters");
    assert_eq!(
        (p.timeout, p.dangerously_disable_sandbox),
        (Some(120_000), Some(true))
    );
    let json = serde_json::to_string(&e).expect("json");
    assert!(!json.contains("AKIA") && !json.contains("curl"), "{json}");

    for bad in ["not json", "[1,2]", r#"{"description":"x"}"#, "<REDACTED>"] {
        let ClaudeEvent::ToolResult(r) = parse("tool_result", &[kv_str("tool_parameters", bad)])
        else {
            panic!()
        };
        assert_eq!(r.parameters, None, "{bad}");
    }
}

#[test]
fn attribution_nests_and_disappears_when_empty() {
    let kvs = [
        kv_str("agent.name", "reviewer"),
        kv_str("mcp_tool.name", "third-party"),
    ];
    let json = to_json(&parse("api_error", &kvs));
    assert_eq!(
        json["attribution"],
        json!({"agent_name": "reviewer", "mcp_tool_name": "third-party"})
    );
    let json = to_json(&parse("api_request", &[]));
    assert_eq!(
        json,
        json!({"type": "api_request"}),
        "empty options are skipped"
    );
}

#[test]
fn hook_events_count_and_flatten() {
    let kvs = [
        kv_str("hook_name", "PreToolUse:Write"),
        kv_str("num_hooks", "2"),
        kv_str("managed_only", "false"),
        int("num_success", 1),
        int("num_blocking", 1),
        double("total_duration_ms", 12.5),
        kv_str("hook_definitions", "[{\"command\":\"rm -rf /\"}]"),
    ];
    let e = parse("hook_execution_complete", &kvs);
    let json = to_json(&e);
    assert_eq!(json["type"], "hook_execution_complete");
    assert_eq!(json["hook_name"], "PreToolUse:Write");
    assert_eq!(json["num_hooks"], 2);
    assert_eq!(json["managed_only"], false);
    assert_eq!(json["total_duration_ms"], 12.5);
    assert_eq!(json["has_hook_definitions"], true);
    assert!(!json.to_string().contains("rm -rf"));
}

#[test]
fn hook_plugin_metrics_keep_numbers_and_flags_only() {
    let mut kvs = vec![
        kv_str("plugin_id", "acme@market"),
        int("event.sequence", 7),
        boolean("anthropic.custom_base_url", true),
        kv_str("department", "engineering"),
        int("blocked", 3),
        double("latency_ms", 1.5),
        boolean("cache_hit", true),
        kv_str("note", "42"),
    ];
    let ClaudeEvent::HookPluginMetrics(m) = parse("hook_plugin_metrics", &kvs) else {
        panic!()
    };
    assert_eq!(m.plugin_id.as_deref(), Some("acme@market"));
    let keys: Vec<&str> = m.metrics.keys().map(String::as_str).collect();
    assert_eq!(keys, ["blocked", "cache_hit", "latency_ms"]);
    assert_eq!(m.metrics["cache_hit"], PluginMetricValue::Flag(true));
    kvs.extend((0..30).map(|i| int(&format!("m{i:02}"), i)));
    let ClaudeEvent::HookPluginMetrics(m) = parse("hook_plugin_metrics", &kvs) else {
        panic!()
    };
    assert_eq!(m.metrics.len(), 20);
}

#[test]
fn housekeeping_events_read_their_counters() {
    let kvs = [
        kv_str("result", "ok"),
        kv_str("period_days", "30"),
        int("deleted_sessions", 4),
        kv_str("files_deleted", "12"),
        int("error_count", 0),
    ];
    let ClaudeEvent::RetentionSweep(r) = parse("retention_sweep", &kvs) else {
        panic!()
    };
    assert_eq!((r.period_days, r.error_count), (Some(30), Some(0)));
    assert_eq!(r.deleted.get("deleted_sessions"), Some(&4));
    assert_eq!(r.deleted.get("files_deleted"), Some(&12));

    let ClaudeEvent::InternalError(e) = parse("internal_error", &[int("error_code", 17)]) else {
        panic!()
    };
    assert_eq!(e.error_code.as_deref(), Some("17"));

    let kvs = [
        kv_str("from_mode", "default"),
        kv_str("to_mode", "acceptEdits"),
    ];
    let ClaudeEvent::PermissionModeChanged(p) = parse("permission_mode_changed", &kvs) else {
        panic!()
    };
    assert_eq!(
        (p.from_mode, p.to_mode),
        (
            Some(PermissionMode::Default),
            Some(PermissionMode::AcceptEdits)
        )
    );

    let kvs = [
        kv_str("status", "failed"),
        kv_str("error", "ECONNREFUSED 10.0.0.1"),
    ];
    let ClaudeEvent::McpServerConnection(c) = parse("mcp_server_connection", &kvs) else {
        panic!()
    };
    assert_eq!(c.status, Some(McpConnectionStatus::Failed));
    assert!(c.has_error);
}
