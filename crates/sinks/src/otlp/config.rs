//! `[sinks.otlp]`: where the collector is and how to talk to it.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::Deserialize;

use super::client::Otlp;
use crate::secret::SecretRef;

/// OTLP transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Protocol {
    /// OTLP/gRPC (port 4317).
    #[default]
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP/HTTP with binary protobuf (port 4318).
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

pub use crate::http::Compression;

/// `[sinks.otlp]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `http://host:4317` (gRPC) or `https://host:4318` (HTTP; the signal
    /// paths `/v1/logs`, `/v1/metrics`, `/v1/traces` are appended).
    pub endpoint: String,
    /// `grpc` (default) or `http/protobuf`.
    #[serde(default)]
    pub protocol: Protocol,
    /// `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// Extra headers (gRPC metadata), e.g. `authorization = { env = "…" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, SecretRef>,
    /// A PEM CA bundle trusted in addition to the public roots.
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout in seconds (default 10).
    pub timeout_secs: Option<u64>,
}

impl Config {
    pub(super) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.unwrap_or(10).max(1))
    }

    /// Validates without network or secrets.
    pub fn check(&self) -> Result<(), String> {
        let uri: http::Uri = self
            .endpoint
            .parse()
            .map_err(|e| format!("otlp.endpoint {:?}: {e}", self.endpoint))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => {
                return Err(format!(
                    "otlp.endpoint {:?}: needs http:// or https://",
                    self.endpoint
                ));
            }
        }
        if uri.host().is_none() {
            return Err(format!("otlp.endpoint {:?}: no host", self.endpoint));
        }
        for name in self.headers.keys() {
            http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("otlp.headers: {name:?} is not a header name"))?;
            if self.protocol == Protocol::Grpc && name.chars().any(|c| c.is_ascii_uppercase()) {
                return Err(format!(
                    "otlp.headers: gRPC metadata names are lower-case: {name:?}"
                ));
            }
        }
        if let Some(ca) = &self.ca_file
            && !ca.is_file()
        {
            return Err(format!("otlp.ca_file {}: not a file", ca.display()));
        }
        Ok(())
    }

    /// Resolves the header secrets and builds the client.
    pub fn build(&self) -> Result<Otlp, String> {
        self.check()?;
        let mut headers = Vec::new();
        for (name, value) in &self.headers {
            let secret = value
                .resolve()
                .map_err(|e| format!("otlp.headers.{name}: {e}"))?;
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("otlp.headers: {name:?} is not a header name"))?;
            let mut value = http::HeaderValue::from_str(secret.expose())
                .map_err(|_| format!("otlp.headers.{name}: not a valid header value"))?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        Otlp::new(self, headers)
    }
}
