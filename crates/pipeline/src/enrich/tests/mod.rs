//! Tests of the enrichment stage; shared builders here, cases by topic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::Path, sync::Arc, time::Duration};

use cairn_core::{
    identity::Identity,
    otlp::{
        collector::{logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest},
        common::v1::KeyValue,
        logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
        metrics::v1::{
            Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data,
            number_data_point,
        },
        resource::v1::Resource,
    },
    record::{Batch, Origin, RecordBody},
    signal::{Protocol, Signal},
    value::{Attrs, kv_str},
};
use cairn_redact::Pseudonymizer;
use cairn_testkit::fixtures;
use prometheus_client::registry::Registry;

use super::*;

mod assign;
mod directory;
mod spend;

const DELTA: i32 = 1;

const CUMULATIVE: i32 = 2;

const FIXTURE_USER: &str = "c10db4eecc570e1f1ace4dd996249ee17c3d585a683231ad96ee5692a7908d88";

fn pseudo() -> Pseudonymizer {
    Pseudonymizer::new(b"0123456789abcdef0123456789abcdef").unwrap()
}

fn kvs(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
    pairs.iter().map(|(k, v)| kv_str(*k, *v)).collect()
}

fn origin(signal: Signal) -> Origin {
    Origin {
        signal,
        protocol: Protocol::HttpProtobuf,
        tenant: None,
        received_unix_nano: 0,
    }
}

fn resource(pairs: &[(&str, &str)]) -> Option<Resource> {
    Some(Resource {
        attributes: kvs(pairs),
        ..Default::default()
    })
}

fn events(res: &[(&str, &str)], records: &[&[(&str, &str)]]) -> Batch {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(res),
            scope_logs: vec![ScopeLogs {
                log_records: records
                    .iter()
                    .map(|a| LogRecord {
                        attributes: kvs(a),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    Batch::from_logs(origin(Signal::Logs), req).0
}

fn point(attrs: &[(&str, &str)], start: u64, time: u64, value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: kvs(attrs),
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn sum(name: &str, temporality: i32, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

fn metrics(res: &[(&str, &str)], metrics: Vec<Metric>) -> Batch {
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(res),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    Batch::from_metrics(origin(Signal::Metrics), req).0
}

fn log_attrs(batch: &Batch, i: usize) -> &[KeyValue] {
    match &batch.records[i].body {
        RecordBody::Event(e) => &e.log.attributes,
        _ => panic!("record {i} is not an event"),
    }
}

fn points_of<'a>(batch: &'a Batch, name: &str) -> &'a [NumberDataPoint] {
    batch
        .records
        .iter()
        .find_map(|r| match &r.body {
            RecordBody::Metric(m) if m.metric.name == name => match &m.metric.data {
                Some(Data::Sum(s)) => Some(s.data_points.as_slice()),
                _ => None,
            },
            _ => None,
        })
        .unwrap()
}

fn count(attrs: &[KeyValue], key: &str) -> usize {
    attrs.iter().filter(|kv| kv.key == key).count()
}

/// Writes `text` to `path` through a rename, as an operator's tool should.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn enricher(dir: Option<&Path>, key: DirectoryKey, p: Option<Pseudonymizer>) -> Enricher {
    let config = EnrichConfig {
        directory: dir.map(Path::to_owned),
        directory_key: key,
        ..EnrichConfig::default()
    };
    Enricher::new(config, p).unwrap()
}

/// The `/metrics` text of what `register` registers.
fn scrape(register: impl FnOnce(&mut Registry)) -> String {
    let mut registry = Registry::default();
    register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    text
}

/// The value of one exact series (`name{labels}`) in a scrape.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

const CSV: &str = "\
user.email,name,department,cost_center,team,manager
alice@example.com,Alice,finance,fin-1,ledger,carol@example.com
bob@example.com,Bob,engineering,eng-7,,
";

fn fixture_batch(scenario: &str, signal: Signal) -> Batch {
    fixtures::scenario_batches(scenario)
        .into_iter()
        .find(|b| b.origin.signal == signal)
        .unwrap()
}
