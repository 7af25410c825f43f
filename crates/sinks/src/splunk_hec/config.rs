//! `[sinks.splunk_hec]`: where the collector is, the token, envelope
//! metadata, compression and indexer acknowledgement.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::Deserialize;

use super::client::SplunkHec;
use crate::{item::ItemKind, secret::SecretRef};

pub use crate::http::Compression;

/// The sourcetype of each record kind.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sourcetypes {
    /// Claude Code / Cowork events.
    pub event: String,
    /// Prompt-chain audit records.
    pub chain: String,
    /// Metrics.
    pub metric: String,
    /// Spans.
    pub span: String,
}

impl Default for Sourcetypes {
    fn default() -> Self {
        Sourcetypes {
            event: "anthropic:claude_code:event".into(),
            chain: "anthropic:claude_code:chain".into(),
            metric: "anthropic:claude_code:metric".into(),
            span: "anthropic:claude_code:span".into(),
        }
    }
}

impl Sourcetypes {
    /// The sourcetype for `kind`.
    pub fn of(&self, kind: ItemKind) -> &str {
        match kind {
            ItemKind::Event => &self.event,
            ItemKind::Chain => &self.chain,
            ItemKind::Metric => &self.metric,
            ItemKind::Span => &self.span,
        }
    }
}

fn default_source() -> String {
    "cairn".into()
}
fn default_ack_timeout() -> u64 {
    120
}
fn default_ack_poll_ms() -> u64 {
    1000
}
fn default_timeout() -> u64 {
    30
}

/// Settings of a Splunk HEC sink.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The collector's base URL, e.g. `https://splunk.example.com:8088`
    /// (`/services/collector/event` is appended).
    pub url: String,
    /// The HEC token (`Authorization: Splunk <token>`).
    pub token: SecretRef,
    /// The index; must be in the token's allowed list. Default: the token's
    /// default index.
    #[serde(default)]
    pub index: Option<String>,
    /// The envelope `source` (default `cairn`).
    #[serde(default = "default_source")]
    pub source: String,
    /// The envelope `host` for every event. Default: the host the Claude Code
    /// session ran on, when the record names it (else HEC's own default).
    #[serde(default)]
    pub host: Option<String>,
    /// Sourcetype per record kind.
    #[serde(default)]
    pub sourcetypes: Sourcetypes,
    /// Extra indexed fields added to every event's `fields` (flat strings).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// Indexer acknowledgement: a batch counts as delivered only once HEC
    /// says it was indexed. The token must have acknowledgement enabled.
    #[serde(default)]
    pub ack: bool,
    /// How long to wait for an acknowledgement before sending the batch
    /// again (duplicates then carry the same `record_id`).
    #[serde(default = "default_ack_timeout")]
    pub ack_timeout_secs: u64,
    /// How often to poll `/services/collector/ack`, in milliseconds.
    #[serde(default = "default_ack_poll_ms")]
    pub ack_poll_ms: u64,
    /// A PEM file of extra CA certificates (private PKI).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn metadata(name: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{name} is empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{name} contains a control character"));
    }
    Ok(())
}

impl Config {
    /// Validates the settings (no network, no secret read).
    pub fn check(&self) -> Result<(), String> {
        self.base_url().map(|_| ())?;
        if let Some(index) = &self.index {
            metadata("index", index)?;
        }
        metadata("source", &self.source)?;
        if let Some(host) = &self.host {
            metadata("host", host)?;
        }
        let s = &self.sourcetypes;
        for (kind, value) in [
            ("event", &s.event),
            ("chain", &s.chain),
            ("metric", &s.metric),
            ("span", &s.span),
        ] {
            metadata(&format!("sourcetypes.{kind}"), value)?;
        }
        for (k, v) in &self.fields {
            metadata("a fields key", k)?;
            if v.chars().any(char::is_control) {
                return Err(format!("fields.{k} contains a control character"));
            }
        }
        if self.ack {
            if self.ack_timeout_secs == 0 {
                return Err("ack_timeout_secs must be at least 1".into());
            }
            if self.ack_poll_ms == 0 || self.ack_poll_ms > self.ack_timeout_secs * 1000 {
                return Err("ack_poll_ms must be between 1 and ack_timeout_secs × 1000".into());
            }
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        Ok(())
    }

    /// The base URL without a trailing slash.
    pub(crate) fn base_url(&self) -> Result<reqwest::Url, String> {
        // The URL is not echoed: a mistaken one may carry credentials.
        let url =
            reqwest::Url::parse(self.url.trim_end_matches('/')).map_err(|e| format!("url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("url: the scheme must be https or http".into());
        }
        if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(
                "url: no query or credentials in the URL; the token goes in `token`".into(),
            );
        }
        if url.path().contains("/services/collector") {
            return Err(
                "url: give the base URL (scheme, host, port); cairn appends /services/collector/event"
                    .into(),
            );
        }
        Ok(url)
    }

    /// Resolves the token and builds the sink.
    pub fn build(&self) -> Result<SplunkHec, String> {
        self.check()?;
        let token = self.token.resolve().map_err(|e| format!("token: {e}"))?;
        let client = crate::http::client(
            self.ca_file.as_deref(),
            Duration::from_secs(self.timeout_secs),
        )
        .map_err(|e| e.to_string())?;
        SplunkHec::new(self.clone(), &self.base_url()?, token, client)
    }
}
