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
