//! Records and chains to OTLP request bytes, one unit per request and signal.

use std::sync::Arc;

use cairn_core::{
    chain::PromptChain,
    record::{Batch, RecordBody},
    value::kv_str,
};
use opentelemetry_proto::tonic::{
    collector::logs::v1::ExportLogsServiceRequest,
    common::v1::InstrumentationScope,
    logs::v1::{ResourceLogs, ScopeLogs},
    resource::v1::Resource,
};
use prost::Message;

use crate::{route::Route, sink::Encoded};

/// Lane of log requests (events and chains).
pub const LANE_LOGS: u8 = 0;
/// Lane of metric requests.
pub const LANE_METRICS: u8 = 1;
/// Lane of trace requests.
pub const LANE_TRACES: u8 = 2;

/// Encodes what `route` accepts of `batch`: up to one unit per signal.
pub(super) fn batch(batch: &Batch, route: &Route, out: &mut Vec<Encoded>) {
    let all = batch
        .records
        .iter()
        .all(|r| route.accepts_record(r, &batch.origin));
    let filtered;
    let b = if all {
        batch
    } else {
        filtered = Batch {
            origin: batch.origin.clone(),
            records: batch
                .records
                .iter()
                .filter(|r| route.accepts_record(r, &batch.origin))
                .cloned()
                .collect(),
        };
        &filtered
    };
    let (mut events, mut metrics, mut spans) = (0u32, 0u32, 0u32);
    for r in &b.records {
        match r.body {
            RecordBody::Event(_) => events += 1,
            RecordBody::Metric(_) => metrics += 1,
            RecordBody::Span(_) => spans += 1,
        }
    }
    if events > 0 {
        out.push(unit(b.to_logs_request().encode_to_vec(), events, LANE_LOGS));
    }
    if metrics > 0 {
        out.push(unit(
            b.to_metrics_request().encode_to_vec(),
            metrics,
            LANE_METRICS,
        ));
    }
    if spans > 0 {
        out.push(unit(
            b.to_traces_request().encode_to_vec(),
            spans,
            LANE_TRACES,
        ));
    }
}

fn unit(bytes: Vec<u8>, records: u32, lane: u8) -> Encoded {
    Encoded {
        bytes,
        records,
        lane,
    }
}

/// The resource chain records are exported under: cairn itself.
fn chain_resource() -> Arc<Resource> {
    Arc::new(Resource {
        attributes: vec![
            kv_str("service.name", "cairn"),
            kv_str("service.version", env!("CARGO_PKG_VERSION")),
        ],
        ..Default::default()
    })
}

/// One chain as a logs request (`event.name = cairn.prompt_chain`).
pub(super) fn chain(chain: &PromptChain) -> Encoded {
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(chain_resource().as_ref().clone()),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "cairn.audit".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                log_records: vec![chain.to_log_record()],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    unit(request.encode_to_vec(), 1, LANE_LOGS)
}
