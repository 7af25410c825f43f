//! `[sinks.elastic]`: where the cluster is, how to authenticate, which data
//! stream to write, and the request caps.

use std::{path::PathBuf, time::Duration};

use base64::Engine as _;
use serde::Deserialize;

use super::client::{Auth, Elastic, Settings};
use crate::secret::SecretRef;

/// The data stream written by default: it matches Elastic's built-in
/// `logs-*-*` index template (dataset `cairn.audit`, namespace `default`).
pub const DEFAULT_DATA_STREAM: &str = "logs-cairn.audit-default";

/// How the record's full canonical JSON travels in `cairn.detail`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailMode {
    /// An object, searchable field by field. Dots in its keys become `_`,
    /// because Elasticsearch expands `prompt.id` into an object under
    /// `prompt`, which conflicts with a `prompt` string in the same record.
    #[default]
    Object,
    /// One JSON string (`cairn.detail_json`), for clusters with strict
    /// mappings or a tight field limit.
    String,
}

/// Settings of one Elasticsearch sink.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The cluster's URL (`https://es.example.com:9200`, may carry a path
    /// prefix behind a proxy); `/_bulk` is appended.
    pub url: String,
    /// The data stream (or index) the documents are created in.
    #[serde(default = "default_data_stream")]
    pub data_stream: String,
    /// POST to `/<data_stream>/_bulk` instead of `/_bulk` (for API keys
    /// whose privileges name the target).
    #[serde(default)]
    pub target_in_path: bool,
    /// `Authorization: ApiKey <encoded>`: the `encoded` value the
    /// create-API-key call returns (an `id:api_key` pair is encoded here).
    pub api_key: Option<SecretRef>,
    /// Basic authentication user (with `password`).
    pub username: Option<String>,
    /// Basic authentication password (with `username`).
    pub password: Option<SecretRef>,
    /// `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: crate::http::Compression,
    /// An ingest pipeline to run (`pipeline=` query parameter).
    pub pipeline: Option<String>,
    /// Extra CA certificates (PEM) for a private PKI.
    pub ca_file: Option<PathBuf>,
    /// Request timeout in seconds (default 30).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Uncompressed bytes per request (default 5,000,000; the cluster's
    /// `http.max_content_length` is 100 MB by default, Elastic Cloud may
    /// cap lower).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// Documents per request (default 1,000).
    #[serde(default = "default_max_docs")]
    pub max_docs: usize,
    /// How `cairn.detail` is sent.
    #[serde(default)]
    pub detail: DetailMode,
}

fn default_data_stream() -> String {
    DEFAULT_DATA_STREAM.into()
}
fn default_timeout() -> u64 {
    30
}
fn default_max_bytes() -> usize {
    5_000_000
}
fn default_max_docs() -> usize {
    1_000
}

/// Elasticsearch's index name rules (lowercase, no path or wildcard
/// characters, not `.`/`..`, no leading `-`, `_`, `+`, at most 255 bytes).
fn check_index_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("data_stream {name:?} {why}"));
    if name.is_empty() || name.len() > 255 {
        return bad("must be 1 to 255 bytes");
    }
    if name == "." || name == ".." {
        return bad("is reserved");
    }
    if name.starts_with(['-', '_', '+']) {
        return bad("must not start with -, _ or +");
    }
    if name.chars().any(|c| c.is_uppercase()) {
        return bad("must be lowercase");
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || "\\/*?\"<>|,#:".contains(c))
    {
        return bad("holds a character Elasticsearch refuses in index names");
    }
    Ok(())
}

impl Config {
    /// Validates without network or secrets.
    pub fn check(&self) -> Result<(), String> {
        let url = reqwest::Url::parse(&self.url).map_err(|e| format!("url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("url must be http:// or https://".into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("url must not carry a query or fragment".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("put credentials in api_key or username/password, not in the url".into());
        }
        check_index_name(&self.data_stream)?;
        match (&self.api_key, &self.username, &self.password) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => {}
            (None, None, None) => {
                return Err("set api_key, or username and password".into());
            }
            (Some(_), _, _) => {
                return Err("set api_key or username/password, not both".into());
            }
            _ => return Err("username and password go together".into()),
        }
        if self.username.as_deref().is_some_and(|u| u.contains(':')) {
            return Err("username must not contain ':'".into());
        }
        if let Some(p) = &self.pipeline
            && (p.is_empty()
                || !p
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)))
        {
            return Err(format!("pipeline {p:?}: use letters, digits, - _ . @"));
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        if self.max_bytes < 1_000 {
            return Err("max_bytes must be at least 1000".into());
        }
        if !(1..=100_000).contains(&self.max_docs) {
            return Err("max_docs must be between 1 and 100000".into());
        }
        Ok(())
    }

    /// Resolves the credentials and builds the sink.
    pub fn build(&self) -> Result<Elastic, String> {
        self.check()?;
        let auth = match (&self.api_key, &self.username, &self.password) {
            (Some(key), _, _) => {
                let key = key.resolve().map_err(|e| format!("api_key: {e}"))?;
                let value = key.expose().trim();
                // The `encoded` form is base64 and never holds ':'; an
                // `id:api_key` pair is encoded here so either can be pasted.
                let encoded = if value.contains(':') {
                    base64::engine::general_purpose::STANDARD.encode(value)
                } else {
                    value.to_owned()
                };
                Auth::header(&format!("ApiKey {encoded}"))?
            }
            (None, Some(user), Some(password)) => {
                let password = password.resolve().map_err(|e| format!("password: {e}"))?;
                let pair = format!("{user}:{}", password.expose());
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                Auth::header(&format!("Basic {encoded}"))?
            }
            _ => return Err("set api_key, or username and password".into()),
        };
        let mut url = reqwest::Url::parse(&self.url).map_err(|e| format!("url: {e}"))?;
        let base = url.path().trim_end_matches('/').to_owned();
        let path = if self.target_in_path {
            format!("{base}/{}/_bulk", self.data_stream)
        } else {
            format!("{base}/_bulk")
        };
        url.set_path(&path);
        let mut query = String::from("filter_path=errors,items.*.status,items.*.error");
        if let Some(p) = &self.pipeline {
            query.push_str("&pipeline=");
            query.push_str(p);
        }
        url.set_query(Some(&query));
        let client = crate::http::client(
            self.ca_file.as_deref(),
            Duration::from_secs(self.timeout_secs),
        )
        .map_err(|e| e.to_string())?;
        Ok(Elastic::new(Settings {
            client,
            bulk_url: url,
            auth,
            compression: self.compression,
            data_stream: self.data_stream.clone(),
            max_bytes: self.max_bytes,
            max_docs: self.max_docs,
            max_delay: Duration::from_secs(1),
            detail: self.detail,
        }))
    }
}
