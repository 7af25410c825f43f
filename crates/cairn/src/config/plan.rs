//! Validation: a parsed file plus command-line overrides become a [`Plan`],
//! the checked description of what `cairn run` will start.
//!
//! Checks that need the deployment machine (token env vars and files, TLS
//! files) happen in [`Plan::resolve_tokens`] and at TLS load, so
//! `cairn validate` can check a production config on a laptop.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use cairn_otlp::{auth::TokenEntry, body::Limits, serve::ConnLimits, tls::TlsFiles};
use cairn_pipeline::{
    correlate::CorrelatorConfig,
    enrich::EnrichConfig,
    redact::{Action, Policy},
    runner::PipelineConfig,
};
use toml::Spanned;

use super::{ConfigError, LogSection, Source, TokenSection};

/// The archive's settings.
#[derive(Clone, Debug)]
pub struct ArchivePlan {
    /// Rotation, retention and checkpoints.
    pub config: cairn_store::archive::ArchiveConfig,
    /// The signing key file; `None`: `<data_dir>/archive.key`.
    pub key_file: Option<PathBuf>,
}

/// Values given on the command line, which win over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--grpc-addr`
    pub grpc_addr: Option<String>,
    /// `--http-addr`
    pub http_addr: Option<String>,
    /// `--admin-addr`
    pub admin_addr: Option<String>,
    /// `--data-dir`
    pub data_dir: Option<PathBuf>,
}

/// Where a token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// Inline in the file.
    Inline(String),
    /// An environment variable.
    Env(String),
    /// A file.
    File(PathBuf),
}

/// A token to resolve at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenPlan {
    /// Where it comes from.
    pub source: TokenSource,
    /// Its tenant label.
    pub tenant: Option<String>,
}

/// Where the HMAC key for `hash` comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashKeySource {
    /// An environment variable.
    Env(String),
    /// A file.
    File(PathBuf),
    /// Generated on first start and kept in `<data_dir>/hash.key`.
    DataDir,
}

/// The checked redaction settings.
#[derive(Clone, Debug)]
pub struct RedactionPlan {
    /// Engine configuration (already proven to build).
    pub engine: cairn_redact::RedactorConfig,
    /// Per-attribute actions.
    pub policy: cairn_pipeline::redact::Policy,
    /// The key, when the policy hashes.
    pub hash_key: Option<HashKeySource>,
}

/// The checked configuration.
#[derive(Clone, Debug)]
pub struct Plan {
    /// OTLP/gRPC address.
    pub grpc_addr: SocketAddr,
    /// OTLP/HTTP address.
    pub http_addr: SocketAddr,
    /// Admin address.
    pub admin_addr: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Header carrying the token.
    pub auth_header: http::HeaderName,
    /// Tokens (empty: no auth).
    pub tokens: Vec<TokenPlan>,
    /// TLS for both OTLP listeners.
    pub tls: Option<TlsFiles>,
    /// Body limits.
    pub limits: Limits,
    /// Connection deadlines.
    pub conn: ConnLimits,
    /// Queue settings.
    pub queue: PipelineConfig,
    /// Records file roll size, when the records output is on.
    pub records_max_file_bytes: Option<u64>,
    /// Log settings.
    pub log: LogSection,
    /// Redaction.
    pub redaction: RedactionPlan,
    /// The correlator, when chains are on.
    pub chains: Option<CorrelatorConfig>,
    /// Cost-center enrichment.
    pub enrichment: EnrichConfig,
    /// The archive, when enabled.
    pub archive: Option<ArchivePlan>,
    /// Bytes the queue and open chains may hold together before receivers
    /// push back.
    pub memory_limit: usize,
    /// The write-ahead log (opened when there is a sink or the archive).
    pub wal: cairn_store::wal::WalConfig,
    /// The sinks, checked (secrets are resolved at start).
    pub sinks: Vec<cairn_sinks::config::SinkConfig>,
    /// How long sinks may keep delivering at shutdown; what they have not
    /// finished by then stays in the WAL for the next start.
    pub sink_drain_timeout: Duration,
    /// Spend counters carry a `user` label.
    pub spend_per_user: bool,
}

