//! The configuration file: TOML, parsed strictly (unknown keys are errors),
//! then validated into a [`Plan`](crate::config::plan::Plan) before any
//! socket opens. Every error names the file, the line and the key.

pub mod plan;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// The embedded default configuration (`config/default.toml`).
pub const DEFAULT_TOML: &str = include_str!("../../../../config/default.toml");

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Listeners and limits.
    #[serde(default)]
    pub server: ServerSection,
    /// Accepted tokens.
    #[serde(default)]
    pub auth: AuthSection,
    /// TLS for both OTLP listeners.
    pub tls: Option<TlsSection>,
    /// The queue between receivers and outputs.
    #[serde(default)]
    pub queue: QueueSection,
    /// The JSON-lines records output.
    #[serde(default)]
    pub records: RecordsSection,
    /// cairn's own log.
    #[serde(default)]
    pub log: LogSection,
    /// Redaction of secrets and PII on the receive path (always on).
    #[serde(default)]
    pub redaction: RedactionSection,
    /// Prompt-chain audit records.
    #[serde(default)]
    pub chains: ChainsSection,
    /// Cost-center enrichment (resource attributes, a directory file).
    pub enrichment: Option<Spanned<cairn_pipeline::enrich::EnrichConfig>>,
    /// Spend counters on `/metrics`.
    #[serde(default)]
    pub spend: SpendSection,
    /// The tamper-evident archive under `<data_dir>/archive`.
    #[serde(default)]
    pub archive: ArchiveSection,
    /// The write-ahead log under `<data_dir>/wal`.
    #[serde(default)]
    pub wal: WalSection,
    /// Where records go besides the records file: `[[sinks]]` tables.
    #[serde(default)]
    pub sinks: Vec<Spanned<cairn_sinks::config::SinkConfig>>,
}

/// `[archive]`: hash-chained, Ed25519-sealed segments under
/// `<data_dir>/archive` that `cairn verify` checks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveSection {
    /// Write the archive (default on: it is the audit trail).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The Ed25519 signing key (PKCS#8 PEM); default
    /// `<data_dir>/archive.key`, generated on first start.
    pub key_file: Option<PathBuf>,
    /// Rotate segments at this size, in MiB (default 128).
    #[serde(default = "default_segment_mib")]
    pub max_segment_mib: Spanned<u64>,
    /// Rotate segments at this age, in hours (default 24; 0: never).
    #[serde(default = "default_segment_hours")]
    pub max_segment_age_hours: u64,
    /// Delete closed segments older than this many days (default: keep all).
    pub retention_days: Option<Spanned<u64>>,
    /// Seal a checkpoint after this many records (default 1000).
    #[serde(default = "default_checkpoint_records")]
    pub checkpoint_records: Spanned<u64>,
    /// Seal a checkpoint at a flush once unsealed records are this old, in
    /// seconds (default 10).
    #[serde(default = "default_checkpoint_secs")]
    pub checkpoint_interval_secs: u64,
}

fn default_segment_mib() -> Spanned<u64> {
    spanned(128)
}
fn default_segment_hours() -> u64 {
    24
}
fn default_checkpoint_records() -> Spanned<u64> {
    spanned(1000)
}
fn default_checkpoint_secs() -> u64 {
    10
}

impl Default for ArchiveSection {
    fn default() -> Self {
        ArchiveSection {
            enabled: true,
            key_file: None,
            max_segment_mib: default_segment_mib(),
            max_segment_age_hours: default_segment_hours(),
            retention_days: None,
            checkpoint_records: default_checkpoint_records(),
            checkpoint_interval_secs: default_checkpoint_secs(),
        }
    }
}

/// `[wal]`: the write-ahead log under `<data_dir>/wal`. Every acknowledged
/// batch is in it before the answer; the sinks and the archive read it at
/// their own pace and it keeps what any of them has not finished.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalSection {
    /// `"fsync"` (default): a batch is synced to disk before it is
    /// acknowledged (group commit). `"buffered"`: written to the OS only,
    /// which survives a cairn crash but not a machine crash.
    #[serde(default)]
    pub durability: cairn_store::wal::Durability,
    /// The most disk it may use (default `"2 GiB"`); when full, receivers
    /// answer 503 / UNAVAILABLE with `Retry-After` until sinks catch up.
    #[serde(default = "default_wal_budget")]
    pub budget: Spanned<bytesize::ByteSize>,
    /// Segment file size (default `"64 MiB"`): disk is freed a segment at a
    /// time, once every sink and the archive are past it.
    #[serde(default = "default_wal_segment")]
    pub segment: Spanned<bytesize::ByteSize>,
}

