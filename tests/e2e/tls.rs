//! TLS and mutual TLS on both receivers, driven by real clients: reqwest
//! (rustls) for OTLP/HTTP and a tonic `LogsServiceClient` for OTLP/gRPC,
//! against a throwaway PKI from `cairn_testkit::tls::write_pki`.
//!
//! - server TLS: a client trusting the CA is served; plain HTTP on the TLS
//!   port is not;
//! - mTLS: a client certificate signed by the client CA is required; none,
//!   or one from another CA, is refused at the handshake;
//! - tokens still apply over TLS.
//!
//! Every refused attempt is also checked to have stored nothing.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use cairn_otlp::tls::{TlsFiles, server_config};
use cairn_testkit::{
    eventually, fixtures,
    gateway::TestGateway,
    tls::{Pki, write_pki},
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, logs_service_client::LogsServiceClient,
};
use prost::Message;
use tempfile::TempDir;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

const TOKEN: &str = "tls-token-0123456789abcdef";
const TENANT: &str = "tls-tenant";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A fresh PKI in a temp dir (kept alive by the returned `TempDir`), and a
/// process-wide rustls provider for the clients.
fn pki() -> (TempDir, Pki) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let pki = write_pki(dir.path());
    (dir, pki)
}

/// The server config both listeners share; `mtls` requires client certs.
fn server_tls(pki: &Pki, mtls: bool) -> Arc<rustls::ServerConfig> {
    let files = TlsFiles {
        cert: pki.server_cert.clone(),
        key: pki.server_key.clone(),
        client_ca: mtls.then(|| pki.ca_cert.clone()),
    };
    server_config(&files, &[b"h2", b"http/1.1"]).unwrap()
}

async fn gateway(pki: &Pki, mtls: bool, token: bool) -> TestGateway {
    let builder = TestGateway::builder().tls(server_tls(pki, mtls));
    let builder = if token {
        builder.token(TOKEN, Some(TENANT))
    } else {
        builder
    };
    builder.start().await
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `http-protobuf/logs-001.pb` and how many log records it holds.
fn http_logs() -> (Vec<u8>, usize) {
    let body = read(&fixtures::root().join("http-protobuf/logs-001.pb"));
    let n = log_count(&ExportLogsServiceRequest::decode(body.as_slice()).unwrap());
    (body, n)
}

/// `grpc/logs-001.pb`, decoded.
fn grpc_logs() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest::decode(read(&fixtures::root().join("grpc/logs-001.pb")).as_slice())
        .unwrap()
}

fn log_count(req: &ExportLogsServiceRequest) -> usize {
    req.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum()
}

/// A reqwest client that trusts only the test CA, dials `localhost` at
/// `addr`, and presents `identity` (cert, key) when given.
fn https_client(pki: &Pki, addr: SocketAddr, identity: Option<(&Path, &Path)>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&read(&pki.ca_cert)).unwrap())
        .resolve("localhost", addr)
        .timeout(TIMEOUT);
    if let Some((cert, key)) = identity {
        let mut pem = read(cert);
        pem.extend_from_slice(&read(key));
        b = b.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    b.build().unwrap()
}

/// POSTs the HTTP logs fixture to `https://localhost:<port>/v1/logs`.
async fn post_logs(
    client: &reqwest::Client,
    addr: SocketAddr,
    token: Option<&str>,
) -> Result<u16, String> {
    let mut req = client
        .post(format!("https://localhost:{}/v1/logs", addr.port()))
        .header("content-type", "application/x-protobuf")
        .body(http_logs().0);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    match req.send().await {
        Ok(resp) => Ok(resp.status().as_u16()),
        Err(e) => Err(error_chain(&e)),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Exports the gRPC logs fixture over TLS to `addr` (server name `localhost`),
/// presenting `identity` when given. Any connect or call failure is an `Err`.
async fn grpc_export(
    pki: &Pki,
    addr: SocketAddr,
    identity: Option<(&Path, &Path)>,
    token: Option<&str>,
) -> Result<(), String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(&pki.ca_cert)))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(read(cert), read(key)));
    }
    let endpoint = Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| error_chain(&e))?
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT);
    let call = async {
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| format!("connect: {}", error_chain(&e)))?;
        let mut req = tonic::Request::new(grpc_logs());
        if let Some(t) = token {
            req.metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        LogsServiceClient::new(channel)
            .export(req)
            .await
            .map(|_| ())
            .map_err(|s| format!("export: {s:?}"))
    };
    tokio::time::timeout(TIMEOUT * 2, call)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_a_client_that_trusts_the_ca() {
    let (_dir, pki) = pki();
    let gw = gateway(&pki, false, false).await;
    let (_, expected) = http_logs();
    assert!(expected > 0, "the fixture holds log records");

    let status = post_logs(&https_client(&pki, gw.http_addr, None), gw.http_addr, None).await;
    assert_eq!(status, Ok(200), "POST over TLS to /v1/logs");
    eventually!(gw.ingest.record_count() == expected);

    let plain = plain_post(gw.http_addr).await;
    assert!(
        plain.is_err(),
        "plain HTTP on the TLS port must fail, got status {plain:?}"
    );
    assert_eq!(
        gw.ingest.record_count(),
        expected,
        "the plain-HTTP attempt must store nothing"
    );
    gw.stop().await;
}