fn addr(
    source: &Source,
    key: &str,
    value: &Spanned<String>,
    flag: Option<&String>,
) -> Result<SocketAddr, ConfigError> {
    let (text, span, shown_key) = match flag {
        Some(f) => (
            f.as_str(),
            0..0,
            format!("--{}", key.trim_start_matches("server.").replace('_', "-")),
        ),
        None => (value.get_ref().as_str(), value.span(), key.to_owned()),
    };
    text.parse::<SocketAddr>().map_err(|e| {
        source.error(
            span,
            &shown_key,
            format!("{text:?} is not an address like 127.0.0.1:4317 ({e})"),
        )
    })
}

fn token(
    source: &Source,
    index: usize,
    t: &Spanned<TokenSection>,
) -> Result<TokenPlan, ConfigError> {
    let key = format!("auth.tokens[{index}]");
    let v = t.get_ref();
    let given = [
        v.token.is_some(),
        v.token_env.is_some(),
        v.token_file.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given != 1 {
        return Err(source.error(
            t.span(),
            &key,
            "set exactly one of token, token_env, token_file",
        ));
    }
    let src = if let Some(tok) = &v.token {
        if tok.trim().len() < 16 {
            return Err(source.error(
                t.span(),
                &format!("{key}.token"),
                "a token must be at least 16 characters",
            ));
        }
        TokenSource::Inline(tok.clone())
    } else if let Some(env) = &v.token_env {
        if env.is_empty() {
            return Err(source.error(t.span(), &format!("{key}.token_env"), "empty variable name"));
        }
        TokenSource::Env(env.clone())
    } else {
        TokenSource::File(v.token_file.clone().unwrap_or_default())
    };
    if v.tenant.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(source.error(t.span(), &format!("{key}.tenant"), "empty tenant label"));
    }
    Ok(TokenPlan {
        source: src,
        tenant: v.tenant.clone(),
    })
}

