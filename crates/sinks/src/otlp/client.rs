//! Sending OTLP requests: tonic for gRPC (a raw-bytes codec, so the
//! pre-encoded units go out without a decode), reqwest for HTTP/protobuf,
//! and the partial-success answers of both read into a [`Report`].

use std::time::Duration;

use bytes::{Buf, BufMut};
use http::uri::PathAndQuery;
use opentelemetry_proto::tonic::collector::{
    logs::v1::ExportLogsServiceResponse, metrics::v1::ExportMetricsServiceResponse,
    trace::v1::ExportTraceServiceResponse,
};
use prost::Message;
use tonic::{
    Status,
    codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder},
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint},
};

use super::{
    config::{Compression, Config, Protocol},
    encode::{self, LANE_METRICS, LANE_TRACES},
    status,
};
use crate::{
    detail::Detail,
    driver::{BatchLimits, SinkError, error::classify_otlp_http},
    http::{snippet, transport_error},
    item::AuditItem,
    route::Route,
    sink::{EncodeError, Encoded, Report, Sink},
};

/// OTLP requests are capped below the receivers' defaults: 4 MiB for gRPC,
/// 20 MiB for HTTP, uncompressed, with a margin for the envelope.
const GRPC_MAX_BYTES: usize = 4 * 1024 * 1024 - 64 * 1024;
const HTTP_MAX_BYTES: usize = 20 * 1024 * 1024 - 64 * 1024;

enum Transport {
    Grpc {
        channel: Channel,
    },
    Http {
        client: reqwest::Client,
        base: String,
    },
}

/// The OTLP exporter.
pub struct Otlp {
    transport: Transport,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    compression: Compression,
    max_bytes: usize,
}

/// A codec that writes pre-encoded request bytes and hands back the
/// response's bytes undecoded.
#[derive(Clone, Copy, Debug, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n).to_vec()))
    }
}

fn lane_path(lane: u8) -> (&'static str, &'static str) {
    match lane {
        LANE_METRICS => (
            "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            "/v1/metrics",
        ),
        LANE_TRACES => (
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            "/v1/traces",
        ),
        _ => (
            "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            "/v1/logs",
        ),
    }
}

/// Reads the partial success of a response body.
fn partial(lane: u8, body: &[u8]) -> Report {
    let (rejected, message) = match lane {
        LANE_METRICS => ExportMetricsServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| (p.rejected_data_points, p.error_message)),
        LANE_TRACES => ExportTraceServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| (p.rejected_spans, p.error_message)),
        _ => ExportLogsServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| (p.rejected_log_records, p.error_message)),
    }
    .unwrap_or((0, String::new()));
    let mut report = Report::delivered();
    match u64::try_from(rejected) {
        Ok(n) if n > 0 => {
            report.rejected_unattributed = Some((n, message));
        }
        _ => {
            if !message.is_empty() {
                tracing::warn!("the OTLP receiver answered with a warning (logged at debug)");
                tracing::debug!(warning = %snippet(message.as_bytes(), 300), "OTLP receiver warning");
            }
        }
    }
    report
}

impl Otlp {
    pub(super) fn new(
        config: &Config,
        headers: Vec<(http::HeaderName, http::HeaderValue)>,
    ) -> Result<Otlp, String> {
        let timeout = config.timeout();
        let (transport, max_bytes) = match config.protocol {
            Protocol::Grpc => (
                Transport::Grpc {
                    channel: channel(config, timeout)?,
                },
                GRPC_MAX_BYTES,
            ),
            Protocol::HttpProtobuf => {
                let client = crate::http::client(config.ca_file.as_deref(), timeout)
                    .map_err(|e| e.to_string())?;
                let base = config.endpoint.trim_end_matches('/').to_owned();
                (Transport::Http { client, base }, HTTP_MAX_BYTES)
            }
        };
        Ok(Otlp {
            transport,
            headers,
            compression: config.compression,
            max_bytes,
        })
    }

