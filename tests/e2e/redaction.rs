//! Redaction, proven on the real binary.
//!
//! 1. `cairn redact --jsonl` over the labeled corpus, scored by the corpus's
//!    own `score.py`: recall ≥ 0.99 overall and ≥ 0.95 per kind, false
//!    positives ≤ 1%.
//! 2. The real captures plus requests full of corpus secrets, sent over every
//!    protocol and into every place a string can sit (log bodies and
//!    attributes, nested arrays and maps, bytes, span attributes and events,
//!    metric points, resource attributes), then every file cairn wrote, its
//!    own log at debug level and every request body its sinks sent (OTLP,
//!    Splunk HEC, Sumo Logic, Elastic, Datadog, Sentinel, each against its
//!    contract fake) are searched for every secret: none may be found, in raw
//!    or JSON-escaped form, whole or as a 16-byte fragment.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use cairn_core::otlp::{
    collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    },
    common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    metrics::v1::{
        Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data,
        number_data_point,
    },
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Span, span::Event},
};
use cairn_testkit::{fixtures, grpc};
use prost::Message;

use crate::{
    binary::{Gateway, cairn_bin},
    test_sinks::TestSinks,
    util::http_client,
};

struct Case {
    text: String,
    secrets: Vec<Vec<u8>>,
}

fn corpus() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures::shared().join("redaction/cases.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|c| {
            let t = c["text"].as_str()?.to_owned();
            let bytes = t.as_bytes();
            let secrets: Vec<Vec<u8>> = c["spans"]
                .as_array()?
                .iter()
                .filter(|s| !s["optional"].as_bool().unwrap_or(false))
                .map(|s| {
                    bytes
                        [s["start"].as_u64().unwrap() as usize..s["end"].as_u64().unwrap() as usize]
                        .to_vec()
                })
                .collect();
            (!secrets.is_empty()).then_some(Case { text: t, secrets })
        })
        .collect()
}

#[test]
fn cli_redact_meets_the_corpus_floor() {
    let cases = std::fs::read(fixtures::shared().join("redaction/cases.jsonl")).unwrap();
    let mut child = Command::new(cairn_bin())
        .args(["redact", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&cases).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("outputs.jsonl");
    std::fs::write(&outputs, &out.stdout).unwrap();
    let scored = Command::new("python3")
        .arg(fixtures::shared().join("redaction/score.py"))
        .arg(fixtures::shared().join("redaction/cases.jsonl"))
        .arg(&outputs)
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8(scored.stdout).unwrap();
    let json_end = text.rfind('}').unwrap() + 1;
    let score: serde_json::Value = serde_json::from_str(&text[..json_end]).unwrap();
    assert_eq!(score["missing_outputs"], 0);
    let recall = score["recall"].as_f64().unwrap();
    let fp = score["fp_rate"].as_f64().unwrap();
    assert!(recall >= 0.99, "overall recall {recall}");
    assert!(fp <= 0.01, "false positives {fp}");
    for (kind, k) in score["per_kind"].as_object().unwrap() {
        let r = k["recall"].as_f64().unwrap();
        assert!(r >= 0.95, "recall for {kind}: {r}");
    }
}

fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(v.to_owned())),
    }
}

fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue {
        key: k.to_owned(),
        value: Some(v),
        ..Default::default()
    }
}

fn base_attrs(i: usize) -> Vec<KeyValue> {
    vec![
        kv("session.id", s("5f0c1a2b-0000-4000-8000-00000000beef")),
        kv(
            "prompt.id",
            s(&format!("8a6c{i:04}-0000-4000-8000-000000000001")),
        ),
        kv(
            "event.sequence",
            AnyValue {
                value: Some(Value::IntValue(i as i64)),
            },
        ),
    ]
}