/// Parses and validates a configuration with its overrides.
pub fn plan(source: &Source, overrides: &Overrides) -> Result<Plan, ConfigError> {
    let file = source.parse()?;
    let s = &file.server;
    let grpc_addr = addr(
        source,
        "server.grpc_addr",
        &s.grpc_addr,
        overrides.grpc_addr.as_ref(),
    )?;
    let http_addr = addr(
        source,
        "server.http_addr",
        &s.http_addr,
        overrides.http_addr.as_ref(),
    )?;
    let admin_addr = addr(
        source,
        "server.admin_addr",
        &s.admin_addr,
        overrides.admin_addr.as_ref(),
    )?;

    let tokens = file
        .auth
        .tokens
        .iter()
        .enumerate()
        .map(|(i, t)| token(source, i, t))
        .collect::<Result<Vec<_>, _>>()?;
    let auth_header = match &file.auth.header {
        None => http::header::AUTHORIZATION,
        Some(h) => http::HeaderName::from_bytes(h.get_ref().trim().as_bytes()).map_err(|_| {
            source.error(
                h.span(),
                "auth.header",
                format!("{:?} is not a header name", h.get_ref()),
            )
        })?,
    };

    if tokens.is_empty() && !s.allow_unauthenticated {
        for (key, a, spanned, flag) in [
            (
                "server.grpc_addr",
                grpc_addr,
                &s.grpc_addr,
                &overrides.grpc_addr,
            ),
            (
                "server.http_addr",
                http_addr,
                &s.http_addr,
                &overrides.http_addr,
            ),
        ] {
            if !a.ip().is_loopback() {
                let shown = if flag.is_some() {
                    format!("--{}", key.trim_start_matches("server.").replace('_', "-"))
                } else {
                    key.to_owned()
                };
                let span = if flag.is_some() { 0..0 } else { spanned.span() };
                return Err(source.error(
                    span,
                    &shown,
                    format!(
                        "{a} is not a loopback address and no [[auth.tokens]] are configured; \
                         add tokens or set server.allow_unauthenticated = true"
                    ),
                ));
            }
        }
    }

    let max_body = *s.max_body_bytes.get_ref();
    if !(1024..=1024 * 1024 * 1024).contains(&max_body) {
        return Err(source.error(
            s.max_body_bytes.span(),
            "server.max_body_bytes",
            "must be between 1 KiB and 1 GiB",
        ));
    }
    let body_timeout = *s.body_timeout_secs.get_ref();
    if body_timeout == 0 {
        return Err(source.error(
            s.body_timeout_secs.span(),
            "server.body_timeout_secs",
            "must be at least 1",
        ));
    }
    if file.queue.batches == 0 {
        return Err(source.error(0..0, "queue.batches", "must be at least 1"));
    }
    let memory = usize::try_from(s.memory_limit.get_ref().as_u64()).unwrap_or(usize::MAX);
    if memory < (64 << 20) || (memory as u64) < max_body.saturating_mul(8) {
        return Err(source.error(
            s.memory_limit.span(),
            "server.memory_limit",
            format!(
                "must be at least 64 MiB and 8 times server.max_body_bytes ({})",
                bytesize::ByteSize(max_body.saturating_mul(8).max(64 << 20))
            ),
        ));
    }

    let tls = file.tls.as_ref().map(|t| TlsFiles {
        cert: t.cert.get_ref().clone(),
        key: t.key.get_ref().clone(),
        client_ca: t.client_ca.as_ref().map(|c| c.get_ref().clone()),
    });

    let redaction = redaction(source, &file.redaction)?;
    let enrichment = enrichment(source, file.enrichment.as_ref(), &redaction.policy)?;
    let sinks = sinks(source, &file.sinks)?;
    let archive = archive(source, &file.archive)?;
    let wal = wal(source, &file.wal, max_body)?;

    Ok(Plan {
        redaction,
        grpc_addr,
        http_addr,
        admin_addr,
        data_dir: overrides
            .data_dir
            .clone()
            .unwrap_or_else(|| s.data_dir.clone()),
        auth_header,
        tokens,
        tls,
        limits: Limits {
            max_body_bytes: usize::try_from(max_body).unwrap_or(usize::MAX),
            body_timeout: Duration::from_secs(body_timeout),
        },
        conn: ConnLimits {
            drain_timeout: Duration::from_secs(s.drain_timeout_secs),
            ..ConnLimits::default()
        },
        chains: chains(source, &file.chains)?.map(|mut c| {
            // Open chains share the memory limit with the queue.
            c.max_open_bytes = c.max_open_bytes.min(memory / 4);
            c
        }),
        memory_limit: memory,
        enrichment,
        archive,
        wal,
        sinks,
        sink_drain_timeout: Duration::from_secs(s.drain_timeout_secs.max(1)),
        spend_per_user: file.spend.per_user,
        queue: PipelineConfig {
            queue_batches: file.queue.batches,
            // Typed records take about twice their protobuf size.
            max_queued_bytes: memory / 4,
            raw_chain_events: file.chains.raw_events || !file.chains.enabled,
            ..PipelineConfig::default()
        },
        records_max_file_bytes: file.records.enabled.then_some(file.records.max_file_bytes),
        log: file.log,
    })
}

fn redaction(source: &Source, r: &super::RedactionSection) -> Result<RedactionPlan, ConfigError> {
    use cairn_pipeline::redact::{Action, Policy};
    let mut engine = cairn_redact::RedactorConfig::default();
    if let Some(max) = &r.max_scan_bytes {
        if !(1024..=64 * 1024 * 1024).contains(max.get_ref()) {
            return Err(source.error(
                max.span(),
                "redaction.max_scan_bytes",
                "must be between 1 KiB and 64 MiB",
            ));
        }
        engine.max_scan_bytes = usize::try_from(*max.get_ref()).unwrap_or(usize::MAX);
    }
    engine.disabled_kinds = r
        .disabled_kinds
        .iter()
        .map(|k| k.get_ref().clone())
        .collect();
    engine.custom_rules = r.custom_rules.iter().map(|c| c.get_ref().clone()).collect();
    // Build once now so a bad rule is a config error with its line, not a
    // failure at start.
    if let Err(e) = engine.build() {
        let span = r
            .custom_rules
            .iter()
            .find(|c| e.to_string().contains(&c.get_ref().kind))
            .map(|c| c.span())
            .or_else(|| {
                r.disabled_kinds
                    .iter()
                    .find(|k| e.to_string().contains(k.get_ref()))
                    .map(|k| k.span())
            })
            .unwrap_or(0..0);
        return Err(source.error(span, "redaction", e.to_string()));
    }
    let policy = Policy::new(r.attributes.iter().map(|(k, v)| (k.clone(), *v.get_ref())));
    let hashes = r.attributes.values().any(|a| *a.get_ref() == Action::Hash);
    let hash_key = match (&r.hash_key_env, &r.hash_key_file) {
        (Some(_), Some(_)) => {
            return Err(source.error(
                0..0,
                "redaction.hash_key_env",
                "set hash_key_env or hash_key_file, not both",
            ));
        }
        (Some(env), None) => Some(HashKeySource::Env(env.clone())),
        (None, Some(file)) => Some(HashKeySource::File(file.clone())),
        (None, None) => hashes.then_some(HashKeySource::DataDir),
    };
    Ok(RedactionPlan {
        engine,
        policy,
        hash_key,
    })
}