fn default_wal_budget() -> Spanned<bytesize::ByteSize> {
    spanned(bytesize::ByteSize::gib(2))
}
fn default_wal_segment() -> Spanned<bytesize::ByteSize> {
    spanned(bytesize::ByteSize::mib(64))
}

impl Default for WalSection {
    fn default() -> Self {
        WalSection {
            durability: cairn_store::wal::Durability::Fsync,
            budget: default_wal_budget(),
            segment: default_wal_segment(),
        }
    }
}

/// `[spend]`: the `/metrics` spend counters by cost center and model.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendSection {
    /// Add a `user` label (`user.id`). Off by default: one series per user.
    #[serde(default)]
    pub per_user: bool,
}

/// `[chains]`: one audit record per prompt, rebuilt from its events.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainsSection {
    /// Build chain records.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Also write and export the raw events a chain is built from.
    #[serde(default = "yes")]
    pub raw_events: bool,
    /// Close a chain after this long without an event.
    #[serde(default = "default_idle")]
    pub idle_timeout_secs: Spanned<u64>,
    /// The most chains open at once (the oldest is emitted as evicted).
    #[serde(default = "default_max_open")]
    pub max_open: Spanned<usize>,
    /// The most bytes open chains may hold (the oldest is emitted as evicted).
    #[serde(default = "default_max_open_bytes")]
    pub max_open_bytes: Spanned<usize>,
}

fn default_idle() -> Spanned<u64> {
    spanned(120)
}
fn default_max_open() -> Spanned<usize> {
    spanned(10_000)
}
fn default_max_open_bytes() -> Spanned<usize> {
    spanned(256 << 20)
}

impl Default for ChainsSection {
    fn default() -> Self {
        ChainsSection {
            enabled: true,
            raw_events: true,
            idle_timeout_secs: default_idle(),
            max_open: default_max_open(),
            max_open_bytes: default_max_open_bytes(),
        }
    }
}

/// `[redaction]`: always on; this only tunes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionSection {
    /// Values longer than this are dropped unscanned (`[DROPPED:unscannable]`).
    pub max_scan_bytes: Option<Spanned<u64>>,
    /// Built-in kinds to switch off (e.g. `ipv4`).
    #[serde(default)]
    pub disabled_kinds: Vec<Spanned<String>>,
    /// Per-attribute actions: `scan` (default), `drop`, `keep`, `hash`.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, Spanned<cairn_pipeline::redact::Action>>,
    /// Your own rules.
    #[serde(default)]
    pub custom_rules: Vec<Spanned<cairn_redact::CustomRule>>,
    /// Environment variable holding the HMAC key for `hash`.
    pub hash_key_env: Option<String>,
    /// File holding the HMAC key for `hash`. With neither, a key is generated
    /// on first start and kept in `<data_dir>/hash.key`.
    pub hash_key_file: Option<PathBuf>,
}

/// `[server]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// OTLP/gRPC listen address.
    #[serde(default = "default_grpc")]
    pub grpc_addr: Spanned<String>,
    /// OTLP/HTTP listen address.
    #[serde(default = "default_http")]
    pub http_addr: Spanned<String>,
    /// Admin (health, metrics) listen address.
    #[serde(default = "default_admin")]
    pub admin_addr: Spanned<String>,
    /// Where records (and later the WAL and archive) are written.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Permit a non-loopback listener with no token configured.
    #[serde(default)]
    pub allow_unauthenticated: bool,
    /// Largest request body, compressed or inflated.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: Spanned<u64>,
    /// Time a client has to send its body.
    #[serde(default = "default_body_timeout")]
    pub body_timeout_secs: Spanned<u64>,
    /// Time shutdown waits for in-flight requests.
    #[serde(default = "default_drain")]
    pub drain_timeout_secs: u64,
    /// The memory cairn's buffers may hold (default `"512 MiB"`): records
    /// waiting for the writer and open prompt chains share it; past it,
    /// receivers answer 503 / UNAVAILABLE with `Retry-After`. Sink backlogs
    /// are on disk (the WAL) and do not count.
    #[serde(default = "default_memory_limit")]
    pub memory_limit: Spanned<bytesize::ByteSize>,
}

fn default_memory_limit() -> Spanned<bytesize::ByteSize> {
    spanned(bytesize::ByteSize::mib(512))
}

fn spanned<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}
fn default_grpc() -> Spanned<String> {
    spanned("127.0.0.1:4317".into())
}
fn default_http() -> Spanned<String> {
    spanned("127.0.0.1:4318".into())
}
fn default_admin() -> Spanned<String> {
    spanned("127.0.0.1:9880".into())
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./cairn-data")
}
fn default_max_body() -> Spanned<u64> {
    spanned(16 * 1024 * 1024)
}
fn default_body_timeout() -> Spanned<u64> {
    spanned(30)
}
fn default_drain() -> u64 {
    15
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            grpc_addr: default_grpc(),
            http_addr: default_http(),
            admin_addr: default_admin(),
            data_dir: default_data_dir(),
            allow_unauthenticated: false,
            max_body_bytes: default_max_body(),
            body_timeout_secs: default_body_timeout(),
            drain_timeout_secs: default_drain(),
            memory_limit: default_memory_limit(),
        }
    }
}

