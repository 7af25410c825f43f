//! OTLP/HTTP: `POST /v1/logs`, `/v1/metrics`, `/v1/traces` with
//! `application/x-protobuf` or `application/json`, gzip or no compression.
//!
//! Answers follow the OTLP spec: success carries the matching
//! `Export*ServiceResponse` in the request's encoding (partial success filled
//! when records were rejected); a refusal carries a `google.rpc.Status` in
//! the request's encoding, and pushback carries `Retry-After`. Codes for
//! every refusal are decided in [`response_of`].

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use cairn_core::{
    otlp::collector::{
        logs::v1::ExportLogsServiceResponse, metrics::v1::ExportMetricsServiceResponse,
        trace::v1::ExportTraceServiceResponse,
    },
    signal::{Protocol, Signal},
};
use prost::Message;

use crate::{
    ReceiveError,
    body::{self, Encoding},
    receiver::{ExportResponse, Format, Receiver},
};

/// `google.rpc.Status`, the body of every OTLP/HTTP error response.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    /// A `google.rpc.Code` value.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// A developer-facing message.
    #[prost(string, tag = "2")]
    pub message: String,
}

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// Builds the OTLP/HTTP router.
pub fn router(receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route("/v1/logs", post(export_logs))
        .route("/v1/metrics", post(export_metrics))
        .route("/v1/traces", post(export_traces))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(receiver)
}

async fn not_found(State(r): State<Arc<Receiver>>) -> Response {
    r.stats.refused(None, "http", "not_found");
    (
        StatusCode::NOT_FOUND,
        "not found: OTLP/HTTP paths are /v1/logs, /v1/metrics, /v1/traces\n",
    )
        .into_response()
}

async fn method_not_allowed(State(r): State<Arc<Receiver>>) -> Response {
    r.stats.refused(None, "http", "method_not_allowed");
    let mut resp = (
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed: use POST\n",
    )
        .into_response();
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    resp
}

async fn export_logs(State(r): State<Arc<Receiver>>, req: axum::extract::Request) -> Response {
    export::<ExportLogsServiceResponse>(r, Signal::Logs, req).await
}

async fn export_metrics(State(r): State<Arc<Receiver>>, req: axum::extract::Request) -> Response {
    export::<ExportMetricsServiceResponse>(r, Signal::Metrics, req).await
}

async fn export_traces(State(r): State<Arc<Receiver>>, req: axum::extract::Request) -> Response {
    export::<ExportTraceServiceResponse>(r, Signal::Traces, req).await
}

/// Parses `Content-Type`, ignoring parameters such as `charset`.
fn format_of(headers: &http::HeaderMap) -> Result<Format, ReceiveError> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes())
        .unwrap_or(b"");
    let essence = raw.split(|b| *b == b';').next().unwrap_or(b"").trim_ascii();
    if essence.eq_ignore_ascii_case(PROTOBUF.as_bytes()) {
        Ok(Format::Protobuf)
    } else if essence.eq_ignore_ascii_case(JSON.as_bytes()) {
        Ok(Format::Json)
    } else {
        Err(ReceiveError::UnsupportedMediaType(format!(
            "content-type {:?} (use {PROTOBUF} or {JSON})",
            String::from_utf8_lossy(raw)
        )))
    }
}

fn protocol_of(format: Format) -> Protocol {
    match format {
        Format::Protobuf => Protocol::HttpProtobuf,
        Format::Json => Protocol::HttpJson,
    }
}

async fn export<R: ExportResponse>(
    receiver: Arc<Receiver>,
    signal: Signal,
    req: axum::extract::Request,
) -> Response {
    // Auth first: an unauthenticated client learns nothing, not even which
    // content types are taken.
    let (tenant, format) = match receiver
        .auth
        .check(req.headers())
        .and_then(|a| Ok((a.tenant, format_of(req.headers())?)))
    {
        Ok(v) => v,
        Err(e) => {
            receiver.stats.refused(Some(signal), "http", e.reason());
            return response_of(&e, None);
        }
    };
    let protocol = protocol_of(format);
    let _inflight = receiver.stats.enter();
    match receive::<R>(&receiver, signal, format, tenant, req).await {
        Ok(resp) => resp,
        Err(e) => {
            receiver
                .stats
                .refused(Some(signal), protocol.as_str(), e.reason());
            response_of(&e, Some(format))
        }
    }
}

async fn receive<R: ExportResponse>(
    receiver: &Receiver,
    signal: Signal,
    format: Format,
    tenant: Option<Arc<str>>,
    req: axum::extract::Request,
) -> Result<Response, ReceiveError> {
    let protocol = protocol_of(format);
    let encoding = Encoding::parse(
        req.headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.as_bytes()),
    )?;
    let limit = receiver.limits.max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ReceiveError::TooLarge { limit });
    }
    let wire = body::collect(req.into_body(), receiver.limits).await?;
    receiver.stats.bytes_in(signal, protocol, wire.len());
    let inflated = body::decode(wire, encoding, limit)?;
    let accepted = receiver
        .export(signal, protocol, format, tenant, inflated)
        .await?;
    receiver
        .stats
        .accepted(signal, protocol, accepted.records, accepted.rejected.count);
    let response = R::from_accepted(&accepted);
    Ok(encoded(
        StatusCode::OK,
        format,
        response.encode_to_vec(),
        || response.to_json(),
    ))
}

fn encoded(
    status: StatusCode,
    format: Format,
    protobuf: Vec<u8>,
    json: impl FnOnce() -> Vec<u8>,
) -> Response {
    let (ct, bytes) = match format {
        Format::Protobuf => (PROTOBUF, protobuf),
        Format::Json => (JSON, json()),
    };
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

/// Maps a refusal to its OTLP/HTTP response. `format` is the request's
/// encoding when known; the `google.rpc.Status` body is written in it
/// (protobuf when unknown).
pub fn response_of(e: &ReceiveError, format: Option<Format>) -> Response {
    let (status, code) = match e {
        ReceiveError::Unauthenticated => (StatusCode::UNAUTHORIZED, 16),
        ReceiveError::Malformed(_) => (StatusCode::BAD_REQUEST, 3),
        ReceiveError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, 3),
        ReceiveError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, 8),
        ReceiveError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, 4),
        ReceiveError::Overloaded { .. } | ReceiveError::Unavailable(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, 14)
        }
    };
    let message = e.to_string();
    let proto = RpcStatus {
        code,
        message: message.clone(),
    }
    .encode_to_vec();
    let mut resp = encoded(status, format.unwrap_or(Format::Protobuf), proto, || {
        cairn_otlp_json::encode_status(code, &message)
    });
    if let Some(after) = e.retry_after() {
        let secs = after.as_secs().max(1);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}
