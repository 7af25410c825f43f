//! Typing every event of the real Claude Code 2.1.330 captures.
//!
//! Each scenario's `logs-*.pb` bodies are decoded, named with
//! [`EventHeader::read`] and typed with [`ClaudeEvent::parse`], exactly as
//! `Batch::from_logs` does.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use opentelemetry_proto::tonic::{
    collector::logs::v1::ExportLogsServiceRequest, logs::v1::LogRecord,
};
use prost::Message;

use super::*;
use crate::{record::EventHeader, value::attrs_to_json};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/claude-code-2.1.330"
);

/// The fake secrets in the captured prompt (and echoed in the response).
const SECRETS: [&str; 2] = ["AKIAIOSFODNN7EXAMPLE", "078-05-1120"];

/// One typed log record of a fixture.
struct Parsed {
    header: EventHeader,
    event: ClaudeEvent,
    log: LogRecord,
}

/// The scenario directories, sorted.
fn scenarios() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .unwrap_or_else(|e| panic!("fixtures missing at {FIXTURES}: {e}"))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Every log record of a scenario's `logs-*.pb` files, in arrival order.
fn parse_dir(dir: &Path) -> Vec<Parsed> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenario dir")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("logs-") && name.ends_with(".pb")
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).expect("read fixture");
        let req = ExportLogsServiceRequest::decode(bytes.as_slice())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for log in req
            .resource_logs
            .into_iter()
            .flat_map(|rl| rl.scope_logs)
            .flat_map(|sl| sl.log_records)
        {
            let header = EventHeader::read(&log);
            let event = ClaudeEvent::parse(&header.name, Attrs(&log.attributes));
            out.push(Parsed { header, event, log });
        }
    }
    out
}

fn scenario(name: &str) -> Vec<Parsed> {
    let parsed = parse_dir(&Path::new(FIXTURES).join(name));
    assert!(!parsed.is_empty(), "{name} has no log records");
    parsed
}

fn all_events<'a, T>(parsed: &'a [Parsed], pick: impl Fn(&'a ClaudeEvent) -> Option<T>) -> Vec<T> {
    parsed.iter().filter_map(|p| pick(&p.event)).collect()
}

#[test]
fn every_captured_event_has_a_typed_variant() {
    let mut scenarios_with_logs = 0;
    let mut seen = BTreeSet::new();
    for dir in scenarios() {
        let parsed = parse_dir(&dir);
        if parsed.is_empty() {
            continue; // http/json and gzip-only scenarios carry no `logs-*.pb`
        }
        scenarios_with_logs += 1;
        for p in &parsed {
            let name = p.header.name.as_str();
            assert!(
                KNOWN_EVENTS.contains(&name),
                "{}: {name} not known",
                dir.display()
            );
            assert!(
                p.event.is_known(),
                "{}: {name} parsed to Unknown",
                dir.display()
            );
            assert_eq!(p.event.name(), name);
            let json = serde_json::to_value(&p.event).expect("serialize");
            assert_eq!(json["type"], name, "serde tag of {name}");
            seen.insert(name.to_owned());
        }
    }
    assert!(
        scenarios_with_logs >= 9,
        "only {scenarios_with_logs} scenarios with logs-*.pb"
    );
    for name in [
        "managed_settings_resolved",
        "plugin_loaded",
        "user_prompt",
        "tool_decision",
        "tool_result",
        "api_request",
        "assistant_response",
        "api_error",
        "api_retries_exhausted",
    ] {
        assert!(seen.contains(name), "{name} never seen in the fixtures");
    }
}