    async fn send_grpc(
        &self,
        channel: &Channel,
        lane: u8,
        body: Vec<u8>,
    ) -> Result<Report, SinkError> {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        if self.compression.is_gzip() {
            grpc = grpc
                .send_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Gzip);
        }
        grpc.ready()
            .await
            .map_err(|e| SinkError::transport(format!("gRPC connection: {e}")))?;
        let mut request = tonic::Request::new(body);
        for (name, value) in &self.headers {
            if let (Ok(k), Ok(v)) = (
                tonic::metadata::MetadataKey::from_bytes(name.as_str().as_bytes()),
                tonic::metadata::MetadataValue::try_from(value.as_bytes()),
            ) {
                request.metadata_mut().insert(k, v);
            }
        }
        let path = PathAndQuery::from_static(lane_path(lane).0);
        match grpc.unary(request, path, RawCodec).await {
            Ok(resp) => Ok(partial(lane, resp.get_ref())),
            Err(status) => Err(status::classify(&status)),
        }
    }

    async fn send_http(
        &self,
        client: &reqwest::Client,
        base: &str,
        lane: u8,
        body: Vec<u8>,
    ) -> Result<Report, SinkError> {
        let url = format!("{base}{}", lane_path(lane).1);
        let mut req = client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/x-protobuf");
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        let resp = self
            .compression
            .body(req, body)
            .send()
            .await
            .map_err(transport_error)?;
        let code = resp.status();
        let retry_after = resp.headers().get(http::header::RETRY_AFTER).cloned();
        let bytes = resp.bytes().await.map_err(transport_error)?;
        if code.is_success() {
            return Ok(partial(lane, &bytes));
        }
        let detail = status::http_error_message(&bytes).unwrap_or_else(|| snippet(&bytes, 200));
        if code == http::StatusCode::PAYLOAD_TOO_LARGE {
            return Err(SinkError::TooLarge {
                reason: format!("HTTP 413 {detail}"),
            });
        }
        Err(match classify_otlp_http(code, retry_after.as_ref()) {
            Some(SinkError::Retryable {
                reason,
                retry_after,
            }) => SinkError::Retryable {
                reason: format!("{reason} {detail}"),
                retry_after,
            },
            Some(SinkError::Permanent { reason }) => SinkError::Permanent {
                reason: format!("{reason} {detail}"),
            },
            Some(other) => other,
            None => SinkError::Permanent {
                reason: format!("unexpected HTTP {code}"),
            },
        })
    }
}

fn channel(config: &Config, timeout: Duration) -> Result<Channel, String> {
    let mut ep = Endpoint::from_shared(config.endpoint.clone())
        .map_err(|e| format!("otlp.endpoint: {e}"))?
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .tcp_nodelay(true);
    if config.endpoint.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_webpki_roots();
        if let Some(path) = &config.ca_file {
            let pem =
                std::fs::read(path).map_err(|e| format!("otlp.ca_file {}: {e}", path.display()))?;
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        ep = ep.tls_config(tls).map_err(|e| format!("otlp TLS: {e}"))?;
    }
    // Lazy: cairn starts (and acknowledges into its queue) while the
    // collector is still down; the driver retries the connection.
    Ok(ep.connect_lazy())
}

impl Sink for Otlp {
    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_items: 512,
            max_bytes: self.max_bytes,
            max_delay: Duration::from_millis(200),
        }
    }

    fn lanes(&self) -> u8 {
        3
    }

    fn encode_with(
        &self,
        _item: &AuditItem,
        _detail: Detail<'_>,
        _out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        Err(EncodeError("the OTLP sink encodes whole requests".into()))
    }

    fn encode_batch(
        &self,
        batch: &cairn_core::record::Batch,
        route: &Route,
        out: &mut Vec<Result<Encoded, EncodeError>>,
    ) {
        let mut units = Vec::new();
        encode::batch(batch, route, &mut units);
        out.extend(units.into_iter().map(Ok));
    }

    fn encode_chain(&self, chain: &cairn_core::chain::PromptChain) -> Result<Encoded, EncodeError> {
        Ok(encode::chain(chain))
    }

    async fn send(&self, batch: &[Encoded]) -> Result<Report, SinkError> {
        let Some(first) = batch.first() else {
            return Ok(Report::delivered());
        };
        let lane = first.lane;
        let mut body = Vec::with_capacity(batch.iter().map(|u| u.bytes.len()).sum());
        for unit in batch {
            body.extend_from_slice(&unit.bytes);
        }
        match &self.transport {
            Transport::Grpc { channel } => self.send_grpc(channel, lane, body).await,
            Transport::Http { client, base } => self.send_http(client, base, lane, body).await,
        }
    }
}
