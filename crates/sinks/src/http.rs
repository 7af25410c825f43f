//! What the HTTP sinks share: the client (rustls, an optional extra CA for
//! private PKI, timeouts), gzip, and turning transport errors into
//! [`SinkError`]s that never carry the URL (Sumo Logic's token is its URL).

use std::{io::Write, path::Path, time::Duration};

use flate2::write::GzEncoder;

use crate::driver::SinkError;

/// Request body compression, the same key in every HTTP sink's config:
/// `compression = "gzip"` (default) or `"none"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `Content-Encoding: gzip`.
    #[default]
    Gzip,
    /// Uncompressed.
    None,
}

impl Compression {
    /// Whether bodies are gzipped.
    pub fn is_gzip(self) -> bool {
        self == Compression::Gzip
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The CA file could not be read or parsed.
    #[error("reading CA file {path}: {why}")]
    Ca {
        /// The file.
        path: String,
        /// What went wrong.
        why: String,
    },
    /// The HTTP client refused its settings.
    #[error("building the HTTP client: {0}")]
    Build(String),
}

/// Builds the client every HTTP sink uses: rustls with the platform's web
/// roots plus `ca_file` (PEM) when given, connect and request timeouts.
pub fn client(ca_file: Option<&Path>, timeout: Duration) -> Result<reqwest::Client, ClientError> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(60));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| ClientError::Ca {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ClientError::Ca {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        for cert in certs {
            b = b.add_root_certificate(cert);
        }
    }
    b.build()
        .map_err(|e| ClientError::Build(e.without_url().to_string()))
}

/// Gzips a request body.
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

/// A request that got no HTTP answer (refused, reset, timed out): retryable,
/// described without the URL.
pub fn transport_error(e: reqwest::Error) -> SinkError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    SinkError::transport(format!("{kind}: {}", e.without_url()))
}

/// The first `max` characters of an error body, for a reason line (error
/// bodies of SIEMs name the problem, not record content).
pub fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}