/// Puts case `i`'s text into one of several places of a log record.
fn log_with(i: usize, text: &str) -> LogRecord {
    let mut attrs = base_attrs(i);
    let mut body = s("claude_code.user_prompt");
    match i % 5 {
        0 => attrs.push(kv("prompt", s(text))),
        1 => body = s(text),
        2 => attrs.push(kv(
            "tool_parameters",
            AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: vec![kv(
                        "nested",
                        AnyValue {
                            value: Some(Value::ArrayValue(ArrayValue {
                                values: vec![s("x"), s(text)],
                            })),
                        },
                    )],
                })),
            },
        )),
        3 => attrs.push(kv(
            "tool_input",
            AnyValue {
                value: Some(Value::BytesValue(text.as_bytes().to_vec())),
            },
        )),
        _ => attrs.push(kv("response", s(text))),
    }
    attrs.push(kv("event.name", s("user_prompt")));
    LogRecord {
        time_unix_nano: 1,
        body: Some(body),
        attributes: attrs,
        ..Default::default()
    }
}

fn resource(extra: Vec<KeyValue>) -> Option<Resource> {
    let mut attributes = vec![kv("service.name", s("claude-code"))];
    attributes.extend(extra);
    Some(Resource {
        attributes,
        ..Default::default()
    })
}

