//! The shape of the typed events: content reported by presence only, the
//! keys lifted from `tool_parameters`, nesting and flattening in JSON, and the
//! counters of the hook and housekeeping events.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use serde_json::json;

use super::{
    unit_tests::{boolean, double, int, parse, to_json},
    *,
};
use crate::value::kv_str;

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
