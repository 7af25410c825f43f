//! Interop with the real OpenTelemetry Python SDK: `interop/otel_export.py`
//! exports a Claude Code-shaped log record, cost counter and span pair to
//! cairn's real receivers (loopback, port 0) over OTLP/gRPC and over
//! OTLP/HTTP+protobuf, and these tests assert what arrived and how it was
//! typed. A wrong token must make the SDK report failure and store nothing.
//!
//! The interpreter is `$CAIRN_PYTHON`, else `<repo>/.venv/bin/python` (which
//! `.ci/run` creates). Without either the tests fail: they never skip.

use std::{
    io::Read,
    path::PathBuf,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use cairn_core::{
    event::ClaudeEvent,
    metric::{MetricKind, Temporality},
    otlp::common::v1::any_value::Value,
    record::{Batch, EventRecord, MetricRecord, Record, RecordBody, SpanRecord},
    signal::{Protocol, Signal},
    source::SourceProduct,
    span::SpanKind,
    value::Attrs,
};
use cairn_testkit::{eventually, gateway::TestGateway};

use crate::util;

const TOKEN: &str = "interop-token-0123456789";
const TENANT: &str = "py-sdk";
/// What `otel_export.py` sends (keep in step with the script).
const SESSION_ID: &str = "0b6e7c1e-5d1f-4c3a-9e57-1f0c2d3e4a5b";
const PROMPT_ID: &str = "prompt-7f3a9c21";
const TOOL_USE_ID: &str = "toolu_01InteropPythonSdk";
const MODEL: &str = "claude-sonnet-4-5";
/// Bound on one run of the script (interpreter start-up included).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The Python interpreter with the OpenTelemetry SDK installed.
/// The interpreter: `CAIRN_PYTHON`, else `<repo>/.venv/bin/python`, which is
/// created from `tests/e2e/interop/requirements.txt` on first use (as
/// `.ci/run` does), so `cargo test --workspace` works on a fresh machine.
fn python() -> PathBuf {
    static VENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if let Some(p) = std::env::var_os("CAIRN_PYTHON") {
        let p = PathBuf::from(p);
        assert!(p.exists(), "CAIRN_PYTHON={} does not exist", p.display());
        return p;
    }
    let root = util::repo_root();
    let venv = root.join(".venv/bin/python");
    let _one_at_a_time = VENV.lock().unwrap_or_else(|e| e.into_inner());
    let ready = venv.exists()
        && std::process::Command::new(&venv)
            .args(["-c", "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.grpc, opentelemetry.exporter.otlp.proto.http"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        let made = std::process::Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(root.join(".venv"))
            .status();
        assert!(
            made.is_ok_and(|s| s.success()),
            "python3 -m venv .venv failed"
        );
        let pip = std::process::Command::new(root.join(".venv/bin/pip"))
            .args(["install", "-q", "-r"])
            .arg(root.join("tests/e2e/interop/requirements.txt"))
            .status();
        assert!(
            pip.is_ok_and(|s| s.success()),
            "installing the OpenTelemetry SDK into .venv failed; run `.ci/run` or set CAIRN_PYTHON"
        );
    }
    venv
}

fn script() -> PathBuf {
    util::repo_root().join("tests/e2e/interop/otel_export.py")
}

/// Where the script should export for `protocol` on `gw`.
fn endpoint(gw: &TestGateway, protocol: Protocol) -> String {
    match protocol {
        Protocol::Grpc => gw.grpc_addr.to_string(),
        Protocol::HttpProtobuf => format!("http://{}", gw.http_addr),
        Protocol::HttpJson => unreachable!("the script does not send OTLP/JSON"),
    }
}

/// Runs the script once, bounded by [`SCRIPT_TIMEOUT`]; killed if it overruns.
///
/// `std::process` with `try_wait` polling, because the workspace's tokio is
/// built without its `process` feature.
async fn run_script(gw: &TestGateway, protocol: Protocol, token: &str) -> Output {
    let flag = if protocol == Protocol::Grpc {
        "grpc"
    } else {
        "http"
    };
    let mut cmd = Command::new(python());
    cmd.arg(script())
        .args([
            "--protocol",
            flag,
            "--endpoint",
            &endpoint(gw, protocol),
            "--token",
            token,
        ])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "grpc_proxy",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    // The SDK must not pick up exporter settings from the environment.
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("OTEL_") {
            cmd.env_remove(var);
        }
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", python().display()));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
            panic!(
                "otel_export.py --protocol {flag} did not finish within {SCRIPT_TIMEOUT:?}; stderr:\n{err}"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn records(batches: &[Batch]) -> impl Iterator<Item = &Record> {
    batches.iter().flat_map(|b| &b.records)
}

/// Event records, with the record they came in (for its identity).
fn events(batches: &[Batch]) -> Vec<(&Record, &EventRecord)> {
    records(batches)
        .filter_map(|r| match &r.body {
            RecordBody::Event(e) => Some((r, &**e)),
            _ => None,
        })
        .collect()
}

fn metrics(batches: &[Batch]) -> Vec<&MetricRecord> {
    records(batches)
        .filter_map(|r| match &r.body {
            RecordBody::Metric(m) => Some(&**m),
            _ => None,
        })
        .collect()
}

fn spans(batches: &[Batch]) -> Vec<&SpanRecord> {
    records(batches)
        .filter_map(|r| match &r.body {
            RecordBody::Span(s) => Some(&**s),
            _ => None,
        })
        .collect()
}

/// Whether everything the script sends has been received.
fn all_arrived(gw: &TestGateway) -> bool {
    let batches = gw.ingest.batches();
    !events(&batches).is_empty()
        && metrics(&batches)
            .iter()
            .any(|m| m.typed.kind == MetricKind::CostUsage)
        && spans(&batches).len() >= 2
}

/// Asserts everything the script sent arrived over `protocol`, typed right.
fn assert_arrived(batches: &[Batch], protocol: Protocol) {
    for b in batches {
        assert_eq!(
            b.origin.protocol, protocol,
            "a {:?} batch arrived with the wrong protocol",
            b.origin.signal
        );
        assert_eq!(
            b.origin.tenant.as_deref(),
            Some(TENANT),
            "a batch is missing the token's tenant"
        );
    }
    for signal in Signal::ALL {
        assert!(
            batches
                .iter()
                .any(|b| b.origin.signal == signal && !b.records.is_empty()),
            "no {signal:?} records arrived over {protocol:?}"
        );
    }
    for r in records(batches) {
        assert_eq!(
            r.source,
            SourceProduct::ClaudeCode,
            "service.name=claude-code must be detected as Claude Code"
        );
    }

    // The event.
    let events = events(batches);
    let prompts: Vec<_> = events
        .iter()
        .filter(|(_, e)| e.header.name == "user_prompt")
        .collect();
    assert_eq!(
        prompts.len(),
        1,
        "exactly one user_prompt event expected, got: {events:#?}"
    );
    let (record, e) = *prompts[0];
    assert_eq!(e.header.prompt_id.as_deref(), Some(PROMPT_ID), "prompt.id");
    assert_eq!(
        record.identity.session_id.as_deref(),
        Some(SESSION_ID),
        "session.id"
    );
    assert_eq!(e.header.sequence, Some(3), "event.sequence");
    let seq = Attrs(&e.log.attributes)
        .get("event.sequence")
        .and_then(|v| v.value.clone());
    assert_eq!(
        seq,
        Some(Value::IntValue(3)),
        "the SDK sends event.sequence as an int and cairn keeps it so"
    );
    let ClaudeEvent::UserPrompt(p) = &e.event else {
        panic!("user_prompt typed as {:?}", e.event)
    };
    assert_eq!(
        p.prompt_length,
        Some(42),
        "prompt_length \"42\" (a string) is read as a number"
    );
    assert!(!p.has_prompt, "no prompt text was sent");

    // The counter.
    let cost: Vec<_> = metrics(batches)
        .into_iter()
        .filter(|m| m.typed.kind == MetricKind::CostUsage)
        .collect();
    let points: Vec<_> = cost.iter().flat_map(|m| &m.typed.points).collect();
    assert_eq!(points.len(), 1, "one cost point expected: {cost:#?}");
    assert_eq!(points[0].value, 0.25, "cost value");
    assert_eq!(
        points[0].model.as_deref(),
        Some(MODEL),
        "cost point's model attribute"
    );
    for m in &cost {
        assert_eq!(m.metric.unit, "USD", "cost unit");
        if !m.typed.points.is_empty() {
            assert_eq!(
                m.typed.temporality,
                Temporality::Delta,
                "the script asks for DELTA counters"
            );
            assert!(m.typed.monotonic, "a counter is a monotonic sum");
        }
    }

    // The spans.
    let spans = spans(batches);
    assert_eq!(spans.len(), 2, "two spans expected: {spans:#?}");
    let find = |kind: SpanKind| {
        let found: Vec<_> = spans.iter().filter(|s| s.typed.kind == kind).collect();
        assert_eq!(found.len(), 1, "exactly one {kind:?} span expected");
        *found[0]
    };
    let (interaction, tool) = (find(SpanKind::Interaction), find(SpanKind::Tool));
    assert_eq!(
        tool.typed.tool_use_id.as_deref(),
        Some(TOOL_USE_ID),
        "tool span's tool_use_id"
    );
    assert_eq!(
        interaction.typed.prompt_id.as_deref(),
        Some(PROMPT_ID),
        "interaction span's prompt.id"
    );
    assert!(
        interaction.span.parent_span_id.is_empty(),
        "the interaction span is the root"
    );
    assert_eq!(
        tool.span.parent_span_id, interaction.span.span_id,
        "tool span's parent is the interaction"
    );
    assert_eq!(
        tool.span.trace_id, interaction.span.trace_id,
        "both spans share one trace"
    );
    assert_eq!(tool.span.trace_id.len(), 16, "trace_id is 16 bytes");
}

/// Exports with the SDK over `protocol` and checks what arrived.
async fn interop(protocol: Protocol) {
    let gw = TestGateway::builder()
        .token(TOKEN, Some(TENANT))
        .start()
        .await;
    let out = run_script(&gw, protocol, TOKEN).await;
    assert!(
        out.status.success(),
        "the Python SDK reported a failed export over {protocol:?}:\n{}",
        describe(&out)
    );
    eventually!(all_arrived(&gw), 15);
    assert_arrived(&gw.ingest.batches(), protocol);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_exports_over_grpc() {
    interop(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_exports_over_http_protobuf() {
    interop(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_with_a_wrong_token_fails_and_nothing_arrives() {
    let gw = TestGateway::builder()
        .token(TOKEN, Some(TENANT))
        .start()
        .await;
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let out = run_script(&gw, protocol, "not-the-token-9876543210").await;
        assert!(
            !out.status.success(),
            "the SDK must report failure when cairn refuses its token over {protocol:?}:\n{}",
            describe(&out)
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "the script should fail on export, not crash, over {protocol:?}:\n{}",
            describe(&out)
        );
    }
    assert_eq!(
        gw.ingest.record_count(),
        0,
        "nothing may be stored for a refused token"
    );
    assert!(
        gw.ingest.batches().is_empty(),
        "no batch may be submitted for a refused token"
    );
    gw.stop().await;
}