fn logs_request(
    cases: &[(usize, &Case)],
    resource_secret: Option<&str>,
) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(
                resource_secret
                    .map(|t| vec![kv("host.note", s(t))])
                    .unwrap_or_default(),
            ),
            scope_logs: vec![ScopeLogs {
                log_records: cases.iter().map(|(i, c)| log_with(*i, &c.text)).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn traces_request(cases: &[(usize, &Case)]) -> ExportTraceServiceRequest {
    let spans = cases
        .iter()
        .map(|(i, c)| Span {
            trace_id: vec![7; 16],
            span_id: (*i as u64 + 1).to_be_bytes().to_vec(),
            name: "claude_code.tool".into(),
            attributes: if i % 2 == 0 {
                vec![kv("full_command", s(&c.text))]
            } else {
                vec![]
            },
            events: if i % 2 == 1 {
                vec![Event {
                    name: "tool.output".into(),
                    attributes: vec![kv("output", s(&c.text))],
                    ..Default::default()
                }]
            } else {
                vec![]
            },
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(vec![]),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metrics_request(cases: &[(usize, &Case)]) -> ExportMetricsServiceRequest {
    let points = cases
        .iter()
        .map(|(i, c)| NumberDataPoint {
            attributes: vec![
                kv("model", s(&c.text)),
                kv("session.id", s(&format!("s-{i}"))),
            ],
            time_unix_nano: 1,
            value: Some(number_data_point::Value::AsDouble(1.0)),
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(vec![]),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "claude_code.cost.usage".into(),
                    data: Some(Data::Sum(Sum {
                        data_points: points,
                        aggregation_temporality: 1,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

async fn post(gw: &Gateway, path: &str, ct: &str, body: Vec<u8>, gzip: bool) {
    let mut req = http_client()
        .post(format!("http://{}{path}", gw.addr("http")))
        .header("content-type", ct);
    let body = if gzip {
        req = req.header("content-encoding", "gzip");
        fixtures::gzip(&body)
    } else {
        body
    };
    let r = req.body(body).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
}

/// Sends one request over the protocol chosen by `n`.
async fn send(gw: &Gateway, n: usize, signal: &str, pb: Vec<u8>, json: Vec<u8>) {
    let (grpc_path, http_path) = match signal {
        "logs" => (cairn_otlp::grpc::LOGS_PATH, "/v1/logs"),
        "metrics" => (cairn_otlp::grpc::METRICS_PATH, "/v1/metrics"),
        _ => (cairn_otlp::grpc::TRACES_PATH, "/v1/traces"),
    };
    match n % 4 {
        0 => {
            let reply = grpc::call(
                gw.addr("grpc"),
                grpc_path,
                grpc::frame(&fixtures::gzip(&pb), true),
                &[("grpc-encoding", "gzip")],
            )
            .await;
            assert_eq!(reply.code, 0, "{}", reply.message);
        }
        1 => post(gw, http_path, "application/x-protobuf", pb, false).await,
        2 => post(gw, http_path, "application/json", json, false).await,
        _ => post(gw, http_path, "application/json", json, true).await,
    }
}

fn files_under(dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_file_or_cairns_own_log() {
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("cairn.log");
    let sinks = TestSinks::start().await;
    let config = log_dir.path().join("cairn.toml");
    std::fs::write(
        &config,
        format!(
            "[records]\nenabled = true\n[redaction.attributes]\n\"user.email\" = \"hash\"\n\n{}",
            sinks.config()
        ),
    )
    .unwrap();
    let mut gw =
        Gateway::start_logging_to(&["--config", config.to_str().unwrap()], "debug", &log_path);
    let cases = corpus();
    assert!(cases.len() > 400, "{} positive cases", cases.len());

    // The real captures, over their own protocols.
    for p in fixtures::payloads()
        .into_iter()
        .filter(|p| p.protocol != "grpc" || p.is_grpc_frame())
    {
        if p.protocol == "grpc" {
            let mut headers = vec![];
            if p.content_encoding.as_deref() == Some("gzip") {
                headers.push(("grpc-encoding", "gzip"));
            }
            let reply = grpc::call(gw.addr("grpc"), &p.request_path, p.body(), &headers).await;
            assert_eq!(reply.code, 0);
        } else {
            let mut req = http_client()
                .post(format!("http://{}{}", gw.addr("http"), p.request_path))
                .header("content-type", &p.content_type);
            if let Some(enc) = &p.content_encoding {
                req = req.header("content-encoding", enc);
            }
            assert_eq!(req.body(p.body()).send().await.unwrap().status(), 200);
        }
    }

    // The corpus, spread over signals, places and protocols.
    let indexed: Vec<(usize, &Case)> = cases.iter().enumerate().collect();
    for (n, chunk) in indexed.chunks(25).enumerate() {
        let resource_secret = (n % 3 == 0).then(|| chunk[0].1.text.as_str());
        match n % 3 {
            0 | 1 => {
                let req = logs_request(chunk, resource_secret);
                send(
                    &gw,
                    n,
                    "logs",
                    req.encode_to_vec(),
                    cairn_otlp_json::encode_logs(&req),
                )
                .await;
            }
            _ => {
                let req = traces_request(chunk);
                send(
                    &gw,
                    n,
                    "traces",
                    req.encode_to_vec(),
                    cairn_otlp_json::encode_traces(&req),
                )
                .await;
                let req = metrics_request(chunk);
                send(
                    &gw,
                    n + 1,
                    "metrics",
                    req.encode_to_vec(),
                    cairn_otlp_json::encode_metrics(&req),
                )
                .await;
            }
        }
    }

    let metrics = http_client()
        .get(format!("http://{}/metrics", gw.addr("admin")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("cairn_redactions_total{kind=\"aws_access_key_id\""),
        "{metrics}"
    );
    let (status, _) = gw.sigterm();
    assert!(status.success());

    let mut written = Vec::new();
    files_under(gw.data_dir(), &mut written);
    // cairn's own archive signing key is a PEM private key that cairn
    // generated, not received content; its PEM armour would match the
    // corpus's PEM secrets. It is the only file left out, and only after
    // checking it is the key cairn wrote (it verifies the archive).
    let key_path = gw.data_dir().join("archive.key");
    let before = written.len();
    written.retain(|(name, _)| std::path::Path::new(name) != key_path);
    assert_eq!(written.len(), before - 1, "the archive key was written");
    let verified = Command::new(cairn_bin())
        .arg("verify")
        .arg(gw.data_dir().join("archive"))
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    written.extend(sinks.received());
    written.push(("cairn's own log".into(), std::fs::read(&log_path).unwrap()));
    let log = String::from_utf8_lossy(&written.last().unwrap().1).to_string();
    assert!(log.contains("DEBUG"), "the log really is at debug level");
    assert!(
        written.iter().any(|(n, _)| n.contains("records")),
        "records were written"
    );

    let mut secrets: Vec<(Vec<u8>, String)> = vec![
        (b"AKIAIOSFODNN7EXAMPLE".to_vec(), "fixture aws key".into()),
        (b"078-05-1120".to_vec(), "fixture ssn".into()),
    ];
    for c in &cases {
        for sec in &c.secrets {
            secrets.push((sec.clone(), c.text.chars().take(40).collect()));
        }
    }
    // Every probe of every secret in one automaton, one pass per file.
    let mut probes: Vec<Vec<u8>> = Vec::new();
    let mut origin: Vec<String> = Vec::new();
    for (secret, from) in &secrets {
        let raw = String::from_utf8_lossy(secret).to_string();
        let escaped = serde_json::to_string(&raw).unwrap();
        let escaped = escaped.as_bytes()[1..escaped.len() - 1].to_vec();
        let mut mine = vec![secret.clone(), escaped];
        if secret.len() >= 20 {
            // 16-byte fragments that occur nowhere else in the case's text, so
            // context words are never mistaken for leaks.
            let context = cases
                .iter()
                .find(|c| c.secrets.contains(secret))
                .map(|c| c.text.replace(&raw, "\u{0}"))
                .unwrap_or_default();
            for w in secret.windows(16).step_by(4) {
                if !find(context.as_bytes(), w)
                    && w.iter().filter(|b| b.is_ascii_alphanumeric()).count() >= 8
                {
                    mine.push(w.to_vec());
                }
            }
        }
        for p in mine {
            probes.push(p);
            origin.push(from.clone());
        }
    }
    let automaton = aho_corasick::AhoCorasick::new(&probes).unwrap();
    for (name, bytes) in &written {
        if let Some(m) = automaton.find(bytes) {
            panic!(
                "a secret from case {:?} leaked into {name}: {:?}",
                origin[m.pattern().as_usize()],
                String::from_utf8_lossy(&probes[m.pattern().as_usize()])
            );
        }
    }
    let checked = secrets.len();
    assert!(checked > 500, "checked {checked} secrets");
    // And the records say what was removed.
    let records = gw.records();
    assert!(
        records
            .iter()
            .any(|r| r["attributes"]["cairn.redacted"].is_array())
    );
}

#[test]
fn config_adds_custom_rules_and_switches_built_ins_off() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cairn.toml");
    std::fs::write(
        &config,
        "[redaction]\ndisabled_kinds = [\"email\"]\n\n[[redaction.custom_rules]]\nkind = \"employee_id\"\n\
         regex = \"EMP-[0-9]{6}\"\nkeywords = [\"EMP-\"]\n",
    )
    .unwrap();
    let input = "{\"id\": 1, \"text\": \"badge EMP-123456 for ops@example.com key AKIAIOSFODNN7EXAMPLE\"}\n";
    let mut child = Command::new(cairn_bin())
        .args(["redact", "--jsonl", "--config"])
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line["text"],
        "badge [REDACTED:employee_id] for ops@example.com key [REDACTED:aws_access_key_id]"
    );
    assert_eq!(line["id"], 1);

    // A bad rule is a config error naming the file, the rule's line and the key.
    std::fs::write(
        &config,
        "[redaction]\n\n[[redaction.custom_rules]]\nkind = \"x_id\"\nregex = \"([a-z\"\n",
    )
    .unwrap();
    let out = Command::new(cairn_bin())
        .arg("validate")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cairn.toml:") && err.contains("redaction"),
        "{err}"
    );
    assert!(
        !err.contains("cairn.toml:0:"),
        "the error names a line: {err}"
    );
}
