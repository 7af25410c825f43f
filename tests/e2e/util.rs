//! Small helpers shared by the e2e modules.

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A reqwest client that never uses a proxy (tests talk to loopback only).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Decodes a `google.rpc.Status` protobuf body.
pub fn rpc_status(body: &[u8]) -> cairn_otlp::http::RpcStatus {
    <cairn_otlp::http::RpcStatus as prost::Message>::decode(body).unwrap()
}

/// Posts a capture's requests of `signals` (each request once; a gRPC
/// capture's `.pb` twin, not its wire frame) to cairn's OTLP/HTTP listener
/// as protobuf, asserting each is accepted.
pub async fn send_capture(
    http: std::net::SocketAddr,
    scenario: &str,
    signals: &[cairn_core::signal::Signal],
) {
    use cairn_core::signal::Signal;
    for p in cairn_testkit::fixtures::scenario(scenario)
        .into_iter()
        .filter(|p| signals.contains(&p.signal) && !p.is_grpc_frame())
    {
        let path = match p.signal {
            Signal::Logs => "/v1/logs",
            Signal::Metrics => "/v1/metrics",
            Signal::Traces => "/v1/traces",
        };
        let r = http_client()
            .post(format!("http://{http}{path}"))
            .header("content-type", "application/x-protobuf")
            .body(p.protobuf().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", p.path);
    }
}
