//! OTLP/gRPC: `LogsService`, `MetricsService` and `TraceService` `Export`.
//!
//! Built on tonic's server machinery (framing, gzip, trailers) with a codec
//! that hands over the raw message bytes, so cairn decodes them itself: a
//! malformed message is INVALID_ARGUMENT as OTLP requires (tonic's prost
//! codec would say INTERNAL), and both protocols share one decode path. The
//! body is collected before tonic sees it, under the size limit and the
//! slow-client deadline. Statuses for every refusal are decided in
//! [`status_of`].

use std::{convert::Infallible, marker::PhantomData, sync::Arc, task::Poll};

use bytes::{Buf, Bytes};
use cairn_core::{
    otlp::collector::{
        logs::v1::ExportLogsServiceResponse, metrics::v1::ExportMetricsServiceResponse,
        trace::v1::ExportTraceServiceResponse,
    },
    signal::{Protocol, Signal},
};
use futures::future::BoxFuture;
use tonic::{
    Status,
    codec::{
        Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf,
        Encoder,
    },
    server::{Grpc, UnaryService},
};

use crate::{
    ReceiveError,
    receiver::{ExportResponse, Format, Receiver},
};

/// gRPC path of `LogsService/Export`.
pub const LOGS_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
/// gRPC path of `MetricsService/Export`.
pub const METRICS_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
/// gRPC path of `TraceService/Export`.
pub const TRACES_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Framing overhead of one gRPC message (flag byte + 4-byte length).
const FRAME_HEADER: usize = 5;

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoDuration {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `google.rpc.RetryInfo`: how long the client should wait.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RetryInfo {
    /// The delay.
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoAny {
    /// Type URL.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// Encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.Status` with details, the payload of `grpc-status-details-bin`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StatusWithDetails {
    /// The code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// The message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Details (`RetryInfo` here).
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<ProtoAny>,
}

/// Type URL of `google.rpc.RetryInfo`.
pub const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// Maps a refusal to its OTLP/gRPC status. Pushback (UNAVAILABLE) carries a
/// `google.rpc.RetryInfo`, which OTLP exporters honour like `Retry-After`.
pub fn status_of(e: &ReceiveError) -> Status {
    match e {
        // Never say why: no hint on which part of the credential was wrong.
        ReceiveError::Unauthenticated => Status::unauthenticated("unauthenticated"),
        ReceiveError::Malformed(m) => Status::invalid_argument(m.clone()),
        ReceiveError::UnsupportedMediaType(m) => Status::invalid_argument(m.clone()),
        ReceiveError::TooLarge { .. } => Status::resource_exhausted(e.to_string()),
        ReceiveError::Timeout(_) => Status::deadline_exceeded(e.to_string()),
        ReceiveError::Overloaded { .. } | ReceiveError::Unavailable(_) => unavailable(e),
    }
}

/// UNAVAILABLE with a `google.rpc.RetryInfo` detail.
fn unavailable(e: &ReceiveError) -> Status {
    use prost::Message as _;
    let message = e.to_string();
    let seconds = e.retry_after().map(|d| d.as_secs().max(1)).unwrap_or(1);
    let retry = RetryInfo {
        retry_delay: Some(ProtoDuration {
            seconds: i64::try_from(seconds).unwrap_or(1),
            nanos: 0,
        }),
    };
    let details = StatusWithDetails {
        code: tonic::Code::Unavailable as i32,
        message: message.clone(),
        details: vec![ProtoAny {
            type_url: RETRY_INFO_TYPE.into(),
            value: retry.encode_to_vec(),
        }],
    };
    Status::with_details(
        tonic::Code::Unavailable,
        message,
        details.encode_to_vec().into(),
    )
}

/// A codec whose requests are the raw message bytes and whose responses are
/// prost messages.
struct RawCodec<R>(PhantomData<fn() -> R>);

struct RawDecoder;
struct ProstEncoder<R>(PhantomData<fn() -> R>);

impl<R: prost::Message + Send + 'static> Codec for RawCodec<R> {
    type Encode = R;
    type Decode = Bytes;
    type Encoder = ProstEncoder<R>;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder(PhantomData)
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawDecoder
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n)))
    }
}

impl<R: prost::Message> Encoder for ProstEncoder<R> {
    type Item = R;
    type Error = Status;
    fn encode(&mut self, item: R, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding response: {e}")))
    }
}

struct Export<R> {
    receiver: Arc<Receiver>,
    signal: Signal,
    tenant: Option<Arc<str>>,
    _response: PhantomData<fn() -> R>,
}

