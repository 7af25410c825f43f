//! `[sinks.datadog]`: the intake site, the API key, and the reserved
//! attributes (`ddsource`, `service`, `ddtags`, `hostname`) every log gets.

use std::{path::PathBuf, time::Duration};

use serde::Deserialize;

use super::{
    client::{Datadog, Settings},
    encode::{Encoder, tag},
};
use crate::secret::SecretRef;

/// The US1 intake; other sites via `site` or `url`.
pub const DEFAULT_URL: &str = "https://http-intake.logs.datadoghq.com";

/// Settings of one Datadog sink.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The intake base URL; `/api/v2/logs` is appended (default
    /// `https://http-intake.logs.datadoghq.com`).
    pub url: Option<String>,
    /// A Datadog site (`datadoghq.eu`, `us3.datadoghq.com`, …) instead of
    /// `url`: the intake is `https://http-intake.logs.<site>`.
    pub site: Option<String>,
    /// `DD-API-KEY` (an API key; no application key is needed).
    pub api_key: SecretRef,
    /// `service` (default `cairn`).
    #[serde(default = "default_service")]
    pub service: String,
    /// `ddsource` (default `claude_code`).
    #[serde(default = "default_source")]
    pub ddsource: String,
    /// Tags added to every log (`env:prod`, `team:sec`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// `hostname` for records that carry no host.
    pub hostname: Option<String>,
    /// `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: crate::http::Compression,
    /// Extra CA certificates (PEM) for a private PKI or proxy.
    pub ca_file: Option<PathBuf>,
    /// Request timeout in seconds (default 30).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_service() -> String {
    "cairn".into()
}
fn default_source() -> String {
    "claude_code".into()
}
fn default_timeout() -> u64 {
    30
}

impl Config {
    fn base_url(&self) -> Result<String, String> {
        match (&self.url, &self.site) {
            (Some(_), Some(_)) => Err("set url or site, not both".into()),
            (Some(url), None) => Ok(url.clone()),
            (None, Some(site)) => {
                if site.is_empty()
                    || !site
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                {
                    return Err(format!("site {site:?} is not a host name"));
                }
                Ok(format!("https://http-intake.logs.{site}"))
            }
            (None, None) => Ok(DEFAULT_URL.into()),
        }
    }

    /// Validates without network or secrets.
    pub fn check(&self) -> Result<(), String> {
        let url = reqwest::Url::parse(&self.base_url()?).map_err(|e| format!("url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("url must be http:// or https://".into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("url must not carry a query or fragment".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("put the API key in api_key, not in the url".into());
        }
        for (what, value) in [("service", &self.service), ("ddsource", &self.ddsource)] {
            if value.trim().is_empty() {
                return Err(format!("{what} must not be empty"));
            }
        }
        for t in &self.tags {
            if t.is_empty() || t.len() > 200 || t.contains(',') || tag(t) != *t {
                return Err(format!(
                    "tag {t:?}: use 1 to 200 of letters, digits, _ - : . / (no commas or spaces)"
                ));
            }
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        Ok(())
    }

    /// Resolves the API key and builds the sink.
    pub fn build(&self) -> Result<Datadog, String> {
        self.check()?;
        let key = self
            .api_key
            .resolve()
            .map_err(|e| format!("api_key: {e}"))?;
        let mut url = reqwest::Url::parse(&self.base_url()?).map_err(|e| format!("url: {e}"))?;
        let path = format!("{}/api/v2/logs", url.path().trim_end_matches('/'));
        url.set_path(&path);
        let client = crate::http::client(
            self.ca_file.as_deref(),
            Duration::from_secs(self.timeout_secs),
        )
        .map_err(|e| e.to_string())?;
        Datadog::new(Settings {
            client,
            url,
            api_key: key,
            compression: self.compression,
            max_delay: Duration::from_secs(1),
            encoder: Encoder {
                ddsource: self.ddsource.clone(),
                service: self.service.clone(),
                hostname: self.hostname.clone(),
                tags: self.tags.clone(),
            },
        })
    }
}
