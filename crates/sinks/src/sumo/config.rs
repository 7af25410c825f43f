//! `[sinks.sumo]`: the HTTP Source URL (a secret: its last path segment is
//! the token), the `X-Sumo-*` metadata headers, compression.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::Deserialize;

use super::client::Sumo;
use crate::secret::SecretRef;

pub use crate::http::Compression;

/// An extra header for sources that authenticate by header instead of by
/// URL token (`…/receiver/v1/http` plus a generated header).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthHeader {
    /// The header's name.
    pub name: String,
    /// Its value (a secret).
    pub value: SecretRef,
}

fn default_timeout() -> u64 {
    30
}

/// Settings of a Sumo Logic sink.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The HTTP Source URL. It holds the source's token, so it is a secret:
    /// `url = { env = "CAIRN_SUMO_URL" }`; cairn never logs it.
    pub url: SecretRef,
    /// `X-Sumo-Category`: the source category analysts search by.
    #[serde(default)]
    pub category: Option<String>,
    /// `X-Sumo-Name`: overrides the source name.
    #[serde(default)]
    pub name: Option<String>,
    /// `X-Sumo-Host`: overrides the source host.
    #[serde(default)]
    pub host: Option<String>,
    /// `X-Sumo-Fields`, sent as `k=v,k=v` (the fields must exist in Sumo).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// An extra authentication header, for header-authenticated sources.
    #[serde(default)]
    pub auth_header: Option<AuthHeader>,
    /// A PEM file of extra CA certificates (private PKI).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn header_value(name: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{name} is empty"));
    }
    if !value.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        return Err(format!(
            "{name} must be printable ASCII (it is sent as a header)"
        ));
    }
    Ok(())
}

impl Config {
    /// Validates the settings (no network, no secret read).
    pub fn check(&self) -> Result<(), String> {
        for (name, value) in [
            ("category", &self.category),
            ("name", &self.name),
            ("host", &self.host),
        ] {
            if let Some(v) = value {
                header_value(name, v)?;
            }
        }
        for (k, v) in &self.fields {
            let bad = |s: &str| s.contains([',', '=']);
            if k.trim().is_empty() || bad(k) || bad(v) {
                return Err(format!(
                    "fields: {k:?} = {v:?}: keys must be non-empty and neither may hold ',' or '=' (sent as k=v,k=v)"
                ));
            }
            header_value(&format!("fields.{k}"), &format!("{k}={v}"))?;
        }
        if let Some(h) = &self.auth_header
            && http::HeaderName::from_bytes(h.name.as_bytes()).is_err()
        {
            return Err(format!(
                "auth_header.name {:?} is not a header name",
                h.name
            ));
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        Ok(())
    }

    /// `k=v,k=v` for `X-Sumo-Fields`, when any are configured.
    pub(crate) fn fields_header(&self) -> Option<String> {
        (!self.fields.is_empty()).then(|| {
            self.fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// Resolves the URL (and auth header) and builds the sink. Errors name
    /// where the URL came from, never the URL.
    pub fn build(&self) -> Result<Sumo, String> {
        self.check()?;
        let secret = self.url.resolve().map_err(|e| format!("url: {e}"))?;
        let url = reqwest::Url::parse(secret.expose().trim())
            .map_err(|e| format!("url ({:?}) is not a valid URL: {e}", self.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "url ({:?}): the scheme must be https or http",
                self.url
            ));
        }
        let auth = match &self.auth_header {
            Some(h) => Some((
                h.name.clone(),
                h.value
                    .resolve()
                    .map_err(|e| format!("auth_header.value: {e}"))?,
            )),
            None => None,
        };
        let client = crate::http::client(
            self.ca_file.as_deref(),
            Duration::from_secs(self.timeout_secs),
        )
        .map_err(|e| e.to_string())?;
        Sumo::new(self, url, auth, client)
    }
}
