//! The real Claude Code 2.1.330 captures, read through their `manifest.json`.

use std::path::{Path, PathBuf};

use cairn_core::{
    record::{Batch, Origin},
    signal::{Protocol, Signal},
};
use prost::Message as _;

/// `../shared/fixtures/claude-code-2.1.330`, found from this crate's manifest dir.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/claude-code-2.1.330")
}

/// `../shared/` itself.
pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// One captured export request.
#[derive(Clone, Debug)]
pub struct Payload {
    /// Scenario directory name (`grpc`, `http-json-gzip`, …).
    pub scenario: String,
    /// Path of the raw body, relative to [`root`].
    pub path: String,
    /// The signal.
    pub signal: Signal,
    /// `grpc`, `http/protobuf` or `http/json`.
    pub protocol: String,
    /// The request's Content-Type (HTTP) or `application/grpc`.
    pub content_type: String,
    /// `gzip` when the body was sent compressed.
    pub content_encoding: Option<String>,
    /// The request path (`/v1/logs`, or the gRPC method path).
    pub request_path: String,
}

impl Payload {
    /// The body as the CLI sent it (compressed if it was).
    pub fn body(&self) -> Vec<u8> {
        std::fs::read(root().join(&self.path)).unwrap()
    }

    /// The protobuf message, uncompressed (gRPC `.pb`, or the decoded JSON's protobuf twin).
    pub fn protobuf(&self) -> Option<Vec<u8>> {
        let pb = root()
            .join(&self.path)
            .with_extension("")
            .with_extension("pb");
        let pb = if self.path.ends_with(".pb") {
            root().join(&self.path)
        } else {
            pb
        };
        std::fs::read(pb).ok()
    }

    /// For gRPC captures, the untouched wire frame (flag byte, length, message).
    pub fn grpc_frame(&self) -> Option<Vec<u8>> {
        let stem = self.path.strip_suffix(".pb")?;
        std::fs::read(root().join(format!("{stem}.grpc-frame.bin"))).ok()
    }

    /// The readable OTLP/JSON view of the same request.
    pub fn decoded_json(&self) -> serde_json::Value {
        let stem = self.path.split('.').next().unwrap_or_default();
        let text = std::fs::read_to_string(root().join(format!("{stem}.decoded.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// Every captured request, in manifest order.
pub fn payloads() -> Vec<Payload> {
    let text = std::fs::read_to_string(root().join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            let signal = match f["signal"].as_str() {
                Some("logs") => Signal::Logs,
                Some("metrics") => Signal::Metrics,
                Some("traces") => Signal::Traces,
                other => panic!("unknown signal {other:?}"),
            };
            let path = s("path");
            Payload {
                scenario: path.split('/').next().unwrap_or_default().to_owned(),
                path,
                signal,
                protocol: s("protocol"),
                content_type: s("content_type"),
                content_encoding: f["content_encoding"].as_str().map(str::to_owned),
                request_path: s("request_path"),
            }
        })
        .collect()
}

/// The captured requests of one scenario.
pub fn scenario(name: &str) -> Vec<Payload> {
    payloads()
        .into_iter()
        .filter(|p| p.scenario == name)
        .collect()
}

impl Payload {
    /// The request typed into a [`Batch`], as a receiver would hand it on
    /// (no redaction). `None` for captures without a protobuf twin
    /// (`http-json*`).
    pub fn batch(&self, tenant: Option<&str>) -> Option<Batch> {
        let pb = self.protobuf()?;
        let protocol = match self.protocol.as_str() {
            "grpc" => Protocol::Grpc,
            "http/json" => Protocol::HttpJson,
            _ => Protocol::HttpProtobuf,
        };
        let origin = Origin {
            signal: self.signal,
            protocol,
            tenant: tenant.map(Into::into),
            received_unix_nano: 0,
        };
        use cairn_core::otlp::collector::{
            logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
            trace::v1::ExportTraceServiceRequest,
        };
        let (batch, _) = match self.signal {
            Signal::Logs => Batch::from_logs(
                origin,
                ExportLogsServiceRequest::decode(pb.as_slice()).ok()?,
            ),
            Signal::Metrics => Batch::from_metrics(
                origin,
                ExportMetricsServiceRequest::decode(pb.as_slice()).ok()?,
            ),
            Signal::Traces => Batch::from_traces(
                origin,
                ExportTraceServiceRequest::decode(pb.as_slice()).ok()?,
            ),
        };
        Some(batch)
    }
}

/// The typed batches of one scenario (each request once: a gRPC capture's
/// wire frame is skipped, its `.pb` twin is used), in capture order (logs, then metrics,
/// then traces, as the manifest lists them).
pub fn scenario_batches(name: &str) -> Vec<Batch> {
    scenario(name)
        .iter()
        .filter(|p| !p.is_grpc_frame())
        .filter_map(|p| p.batch(None))
        .collect()
}

/// Gzips bytes (for building compressed requests in tests).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

impl Payload {
    /// Whether this entry is a raw gRPC wire frame (`*.grpc-frame.bin`).
    pub fn is_grpc_frame(&self) -> bool {
        self.path.ends_with(".grpc-frame.bin")
    }
}