#[test]
fn grpc_api_request_has_usage_and_cost() {
    let parsed = scenario("grpc");
    let requests = all_events(&parsed, |e| match e {
        ClaudeEvent::ApiRequest(r) => Some(r),
        _ => None,
    });
    assert_eq!(requests.len(), 2);
    for r in requests {
        assert_eq!(r.model.as_deref(), Some("claude-opus-5-5"));
        assert_eq!(r.input_tokens, Some(1234));
        assert_eq!(r.output_tokens, Some(42));
        assert_eq!(r.cache_read_tokens, Some(3000));
        assert_eq!(r.cache_creation_tokens, Some(200));
        assert_eq!(r.cache_creation_5m_tokens, Some(0));
        assert!(
            r.cost_usd.is_some_and(|c| c > 0.0),
            "cost_usd {:?}",
            r.cost_usd
        );
        assert!(r.cost_usd_micros.is_some_and(|c| c > 0));
        assert!(r.duration_ms.is_some() && r.ttft_ms.is_some());
        assert!(
            r.request_id
                .as_deref()
                .is_some_and(|id| id.starts_with("req_"))
        );
        assert_eq!(r.speed, Some(Speed::Normal));
        assert_eq!(r.effort, Some(Effort::Medium));
        assert_eq!(r.query_source.as_deref(), Some("sdk"));
        assert!(r.attribution.is_empty());
    }
}

#[test]
fn grpc_tool_events_are_typed_from_string_values() {
    let parsed = scenario("grpc");
    let results = all_events(&parsed, |e| match e {
        ClaudeEvent::ToolResult(r) => Some(r),
        _ => None,
    });
    let bash = results
        .iter()
        .find(|r| r.tool_name.as_deref() == Some("Bash"))
        .expect("a Bash tool_result");
    // success, duration_ms and the sizes are strings on the wire.
    assert_eq!(bash.success, Some(true));
    assert!(bash.duration_ms.is_some());
    assert_eq!(bash.tool_input_size_bytes, Some(52));
    assert_eq!(bash.tool_result_size_bytes, Some(5));
    assert!(bash.has_tool_input && bash.has_tool_parameters && !bash.has_error);
    // The Bash parameters are all command-derived: nothing typed is lifted.
    assert_eq!(bash.parameters, None);
    assert_eq!(bash.tool_use_id.as_deref(), Some("toolu_fake000001"));

    let decision = all_events(&parsed, |e| match e {
        ClaudeEvent::ToolDecision(d) => Some(d),
        _ => None,
    });
    assert_eq!(decision.len(), 1);
    let d = decision[0];
    assert_eq!(d.decision, Some(Decision::Accept));
    assert_eq!(d.source, Some(DecisionSource::Config));
    assert_eq!(d.tool_source, Some(ToolSource::Builtin));
    assert_eq!(d.permission_mode, Some(PermissionMode::Default));
    assert_eq!(d.tool_name.as_deref(), Some("Bash"));
    assert_eq!(
        d.tool_use_id, bash.tool_use_id,
        "tool_use_id joins decision and result"
    );
}

#[test]
fn grpc_prompt_and_response_keep_lengths_only() {
    let parsed = scenario("grpc");
    let prompts = all_events(&parsed, |e| match e {
        ClaudeEvent::UserPrompt(p) => Some(p),
        _ => None,
    });
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0].prompt_length, Some(137)); // a string on the wire
    assert!(prompts[0].has_prompt);
    assert!(prompts[0].message_uuid.is_some());

    let responses = all_events(&parsed, |e| match e {
        ClaudeEvent::AssistantResponse(r) => Some(r),
        _ => None,
    });
    assert_eq!(responses.len(), 2);
    assert!(
        responses
            .iter()
            .all(|r| r.has_response && r.response_length.is_some())
    );
    assert!(
        responses
            .iter()
            .all(|r| r.model.as_deref() == Some("claude-opus-5-5"))
    );
}