/// A plain-HTTP POST of the logs fixture to `addr`.
async fn plain_post(addr: SocketAddr) -> Result<u16, String> {
    let resp = crate::util::http_client()
        .post(format!("http://{addr}/v1/logs"))
        .header("content-type", "application/x-protobuf")
        .body(http_logs().0)
        .timeout(TIMEOUT)
        .send()
        .await;
    resp.map(|r| r.status().as_u16())
        .map_err(|e| error_chain(&e))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_tls_serves_a_client_that_trusts_the_ca() {
    let (_dir, pki) = pki();
    let gw = gateway(&pki, false, false).await;
    let expected = log_count(&grpc_logs());
    assert!(expected > 0, "the fixture holds log records");

    grpc_export(&pki, gw.grpc_addr, None, None)
        .await
        .expect("gRPC export over TLS");
    eventually!(gw.ingest.record_count() == expected);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_over_http_requires_a_client_cert_from_the_ca() {
    let (_dir, pki) = pki();
    let gw = gateway(&pki, true, false).await;
    let (_, expected) = http_logs();
    let addr = gw.http_addr;

    let none = post_logs(&https_client(&pki, addr, None), addr, None).await;
    assert!(
        none.is_err(),
        "mTLS must refuse a client without a certificate, got {none:?}"
    );
    let rogue = Some((
        pki.rogue_client_cert.as_path(),
        pki.rogue_client_key.as_path(),
    ));
    let rogue = post_logs(&https_client(&pki, addr, rogue), addr, None).await;
    assert!(
        rogue.is_err(),
        "mTLS must refuse a certificate from another CA, got {rogue:?}"
    );
    assert_eq!(
        gw.ingest.record_count(),
        0,
        "refused handshakes must store nothing"
    );

    let good = Some((pki.client_cert.as_path(), pki.client_key.as_path()));
    let status = post_logs(&https_client(&pki, addr, good), addr, None).await;
    assert_eq!(
        status,
        Ok(200),
        "mTLS with the CA-signed client certificate"
    );
    eventually!(gw.ingest.record_count() == expected);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_over_grpc_requires_a_client_cert_from_the_ca() {
    let (_dir, pki) = pki();
    let gw = gateway(&pki, true, false).await;
    let expected = log_count(&grpc_logs());
    let addr = gw.grpc_addr;

    let none = grpc_export(&pki, addr, None, None).await;
    assert!(
        none.is_err(),
        "mTLS must refuse a gRPC client without a certificate"
    );
    let rogue = Some((
        pki.rogue_client_cert.as_path(),
        pki.rogue_client_key.as_path(),
    ));
    let rogue = grpc_export(&pki, addr, rogue, None).await;
    assert!(
        rogue.is_err(),
        "mTLS must refuse a gRPC client certificate from another CA"
    );
    assert_eq!(
        gw.ingest.record_count(),
        0,
        "refused handshakes must store nothing"
    );

    let good = Some((pki.client_cert.as_path(), pki.client_key.as_path()));
    grpc_export(&pki, addr, good, None)
        .await
        .expect("gRPC export with the CA-signed client certificate");
    eventually!(gw.ingest.record_count() == expected);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_still_required_over_tls() {
    let (_dir, pki) = pki();
    let gw = gateway(&pki, false, true).await;
    let client = https_client(&pki, gw.http_addr, None);

    let missing = post_logs(&client, gw.http_addr, None).await;
    assert_eq!(
        missing,
        Ok(401),
        "a TLS request without a token must get 401"
    );
    let wrong = post_logs(&client, gw.http_addr, Some("wrong-token-0123456789")).await;
    assert_eq!(
        wrong,
        Ok(401),
        "a TLS request with a wrong token must get 401"
    );
    let grpc_missing = grpc_export(&pki, gw.grpc_addr, None, None).await;
    let err = grpc_missing.expect_err("a gRPC call over TLS without a token must fail");
    assert!(
        err.contains("Unauthenticated"),
        "gRPC without a token: want UNAUTHENTICATED, got {err}"
    );
    assert_eq!(
        gw.ingest.record_count(),
        0,
        "refused requests must store nothing"
    );

    let (_, http_expected) = http_logs();
    assert_eq!(
        post_logs(&client, gw.http_addr, Some(TOKEN)).await,
        Ok(200),
        "the right token over TLS"
    );
    eventually!(gw.ingest.record_count() == http_expected);
    grpc_export(&pki, gw.grpc_addr, None, Some(TOKEN))
        .await
        .expect("gRPC with the right token over TLS");
    let expected = http_expected + log_count(&grpc_logs());
    eventually!(gw.ingest.record_count() == expected);
    let batches = gw.ingest.batches();
    assert!(
        batches
            .iter()
            .all(|b| b.origin.tenant.as_deref() == Some(TENANT)),
        "records accepted over TLS carry the token's tenant"
    );
    gw.stop().await;
}
