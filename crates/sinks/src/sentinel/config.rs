//! `[sinks.sentinel]`: where the Logs Ingestion API is, which DCR and stream
//! to write, and the Entra ID application that may. [`Config::check`] only
//! validates; [`Config::build`] reads the secret and builds the client.

use std::{path::PathBuf, time::Duration};

use serde::Deserialize;

use super::client::{Sentinel, Target};
use crate::secret::SecretRef;

pub use crate::http::Compression;

/// Settings of a Sentinel sink.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The DCR's logs-ingestion endpoint or a Data Collection Endpoint,
    /// e.g. `https://my-dce-5kyl.eastus-1.ingest.monitor.azure.com`.
    pub endpoint: String,
    /// The DCR's immutable id: `dcr-` and 32 hex digits.
    pub dcr_immutable_id: String,
    /// The DCR input stream: `Custom-<Name>` or `Microsoft-<Table>`.
    pub stream: String,
    /// The Entra ID tenant (directory) id, or its verified domain.
    pub tenant_id: String,
    /// The application (client) id.
    pub client_id: String,
    /// The application's client secret.
    pub client_secret: SecretRef,
    /// The Entra ID authority (other clouds: `https://login.microsoftonline.us`,
    /// `https://login.chinacloudapi.cn`).
    #[serde(default = "default_authority")]
    pub authority: String,
    /// The token scope (other clouds: `https://monitor.azure.us//.default`,
    /// `https://monitor.azure.cn//.default`).
    #[serde(default = "default_scope")]
    pub scope: String,
    /// The Logs Ingestion API version.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// Extra CA bundle (PEM) to trust, for a TLS-inspecting proxy.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout in seconds (default 30).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}

fn default_scope() -> String {
    "https://monitor.azure.com//.default".into()
}

fn default_api_version() -> String {
    "2023-01-01".into()
}

/// An absolute base URL: `https`, or plain `http` to a loopback host only
/// (the service requires TLS 1.2+; loopback is for local fakes and proxies).
fn base_url(what: &str, text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("{what} {text:?}: {e}"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(format!("{what} {text:?} must be an https:// URL")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{what} {text:?} must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{what} must not carry credentials"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

fn is_api_version(s: &str) -> bool {
    let date = s.strip_suffix("-preview").unwrap_or(s);
    let b = date.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

impl Config {
    /// Validates without network or secrets.
    pub fn check(&self) -> Result<(), String> {
        base_url("endpoint", &self.endpoint)?;
        base_url("authority", &self.authority)?;
        let dcr_hex = self.dcr_immutable_id.strip_prefix("dcr-").unwrap_or("");
        if dcr_hex.len() != 32 || !dcr_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "dcr_immutable_id {:?} must be \"dcr-\" and 32 hex digits (the DCR's immutableId)",
                self.dcr_immutable_id
            ));
        }
        let table = self
            .stream
            .strip_prefix("Custom-")
            .or_else(|| self.stream.strip_prefix("Microsoft-"))
            .unwrap_or("");
        let name_ok = table
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
            && table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !name_ok {
            return Err(format!(
                "stream {:?} must be Custom-<Name> or Microsoft-<Table> (letters, digits, underscores)",
                self.stream
            ));
        }
        let domain_ok = self.tenant_id.contains('.')
            && self
                .tenant_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !is_guid(&self.tenant_id) && !domain_ok {
            return Err(format!(
                "tenant_id {:?} must be the directory (tenant) id GUID or a verified domain",
                self.tenant_id
            ));
        }
        if !is_guid(&self.client_id) {
            return Err(format!(
                "client_id {:?} must be the application (client) id GUID",
                self.client_id
            ));
        }
        let scope = reqwest::Url::parse(&self.scope).map_err(|e| format!("scope: {e}"))?;
        if scope.scheme() != "https" || !self.scope.ends_with("/.default") {
            return Err(format!(
                "scope {:?} must be an https resource ending in /.default, e.g. https://monitor.azure.com//.default",
                self.scope
            ));
        }
        if !is_api_version(&self.api_version) {
            return Err(format!(
                "api_version {:?} must look like 2023-01-01",
                self.api_version
            ));
        }
        if self.timeout_secs == Some(0) {
            return Err("timeout_secs must be at least 1".into());
        }
        Ok(())
    }

    /// Resolves the client secret and builds the sink.
    pub fn build(&self) -> Result<Sentinel, String> {
        self.check()?;
        let secret = self
            .client_secret
            .resolve()
            .map_err(|e| format!("client_secret: {e}"))?;
        let timeout = Duration::from_secs(self.timeout_secs.unwrap_or(30));
        let http =
            crate::http::client(self.ca_file.as_deref(), timeout).map_err(|e| e.to_string())?;
        let endpoint = base_url("endpoint", &self.endpoint)?;
        let authority = base_url("authority", &self.authority)?;
        Ok(Sentinel::new(
            http,
            Target {
                ingest_url: format!(
                    "{endpoint}/dataCollectionRules/{}/streams/{}?api-version={}",
                    self.dcr_immutable_id, self.stream, self.api_version
                ),
                token_url: format!("{authority}/{}/oauth2/v2.0/token", self.tenant_id),
                client_id: self.client_id.clone(),
                client_secret: secret,
                scope: self.scope.clone(),
                compression: self.compression,
            },
        ))
    }
}