#[test]
fn grpc_startup_events_are_typed() {
    let parsed = scenario("grpc");
    let settings = all_events(&parsed, |e| match e {
        ClaudeEvent::ManagedSettingsResolved(s) => Some(s),
        _ => None,
    });
    assert_eq!(settings.len(), 1);
    assert_eq!(settings[0].trigger.as_deref(), Some("startup"));
    assert_eq!(settings[0].sources, Some(vec![]));
    assert_eq!(settings[0].source_behavior.as_deref(), Some("first-wins"));

    let plugins = all_events(&parsed, |e| match e {
        ClaudeEvent::PluginLoaded(p) => Some(p),
        _ => None,
    });
    assert_eq!(plugins.len(), 3);
    for p in plugins {
        assert_eq!(p.marketplace_name.as_deref(), Some("builtin"));
        assert_eq!(p.has_hooks, Some(true));
        assert_eq!(p.safe_mode, Some(false)); // the string "false"
        assert_eq!(p.skill_path_count, Some(0));
        assert!(p.plugin_id_hash.is_some());
    }
}

fn api_errors(parsed: &[Parsed]) -> Vec<&ApiError> {
    all_events(parsed, |e| match e {
        ClaudeEvent::ApiError(r) => Some(r),
        _ => None,
    })
}

fn retries_exhausted(parsed: &[Parsed]) -> Vec<&ApiRetriesExhausted> {
    all_events(parsed, |e| match e {
        ClaudeEvent::ApiRetriesExhausted(r) => Some(r),
        _ => None,
    })
}

#[test]
fn api_error_529_has_attempts_but_no_status_code() {
    let parsed = scenario("api-error-529");
    let errors = api_errors(&parsed);
    assert_eq!(errors.len(), 1);
    // 2.1.330 sends no `status_code` after repeated 529s (the capture is
    // right over the docs): the 529 is only in the error text.
    assert_eq!(errors[0].status_code, None);
    assert_eq!(errors[0].attempt, Some(3));
    assert!(errors[0].has_error);
    assert_eq!(errors[0].model.as_deref(), Some("claude-opus-5-5"));
    let exhausted = retries_exhausted(&parsed);
    assert_eq!(exhausted.len(), 1);
    assert_eq!(exhausted[0].total_attempts, Some(3));
    assert!(
        exhausted[0]
            .total_retry_duration_ms
            .is_some_and(|d| d > 0.0)
    );
}

#[test]
fn api_error_500_and_400_carry_status_and_attempt() {
    let parsed = scenario("api-error-500");
    let errors = api_errors(&parsed);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].status_code, errors[0].attempt),
        (Some(500), Some(3))
    );
    assert_eq!(retries_exhausted(&parsed)[0].status_code, Some(500));

    let parsed = scenario("api-error-400");
    let errors = api_errors(&parsed);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].status_code, errors[0].attempt),
        (Some(400), Some(1))
    );
    assert!(errors[0].request_id.is_some());
    assert!(
        retries_exhausted(&parsed).is_empty(),
        "a 400 is not retried"
    );
}

#[test]
fn a_retried_then_successful_call_has_no_api_error() {
    let parsed = scenario("api-flaky-529-then-ok");
    assert!(api_errors(&parsed).is_empty());
    assert!(
        parsed
            .iter()
            .any(|p| matches!(p.event, ClaudeEvent::ApiRequest(_)))
    );
}

#[test]
fn typed_views_never_hold_content() {
    let mut raw_had_secret = false;
    for dir in scenarios() {
        for p in parse_dir(&dir) {
            let raw = serde_json::Value::Object(attrs_to_json(&p.log.attributes)).to_string();
            raw_had_secret |= SECRETS.iter().any(|s| raw.contains(s));
            let typed = serde_json::to_string(&p.event).expect("serialize");
            for needle in SECRETS
                .iter()
                .chain(&["echo hello", "Print hello", "quick command"])
            {
                assert!(
                    !typed.contains(needle),
                    "{}: typed {} holds {needle:?}: {typed}",
                    dir.display(),
                    p.header.name
                );
            }
        }
    }
    assert!(
        raw_had_secret,
        "the fixtures should carry the secrets in raw attributes"
    );
}