impl Plan {
    /// Reads (or, for `DataDir`, creates) the HMAC key for `hash`.
    pub fn resolve_hash_key(&self) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(source) = &self.redaction.hash_key else {
            return Ok(None);
        };
        let key = match source {
            HashKeySource::Env(var) => std::env::var(var)
                .map_err(|_| anyhow::anyhow!("hash key variable {var} is not set"))?
                .trim()
                .as_bytes()
                .to_vec(),
            HashKeySource::File(path) => {
                let text = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("hash key file {}: {e}", path.display()))?;
                text.trim_ascii().to_vec()
            }
            HashKeySource::DataDir => {
                let path = self.data_dir.join("hash.key");
                match std::fs::read(&path) {
                    Ok(k) => k,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        std::fs::create_dir_all(&self.data_dir)?;
                        let mut key = vec![0u8; 32];
                        getrandom::fill(&mut key)
                            .map_err(|e| anyhow::anyhow!("generating the hash key: {e}"))?;
                        write_private(&path, &key)?;
                        tracing::info!(path = %path.display(), "generated a new pseudonymization key");
                        key
                    }
                    Err(e) => anyhow::bail!("hash key file {}: {e}", path.display()),
                }
            }
        };
        if key.len() < 16 {
            anyhow::bail!("the hash key must be at least 16 bytes");
        }
        Ok(Some(key))
    }

    /// Reads every token from its source. Fails if a variable is unset or a
    /// file unreadable: cairn never starts with fewer tokens than configured.
    pub fn resolve_tokens(&self) -> anyhow::Result<Vec<TokenEntry>> {
        self.tokens
            .iter()
            .map(|t| {
                let token = match &t.source {
                    TokenSource::Inline(s) => s.clone(),
                    TokenSource::Env(var) => std::env::var(var)
                        .map_err(|_| anyhow::anyhow!("token variable {var} is not set"))?,
                    TokenSource::File(path) => std::fs::read_to_string(path)
                        .map_err(|e| anyhow::anyhow!("token file {}: {e}", path.display()))?,
                };
                let token = token.trim().to_owned();
                if token.len() < 16 {
                    anyhow::bail!(
                        "a token (tenant {:?}) is shorter than 16 characters",
                        t.tenant
                    );
                }
                Ok(TokenEntry {
                    token,
                    tenant: t.tenant.clone(),
                })
            })
            .collect()
    }
}