/// `[auth]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// The header carrying the token (`authorization` takes `Bearer <token>`).
    pub header: Option<Spanned<String>>,
    /// Accepted tokens.
    #[serde(default)]
    pub tokens: Vec<Spanned<TokenSection>>,
}

/// One `[[auth.tokens]]` entry: exactly one of `token`, `token_env`, `token_file`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSection {
    /// The token inline (discouraged: prefer env or file).
    pub token: Option<String>,
    /// An environment variable holding the token.
    pub token_env: Option<String>,
    /// A file holding the token (trailing whitespace trimmed).
    pub token_file: Option<PathBuf>,
    /// A tenant label added to every record this token brings.
    pub tenant: Option<String>,
}

/// `[tls]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// PEM certificate chain.
    pub cert: Spanned<PathBuf>,
    /// PEM private key.
    pub key: Spanned<PathBuf>,
    /// PEM CA bundle for client certificates (mutual TLS).
    pub client_ca: Option<Spanned<PathBuf>>,
}

/// `[queue]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSection {
    /// Batches that may wait for the writer before receivers push back.
    #[serde(default = "default_queue")]
    pub batches: usize,
}

fn default_queue() -> usize {
    1024
}

impl Default for QueueSection {
    fn default() -> Self {
        QueueSection {
            batches: default_queue(),
        }
    }
}

/// `[records]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsSection {
    /// Write `<data_dir>/records/*.jsonl`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Roll files past this size.
    #[serde(default = "default_file_bytes")]
    pub max_file_bytes: u64,
}

fn yes() -> bool {
    true
}
fn default_file_bytes() -> u64 {
    256 * 1024 * 1024
}

impl Default for RecordsSection {
    fn default() -> Self {
        RecordsSection {
            enabled: true,
            max_file_bytes: default_file_bytes(),
        }
    }
}

/// `[log]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// A tracing filter (`info`, `cairn=debug,info`); `RUST_LOG` overrides it.
    #[serde(default = "default_level")]
    pub level: String,
    /// `text` or `json`.
    #[serde(default)]
    pub format: LogFormat,
}

fn default_level() -> String {
    "info".into()
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            level: default_level(),
            format: LogFormat::Text,
        }
    }
}

/// cairn's own log format.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// A configuration error naming the file, line and key.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct ConfigError {
    /// The file (or `<embedded default>`).
    pub file: String,
    /// 1-based line; 0 when the key was not in the file (a default or a flag).
    pub line: usize,
    /// The dotted key.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// A configuration's text and where it came from.
#[derive(Clone, Debug)]
pub struct Source {
    /// Display name of the file.
    pub name: String,
    /// The TOML text.
    pub text: String,
}

impl Source {
    /// The embedded default.
    pub fn embedded() -> Source {
        Source {
            name: "<embedded default>".into(),
            text: DEFAULT_TOML.into(),
        }
    }

    /// Reads a file.
    pub fn read(path: &Path) -> Result<Source, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: 0,
            key: "-".into(),
            message: format!("cannot read: {e}"),
        })?;
        Ok(Source {
            name: path.display().to_string(),
            text,
        })
    }

    /// The 1-based line of a byte offset (0 for an empty span: not in the file).
    pub fn line_of(&self, span: std::ops::Range<usize>) -> usize {
        if span.is_empty() && span.start == 0 {
            return 0;
        }
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// An error at `span` for `key`.
    pub fn error(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            file: self.name.clone(),
            line: self.line_of(span),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Parses the text strictly.
    pub fn parse(&self) -> Result<ConfigFile, ConfigError> {
        toml::from_str::<ConfigFile>(&self.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let line = if e.span().is_some() {
                self.line_of(span.clone())
            } else {
                0
            };
            let key = key_at(&self.text, span.start).unwrap_or_else(|| "-".into());
            ConfigError {
                file: self.name.clone(),
                line,
                key,
                message: e.message().trim().to_owned(),
            }
        })
    }
}

/// Best-effort dotted key at a byte offset: the nearest `[table]` header above
/// it and the `key =` on its line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text.get(line_start..)?.lines().next().unwrap_or("");
    let key = line
        .split('=')
        .next()
        .map(str::trim)
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let table = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').to_owned());
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, Some(k)) => Some(k.to_owned()),
        (Some(t), None) => Some(t),
        (None, None) => None,
    }
}
