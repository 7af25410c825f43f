//! What the HTTP sinks share: the client (rustls, an optional extra CA for
//! private PKI, timeouts), request bodies (units back to back or as a JSON
//! array, gzipped or not per [`Compression`], with the matching
//! `Content-Encoding`), reading an answer in full, and turning transport
//! errors into [`SinkError`]s that never carry the URL (Sumo Logic's token
//! is its URL). How an answer is classified is each contract's own.

use std::{io::Write, path::Path, time::Duration};

use bytes::Bytes;
use flate2::write::GzEncoder;
use http::header;

use crate::{
    driver::{SinkError, error::retry_after_seconds},
    sink::Encoded,
};

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

    /// A request body as sent: gzipped, or as it is.
    pub fn encode(self, body: Vec<u8>) -> Vec<u8> {
        match self {
            Compression::Gzip => gzip(&body),
            Compression::None => body,
        }
    }

    /// Marks `req` with the matching `Content-Encoding` (none for `none`),
    /// for a body already passed through [`Compression::encode`].
    pub fn content_encoding(self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Compression::Gzip => req.header(header::CONTENT_ENCODING, "gzip"),
            Compression::None => req,
        }
    }

    /// Attaches `body` to `req`, compressed, with the matching
    /// `Content-Encoding`.
    pub fn body(self, req: reqwest::RequestBuilder, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.content_encoding(req).body(self.encode(body))
    }
}

/// The units of a batch back to back (NDJSON pairs, HEC envelopes, Sumo
/// lines: each unit ends with its own newline).
pub fn concat(batch: &[Encoded]) -> Vec<u8> {
    let mut body = Vec::with_capacity(batch.iter().map(|u| u.bytes.len()).sum());
    for unit in batch {
        body.extend_from_slice(&unit.bytes);
    }
    body
}

/// The units of a batch (JSON objects) as one JSON array: `[` + the units
/// joined by commas + `]`, one byte per unit plus one more than the units.
pub fn json_array(batch: &[Encoded]) -> Vec<u8> {
    let size: usize = batch.iter().map(|u| u.bytes.len() + 1).sum();
    let mut body = Vec::with_capacity(size + 1);
    body.push(b'[');
    for (i, unit) in batch.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&unit.bytes);
    }
    body.push(b']');
    body
}

/// An answer read in full.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After`, when given in seconds.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Bytes,
}

/// Sends `req` and reads the whole answer. No answer, or a body cut short,
/// is a retryable transport error (described without the URL).
pub async fn exchange(req: reqwest::RequestBuilder) -> Result<Answer, SinkError> {
    let resp = req.send().await.map_err(transport_error)?;
    let status = resp.status().as_u16();
    let retry_after = retry_after_seconds(resp.headers().get(header::RETRY_AFTER));
    let body = resp.bytes().await.map_err(transport_error)?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
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
