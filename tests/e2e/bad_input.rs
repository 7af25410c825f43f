//! The bad-input table: every refusal, over gRPC and HTTP alike, gets the
//! OTLP-spec status, a clear message, and loses nothing (the gateway keeps
//! working and accepted nothing from the refused request).

use std::time::Duration;

use cairn_otlp::grpc::{LOGS_PATH, METRICS_PATH};
use cairn_testkit::{
    fixtures::{self, gzip},
    gateway::TestGateway,
    grpc::{self, frame},
    memory::Mode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::{http_client, rpc_status};

fn logs_pb() -> Vec<u8> {
    std::fs::read(fixtures::root().join("http-protobuf/logs-001.pb")).unwrap()
}

fn logs_json() -> Vec<u8> {
    std::fs::read(fixtures::root().join("http-json/logs-001.json")).unwrap()
}

const MALFORMED_PB: &[u8] = b"\x0a\xff\xff\xff\xff\x0f\x01\x02"; // field 1, length past the end

async fn post(url: &str, ct: &str, body: Vec<u8>, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut req = http_client()
        .post(url)
        .header("content-type", ct)
        .body(body);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// After a refusal the same gateway still accepts a good request.
async fn still_works(gw: &TestGateway) {
    let before = gw.ingest.record_count();
    let r = post(
        &gw.http_url("/v1/logs"),
        "application/x-protobuf",
        logs_pb(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(gw.ingest.record_count(), before + 11);
    let g = grpc::unary(gw.grpc_addr, LOGS_PATH, &logs_pb(), &[]).await;
    assert_eq!(g.code, 0, "grpc after refusal: {}", g.message);
}

#[tokio::test]
async fn malformed_protobuf_and_json_are_invalid_argument_and_400() {
    let gw = TestGateway::start().await;
    let r = post(
        &gw.http_url("/v1/logs"),
        "application/x-protobuf",
        MALFORMED_PB.to_vec(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/x-protobuf");
    let status = rpc_status(&r.bytes().await.unwrap());
    assert_eq!(status.code, 3);
    assert!(status.message.contains("malformed"), "{}", status.message);

    let r = post(
        &gw.http_url("/v1/traces"),
        "application/json",
        br#"{"resourceSpans": [ {"#.to_vec(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], 3);
    assert!(body["message"].as_str().unwrap().contains("malformed"));

    // Valid JSON, wrong OTLP shape: a trace id that is base64, not hex.
    let bad_id = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"AAECAwQFBgcICQoLDA0ODw=="}]}]}]}"#;
    let r = post(
        &gw.http_url("/v1/logs"),
        "application/json",
        bad_id.to_vec(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 400);

    let g = grpc::unary(gw.grpc_addr, METRICS_PATH, MALFORMED_PB, &[]).await;
    assert_eq!(
        g.code, 3,
        "grpc malformed must be INVALID_ARGUMENT: {}",
        g.message
    );
    assert_eq!(gw.ingest.record_count(), 0);
    still_works(&gw).await;
    gw.stop().await;
}

#[tokio::test]
async fn unsupported_content_type_and_encoding_are_415() {
    let gw = TestGateway::start().await;
    for ct in ["text/plain", "application/grpc", "", "application/xml"] {
        let r = post(&gw.http_url("/v1/logs"), ct, logs_pb(), &[]).await;
        assert_eq!(r.status(), 415, "content-type {ct:?}");
    }
    let r = post(
        &gw.http_url("/v1/logs"),
        "application/x-protobuf",
        logs_pb(),
        &[("content-encoding", "br")],
    )
    .await;
    assert_eq!(r.status(), 415);
    // Parameters such as charset are fine.
    let r = post(
        &gw.http_url("/v1/logs"),
        "application/json; charset=utf-8",
        logs_json(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(gw.ingest.record_count(), 11);
    gw.stop().await;
}

#[tokio::test]
async fn wrong_method_and_unknown_path() {
    let gw = TestGateway::start().await;
    let r = http_client()
        .get(gw.http_url("/v1/logs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let r = http_client()
        .put(gw.http_url("/v1/metrics"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = post(
        &gw.http_url("/v1/profiles"),
        "application/x-protobuf",
        logs_pb(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 404);

    let g = grpc::unary(
        gw.grpc_addr,
        "/opentelemetry.proto.collector.logs.v1.LogsService/Nope",
        &logs_pb(),
        &[],
    )
    .await;
    assert_eq!(g.code, 12, "unknown method must be UNIMPLEMENTED");
    let g = grpc::unary(gw.grpc_addr, "/some.Other/Export", &logs_pb(), &[]).await;
    assert_eq!(g.code, 12, "unknown service must be UNIMPLEMENTED");
    assert_eq!(gw.ingest.record_count(), 0);
    gw.stop().await;
}

#[tokio::test]
async fn oversized_bodies_and_zip_bombs_are_refused_cheaply() {
    let limit = 64 * 1024;
    let gw = TestGateway::builder()
        .limits(limit, Duration::from_secs(10))
        .start()
        .await;
    let big = vec![0u8; limit + 1];
    // Declared too large.
    let r = post(
        &gw.http_url("/v1/logs"),
        "application/x-protobuf",
        big.clone(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 413);
    assert_eq!(rpc_status(&r.bytes().await.unwrap()).code, 8);
    // Too large without a Content-Length (chunked).
    let stream = futures_stream(big.clone());
    let r = http_client()
        .post(gw.http_url("/v1/logs"))
        .header("content-type", "application/x-protobuf")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Small on the wire, huge inflated: 512 MiB of zeros is about 500 KiB gzip'd... keep the
    // wire under the limit with 32 MiB (about 32 KiB compressed).
    let bomb = gzip(&vec![0u8; 32 * 1024 * 1024]);
    assert!(
        bomb.len() < limit,
        "bomb must fit the wire limit to test inflation"
    );
    let r = post(
        &gw.http_url("/v1/logs"),
        "application/x-protobuf",
        bomb.clone(),
        &[("content-encoding", "gzip")],
    )
    .await;
    assert_eq!(r.status(), 413);

    // gRPC: a plain frame over the limit, and a compressed frame inflating past it.
    let g = grpc::call(gw.grpc_addr, LOGS_PATH, frame(&big, false), &[]).await;
    assert_eq!(g.code, 8, "oversized grpc frame: {}", g.message);
    let g = grpc::call(
        gw.grpc_addr,
        LOGS_PATH,
        frame(&bomb, true),
        &[("grpc-encoding", "gzip")],
    )
    .await;
    assert_eq!(g.code, 8, "grpc zip bomb: {}", g.message);
    // A frame header claiming a huge message with a small body.
    let mut lying = vec![0u8];
    lying.extend_from_slice(&u32::MAX.to_be_bytes());
    lying.extend_from_slice(b"abc");
    let g = grpc::call(gw.grpc_addr, LOGS_PATH, lying, &[]).await;
    assert_eq!(g.code, 8, "grpc frame claiming 4 GiB: {}", g.message);
    assert_eq!(gw.ingest.record_count(), 0);
    still_works(&gw).await;
    gw.stop().await;
}

fn futures_stream(
    data: Vec<u8>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        data.chunks(8192).map(|c| Ok(c.to_vec())).collect();
    futures::stream::iter(chunks)
}

#[tokio::test]
async fn missing_or_wrong_token_is_unauthenticated_without_detail() {
    let gw = TestGateway::builder()
        .token("right-token-0123456789", Some("team-a"))
        .start()
        .await;
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789"),
        Some("right-token-0123456789"),
        Some("Basic abc"),
    ] {
        let extra: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        let r = post(
            &gw.http_url("/v1/logs"),
            "application/x-protobuf",
            logs_pb(),
            &extra,
        )
        .await;
        assert_eq!(r.status(), 401, "auth {auth:?}");
        let status = rpc_status(&r.bytes().await.unwrap());
        assert_eq!(status.message, "unauthenticated", "no detail on why");
        let g = grpc::unary(gw.grpc_addr, LOGS_PATH, &logs_pb(), &extra).await;
        assert_eq!(g.code, 16, "grpc auth {auth:?}");
        assert_eq!(g.message, "unauthenticated");
    }
    // Auth is checked before the content type: an unauthenticated client learns nothing.
    let r = post(&gw.http_url("/v1/logs"), "text/plain", b"x".to_vec(), &[]).await;
    assert_eq!(r.status(), 401);
    assert_eq!(gw.ingest.record_count(), 0);

    let good = [("authorization", "Bearer right-token-0123456789")];
    let r = post(
        &gw.http_url("/v1/logs"),
        "application/x-protobuf",
        logs_pb(),
        &good,
    )
    .await;
    assert_eq!(r.status(), 200);
    let g = grpc::unary(gw.grpc_addr, LOGS_PATH, &logs_pb(), &good).await;
    assert_eq!(g.code, 0);
    let batches = gw.ingest.batches();
    assert_eq!(batches.len(), 2);
    for b in batches {
        assert_eq!(
            b.origin.tenant.as_deref(),
            Some("team-a"),
            "the token's tenant labels its records"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn overload_is_unavailable_and_503_with_retry_after() {
    let gw = TestGateway::start().await;
    gw.ingest.set_mode(Mode::Overloaded);
    let r = post(
        &gw.http_url("/v1/logs"),
        "application/x-protobuf",
        logs_pb(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(rpc_status(&r.bytes().await.unwrap()).code, 14);
    let g = grpc::unary(gw.grpc_addr, LOGS_PATH, &logs_pb(), &[]).await;
    assert_eq!(g.code, 14, "grpc overload must be UNAVAILABLE");
    // …with a google.rpc.RetryInfo the exporter honours, like Retry-After.
    {
        use cairn_otlp::grpc::{RETRY_INFO_TYPE, RetryInfo, StatusWithDetails};
        use prost::Message;
        let details =
            StatusWithDetails::decode(&g.details.expect("grpc-status-details-bin")[..]).unwrap();
        assert_eq!(details.code, 14);
        let any = details
            .details
            .iter()
            .find(|d| d.type_url == RETRY_INFO_TYPE)
            .expect("RetryInfo detail");
        let retry = RetryInfo::decode(&any.value[..]).unwrap();
        assert_eq!(retry.retry_delay.map(|d| d.seconds), Some(2));
    }
    assert_eq!(gw.ingest.record_count(), 0);
    gw.ingest.set_mode(Mode::Accept);
    still_works(&gw).await;
    gw.stop().await;
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let gw = TestGateway::builder()
        .limits(1 << 20, Duration::from_millis(300))
        .start()
        .await;
    // HTTP/1.1: promise 1000 bytes, send 10, then stall.
    let mut sock = tokio::net::TcpStream::connect(gw.http_addr).await.unwrap();
    sock.write_all(
        b"POST /v1/logs HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1000\r\n\r\n0123456789",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
        .await
        .expect("cut off in time")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "got {head}");

    // gRPC: open a stream, send half a frame, never finish.
    let (tx, rx) =
        tokio::sync::mpsc::channel::<Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>>(1);
    let body = http_body_util::StreamBody::new(tokio_stream_from(rx));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}{}", gw.grpc_addr, LOGS_PATH))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(body)
        .unwrap();
    tx.send(Ok(hyper::body::Frame::data(bytes::Bytes::from_static(&[
        0, 0, 0, 1, 0, 1, 2,
    ]))))
    .await
    .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
        .await
        .expect("cut off in time")
        .unwrap();
    let code = resp
        .headers()
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        code.as_deref(),
        Some("4"),
        "slow grpc client gets DEADLINE_EXCEEDED"
    );
    drop(tx);
    assert_eq!(gw.ingest.record_count(), 0);
    still_works(&gw).await;
    gw.stop().await;
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn rejected_records_are_reported_as_partial_success_on_every_protocol() {
    use cairn_core::otlp::collector::logs::v1::{
        ExportLogsServiceRequest, ExportLogsServiceResponse,
    };
    use prost::Message;
    let gw = TestGateway::start().await;
    let mut req = ExportLogsServiceRequest::decode(&logs_pb()[..]).unwrap();
    let total: usize = req
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    // One record with a 3-byte span id: invalid per OTLP, the rest are fine.
    req.resource_logs[0].scope_logs[0].log_records[2].span_id = vec![1, 2, 3];
    let pb = req.encode_to_vec();

    let r = post(
        &gw.http_url("/v1/logs"),
        "application/x-protobuf",
        pb.clone(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 200);
    let resp = ExportLogsServiceResponse::decode(&r.bytes().await.unwrap()[..]).unwrap();
    let partial = resp.partial_success.expect("partial success filled");
    assert_eq!(partial.rejected_log_records, 1);
    assert!(
        partial.error_message.contains("span_id"),
        "{}",
        partial.error_message
    );

    let json = cairn_otlp_json::encode_logs(&req);
    let r = post(&gw.http_url("/v1/logs"), "application/json", json, &[]).await;
    // The JSON mapping itself refuses a malformed id outright.
    assert_eq!(r.status(), 400);

    let g = grpc::unary(gw.grpc_addr, LOGS_PATH, &pb, &[]).await;
    assert_eq!(g.code, 0);
    let resp = ExportLogsServiceResponse::decode(grpc::response_message(&g)).unwrap();
    assert_eq!(
        resp.partial_success.map(|p| p.rejected_log_records),
        Some(1)
    );

    // The good records of both accepted requests arrived; the bad one did not.
    assert_eq!(gw.ingest.record_count(), 2 * (total - 1));
    gw.stop().await;
}
