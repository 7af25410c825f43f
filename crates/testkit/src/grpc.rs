//! A raw gRPC unary client: sends any bytes with any headers over HTTP/2
//! (prior knowledge, no TLS) and reports the status wherever the server put
//! it (headers for trailers-only answers, else trailers).

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

/// What a unary call came back with.
#[derive(Debug)]
pub struct GrpcReply {
    /// HTTP status (200 for any gRPC answer).
    pub http_status: u16,
    /// `grpc-status`, or -1 when absent.
    pub code: i32,
    /// `grpc-message`, percent-decoded loosely.
    pub message: String,
    /// The response body (framed message) if any.
    pub body: Bytes,
    /// `grpc-status-details-bin`, base64-decoded, if present.
    pub details: Option<Vec<u8>>,
}

/// Frames one message: flag byte (1 = compressed), 4-byte length, payload.
pub fn frame(message: &[u8], compressed: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 5);
    out.push(u8::from(compressed));
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// Calls `path` with an already framed `body` and extra `headers`.
pub async fn call(
    addr: SocketAddr,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> GrpcReply {
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    let resp = client.request(req).await.unwrap();
    let http_status = resp.status().as_u16();
    let head = resp.headers().clone();
    let collected = resp.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let body = collected.to_bytes();
    let get = |k: &str| {
        head.get(k)
            .or_else(|| trailers.get(k))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    GrpcReply {
        http_status,
        code: get("grpc-status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(-1),
        message: get("grpc-message").unwrap_or_default().replace("%20", " "),
        details: get("grpc-status-details-bin").and_then(|b64| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(b64.trim_end_matches('='))
                .ok()
        }),
        body,
    }
}

/// Calls `path` with one uncompressed message.
pub async fn unary(
    addr: SocketAddr,
    path: &str,
    message: &[u8],
    headers: &[(&str, &str)],
) -> GrpcReply {
    call(addr, path, frame(message, false), headers).await
}

/// The response message of a successful call (the frame's payload).
pub fn response_message(reply: &GrpcReply) -> Bytes {
    if reply.body.len() < 5 {
        return Bytes::new();
    }
    reply.body.slice(5..)
}