/// Writes a file readable by its owner only.
fn write_private(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

fn chains(
    source: &Source,
    c: &super::ChainsSection,
) -> Result<Option<CorrelatorConfig>, ConfigError> {
    if !c.enabled {
        return Ok(None);
    }
    if *c.idle_timeout_secs.get_ref() == 0 {
        return Err(source.error(
            c.idle_timeout_secs.span(),
            "chains.idle_timeout_secs",
            "must be at least 1",
        ));
    }
    if *c.max_open.get_ref() == 0 {
        return Err(source.error(c.max_open.span(), "chains.max_open", "must be at least 1"));
    }
    if *c.max_open_bytes.get_ref() < 64 * 1024 {
        return Err(source.error(
            c.max_open_bytes.span(),
            "chains.max_open_bytes",
            "must be at least 65536",
        ));
    }
    Ok(Some(CorrelatorConfig {
        idle_timeout: std::time::Duration::from_secs(*c.idle_timeout_secs.get_ref()),
        max_open_chains: *c.max_open.get_ref(),
        max_open_bytes: *c.max_open_bytes.get_ref(),
        ..CorrelatorConfig::default()
    }))
}

/// Checks the directory can be read and can match what redaction leaves of
/// its key attribute.
fn archive(source: &Source, a: &super::ArchiveSection) -> Result<Option<ArchivePlan>, ConfigError> {
    if !a.enabled {
        return Ok(None);
    }
    let mib = *a.max_segment_mib.get_ref();
    if mib == 0 {
        return Err(source.error(
            a.max_segment_mib.span(),
            "archive.max_segment_mib",
            "must be at least 1",
        ));
    }
    if *a.checkpoint_records.get_ref() == 0 {
        return Err(source.error(
            a.checkpoint_records.span(),
            "archive.checkpoint_records",
            "must be at least 1",
        ));
    }
    let retention = match &a.retention_days {
        Some(d) if *d.get_ref() == 0 => {
            return Err(source.error(
                d.span(),
                "archive.retention_days",
                "must be at least 1 (leave it out to keep everything)",
            ));
        }
        Some(d) => Some(Duration::from_secs(d.get_ref().saturating_mul(86_400))),
        None => None,
    };
    Ok(Some(ArchivePlan {
        config: cairn_store::archive::ArchiveConfig {
            max_segment_bytes: mib.saturating_mul(1024 * 1024),
            max_segment_age: (a.max_segment_age_hours > 0)
                .then(|| Duration::from_secs(a.max_segment_age_hours.saturating_mul(3600))),
            retention,
            checkpoint_records: *a.checkpoint_records.get_ref(),
            checkpoint_interval: Duration::from_secs(a.checkpoint_interval_secs),
        },
        key_file: a.key_file.clone(),
    }))
}

/// The WAL must take the largest body twice over, and hold at least two
/// segments so one can be freed while the next fills.
fn wal(
    source: &Source,
    w: &super::WalSection,
    max_body: u64,
) -> Result<cairn_store::wal::WalConfig, ConfigError> {
    let segment = w.segment.get_ref().as_u64();
    let budget = w.budget.get_ref().as_u64();
    if segment < 64 * 1024 {
        return Err(source.error(w.segment.span(), "wal.segment", "must be at least 64 KiB"));
    }
    if budget < segment.saturating_mul(2) || budget < max_body.saturating_mul(2) {
        return Err(source.error(
            w.budget.span(),
            "wal.budget",
            format!(
                "must be at least twice wal.segment and twice server.max_body_bytes ({})",
                bytesize::ByteSize(segment.max(max_body).saturating_mul(2))
            ),
        ));
    }
    Ok(cairn_store::wal::WalConfig {
        segment_bytes: segment,
        budget_bytes: budget,
        durability: w.durability,
    })
}

fn sinks(
    source: &Source,
    sinks: &[Spanned<cairn_sinks::config::SinkConfig>],
) -> Result<Vec<cairn_sinks::config::SinkConfig>, ConfigError> {
    let mut seen = std::collections::BTreeSet::new();
    for s in sinks {
        let c = s.get_ref();
        if !seen.insert(c.name.as_str()) {
            return Err(source.error(
                s.span(),
                "sinks.name",
                format!("two sinks are named {:?}", c.name),
            ));
        }
        c.check().map_err(|e| source.error(s.span(), "sinks", e))?;
    }
    Ok(sinks.iter().map(|s| s.get_ref().clone()).collect())
}

fn enrichment(
    source: &Source,
    e: Option<&Spanned<EnrichConfig>>,
    policy: &Policy,
) -> Result<EnrichConfig, ConfigError> {
    let Some(e) = e else {
        return Ok(EnrichConfig::default());
    };
    let config = e.get_ref();
    if let Some(path) = &config.directory {
        if !path.is_file() {
            return Err(source.error(
                e.span(),
                "enrichment.directory",
                format!("{} is not a readable file", path.display()),
            ));
        }
        let key = config.directory_key.attribute();
        if policy.action(key) == Action::Drop {
            return Err(source.error(
                e.span(),
                "enrichment.directory_key",
                format!("{key} is dropped by [redaction.attributes], so no record can match"),
            ));
        }
    }
    Ok(config.clone())
}
