//! Throwaway certificates for TLS and mTLS tests: a CA, a server certificate
//! for `localhost`/`127.0.0.1`, and client certificates, written as PEM files.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// PEM files written into a directory.
#[derive(Debug, Clone)]
pub struct Pki {
    /// CA certificate.
    pub ca_cert: PathBuf,
    /// Server certificate (localhost, 127.0.0.1).
    pub server_cert: PathBuf,
    /// Server key.
    pub server_key: PathBuf,
    /// Client certificate signed by the CA.
    pub client_cert: PathBuf,
    /// Client key.
    pub client_key: PathBuf,
    /// A client certificate from another, untrusted CA.
    pub rogue_client_cert: PathBuf,
    /// Its key.
    pub rogue_client_key: PathBuf,
}

fn ca(name: &str) -> (Issuer<'static, KeyPair>, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (Issuer::new(params, key), cert.pem())
}

fn leaf(issuer: &Issuer<'static, KeyPair>, names: &[&str]) -> (String, String) {
    let params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Writes a fresh PKI into `dir`.
pub fn write_pki(dir: &Path) -> Pki {
    let (ca_issuer, ca_pem) = ca("cairn test CA");
    let (rogue_issuer, _) = ca("rogue CA");
    let (server_cert, server_key) = leaf(&ca_issuer, &["localhost", "127.0.0.1"]);
    let (client_cert, client_key) = leaf(&ca_issuer, &["claude-code-client"]);
    let (rogue_cert, rogue_key) = leaf(&rogue_issuer, &["rogue-client"]);
    let w = |name: &str, pem: &str| {
        let p = dir.join(name);
        std::fs::write(&p, pem).unwrap();
        p
    };
    Pki {
        ca_cert: w("ca.pem", &ca_pem),
        server_cert: w("server.pem", &server_cert),
        server_key: w("server.key", &server_key),
        client_cert: w("client.pem", &client_cert),
        client_key: w("client.key", &client_key),
        rogue_client_cert: w("rogue.pem", &rogue_cert),
        rogue_client_key: w("rogue.key", &rogue_key),
    }
}