impl<R: ExportResponse> UnaryService<Bytes> for Export<R> {
    type Response = R;
    type Future = BoxFuture<'static, Result<tonic::Response<R>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let receiver = Arc::clone(&self.receiver);
        let (signal, tenant) = (self.signal, self.tenant.take());
        Box::pin(async move {
            let body = request.into_inner();
            match receiver
                .export(signal, Protocol::Grpc, Format::Protobuf, tenant, body)
                .await
            {
                Ok(accepted) => {
                    receiver.stats.accepted(
                        signal,
                        Protocol::Grpc,
                        accepted.records,
                        accepted.rejected.count,
                    );
                    Ok(tonic::Response::new(R::from_accepted(&accepted)))
                }
                Err(e) => {
                    receiver
                        .stats
                        .refused(Some(signal), Protocol::Grpc.as_str(), e.reason());
                    Err(status_of(&e))
                }
            }
        })
    }
}

/// The OTLP/gRPC service: a tower service for hyper.
#[derive(Clone, Debug)]
pub struct OtlpGrpcService {
    receiver: Arc<Receiver>,
}

impl OtlpGrpcService {
    /// Serves OTLP/gRPC from `receiver`.
    pub fn new(receiver: Arc<Receiver>) -> OtlpGrpcService {
        OtlpGrpcService { receiver }
    }
}

fn refusal(
    receiver: &Receiver,
    signal: Option<Signal>,
    e: &ReceiveError,
) -> http::Response<tonic::body::Body> {
    receiver
        .stats
        .refused(signal, Protocol::Grpc.as_str(), e.reason());
    status_of(e).into_http()
}

async fn serve_export<R: ExportResponse, B>(
    receiver: Arc<Receiver>,
    signal: Signal,
    req: http::Request<B>,
) -> http::Response<tonic::body::Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tenant = match receiver.auth.check(req.headers()) {
        Ok(a) => a.tenant,
        Err(e) => return refusal(&receiver, Some(signal), &e),
    };
    let _inflight = receiver.stats.enter();
    let (parts, body) = req.into_parts();
    let mut limits = receiver.limits;
    limits.max_body_bytes = limits.max_body_bytes.saturating_add(FRAME_HEADER);
    let bytes = match crate::body::collect(body, limits).await {
        Ok(b) => b,
        Err(e) => return refusal(&receiver, Some(signal), &e),
    };
    receiver.stats.bytes_in(signal, Protocol::Grpc, bytes.len());
    let req = http::Request::from_parts(parts, http_body_util::Full::new(bytes));
    let mut accept = EnabledCompressionEncodings::default();
    accept.enable(CompressionEncoding::Gzip);
    let mut grpc = Grpc::new(RawCodec::<R>(PhantomData))
        .apply_compression_config(accept, EnabledCompressionEncodings::default())
        .apply_max_message_size_config(Some(receiver.limits.max_body_bytes), None);
    let svc = Export::<R> {
        receiver: Arc::clone(&receiver),
        signal,
        tenant,
        _response: PhantomData,
    };
    let mut resp = grpc.unary(svc, req).await;
    // tonic reports a frame longer than the limit as OUT_OF_RANGE; OTLP wants
    // RESOURCE_EXHAUSTED. cairn's own handler never returns OUT_OF_RANGE.
    let headers = resp.headers_mut();
    if headers
        .get("grpc-status")
        .is_some_and(|v| v.as_bytes() == b"11")
    {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
        receiver
            .stats
            .refused(Some(signal), Protocol::Grpc.as_str(), "too_large");
    }
    resp
}

impl<B> tower::Service<http::Request<B>> for OtlpGrpcService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let receiver = Arc::clone(&self.receiver);
        Box::pin(async move {
            let resp = match req.uri().path() {
                LOGS_PATH => {
                    serve_export::<ExportLogsServiceResponse, B>(receiver, Signal::Logs, req).await
                }
                METRICS_PATH => {
                    serve_export::<ExportMetricsServiceResponse, B>(receiver, Signal::Metrics, req)
                        .await
                }
                TRACES_PATH => {
                    serve_export::<ExportTraceServiceResponse, B>(receiver, Signal::Traces, req)
                        .await
                }
                _ => {
                    receiver
                        .stats
                        .refused(None, Protocol::Grpc.as_str(), "unimplemented");
                    Status::unimplemented("unknown service or method").into_http()
                }
            };
            Ok(resp)
        })
    }
}
