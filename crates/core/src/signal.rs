//! Which OTLP signal a batch came on, and over which wire protocol.

use serde::Serialize;

/// The three OTLP signals Claude Code exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    /// Events, over the OTLP logs signal.
    Logs,
    /// The counters.
    Metrics,
    /// Beta traces.
    Traces,
}

impl Signal {
    /// All signals, for metric label pre-registration.
    pub const ALL: [Signal; 3] = [Signal::Logs, Signal::Metrics, Signal::Traces];

    /// The lowercase name used in paths, labels and the records file.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
            Signal::Traces => "traces",
        }
    }
}

/// The wire protocol a request arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Protocol {
    /// OTLP/gRPC.
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP/HTTP with `application/x-protobuf`.
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    /// OTLP/HTTP with `application/json`.
    #[serde(rename = "http/json")]
    HttpJson,
}

impl Protocol {
    /// All protocols, for metric label pre-registration.
    pub const ALL: [Protocol; 3] = [Protocol::Grpc, Protocol::HttpProtobuf, Protocol::HttpJson];

    /// The name Claude Code uses for it in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }
}
