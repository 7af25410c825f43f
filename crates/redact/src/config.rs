//! Configuration: which built-in kinds are on, the user's own rules, the scan limit, and the
//! build errors raised while compiling them (kept apart from scan outcomes: a bad config is an
//! operator mistake found at startup, an unscannable value is data seen at runtime).

use serde::{Deserialize, Serialize};

use crate::Redactor;

/// Default scan limit: values longer than this are dropped, not scanned.
pub const DEFAULT_MAX_SCAN_BYTES: usize = 1024 * 1024;

/// A user rule: `kind` is the label in `[REDACTED:<kind>]` (1–64 bytes of `[a-z0-9_]`; the
/// name of a built-in kind adds a pattern to that kind). With `keywords`, the regex is only
/// tried within 256 bytes of a keyword (matched ASCII case-insensitively); without, it runs over
/// the whole value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CustomRule {
    /// Kind name reported for matches.
    pub kind: String,
    /// Regex (Rust `regex` syntax) whose whole match is redacted.
    pub regex: String,
    /// Optional keywords gating where the regex runs.
    pub keywords: Vec<String>,
}

/// Everything needed to build a [`Redactor`]. Deserializable so it can live in cairn's config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactorConfig {
    /// Kinds (built-in or custom names) that are never reported. Empty by default; `ipv4` is
    /// the usual candidate (addresses are optional in the vocabulary).
    pub disabled_kinds: Vec<String>,
    /// User rules.
    pub custom_rules: Vec<CustomRule>,
    /// Values longer than this many bytes are not scanned; callers get
    /// [`crate::Outcome::Unscannable`] and must drop them.
    pub max_scan_bytes: usize,
}

impl Default for RedactorConfig {
    fn default() -> Self {
        RedactorConfig {
            disabled_kinds: Vec::new(),
            custom_rules: Vec::new(),
            max_scan_bytes: DEFAULT_MAX_SCAN_BYTES,
        }
    }
}

impl RedactorConfig {
    /// Compiles the rules into an immutable, shareable [`Redactor`].
    pub fn build(&self) -> Result<Redactor, BuildError> {
        Redactor::from_config(self)
    }
}

/// Fluent construction of a [`Redactor`].
#[derive(Clone, Debug, Default)]
pub struct RedactorBuilder {
    config: RedactorConfig,
}

impl RedactorBuilder {
    /// Starts from [`RedactorConfig::default`].
    pub fn new() -> RedactorBuilder {
        RedactorBuilder::default()
    }

    /// Turns a kind off.
    pub fn disable_kind(mut self, kind: impl Into<String>) -> Self {
        let kind = kind.into();
        if !self.config.disabled_kinds.contains(&kind) {
            self.config.disabled_kinds.push(kind);
        }
        self
    }

    /// Turns a kind back on.
    pub fn enable_kind(mut self, kind: &str) -> Self {
        self.config.disabled_kinds.retain(|k| k != kind);
        self
    }

    /// Adds a user rule.
    pub fn custom_rule(mut self, rule: CustomRule) -> Self {
        self.config.custom_rules.push(rule);
        self
    }

    /// Sets the scan limit in bytes.
    pub fn max_scan_bytes(mut self, limit: usize) -> Self {
        self.config.max_scan_bytes = limit;
        self
    }

    /// Compiles the rules.
    pub fn build(self) -> Result<Redactor, BuildError> {
        self.config.build()
    }
}

/// Why a [`Redactor`] (or a [`crate::Pseudonymizer`]) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A custom rule's regex does not compile (or is too large).
    #[error("custom rule {kind:?}: invalid regex: {source}")]
    InvalidRegex {
        /// The rule's kind name.
        kind: String,
        /// The regex compiler's error.
        #[source]
        source: regex::Error,
    },
    /// A kind name is empty, too long, or uses bytes other than `[a-z0-9_]`.
    #[error("invalid kind name {0:?}: use 1-64 bytes of [a-z0-9_]")]
    InvalidKindName(String),
    /// `disabled_kinds` names a kind that neither the vocabulary nor a custom rule defines.
    #[error("unknown kind {0:?} in disabled_kinds")]
    UnknownKind(String),
    /// A custom rule lists an empty keyword.
    #[error("custom rule {kind:?}: empty keyword")]
    EmptyKeyword {
        /// The rule's kind name.
        kind: String,
    },
    /// More distinct custom kinds than a [`crate::KindSet`] can hold.
    #[error("too many custom kinds (at most {max})")]
    TooManyKinds {
        /// The limit.
        max: usize,
    },
    /// `max_scan_bytes` is zero.
    #[error("max_scan_bytes must be greater than zero")]
    ZeroScanLimit,
    /// A pseudonymization key shorter than the minimum.
    #[error("pseudonymization key must be at least {min} bytes")]
    ShortKey {
        /// The minimum length.
        min: usize,
    },
    /// The keyword automaton could not be built.
    #[error("keyword automaton: {0}")]
    Automaton(#[source] aho_corasick::BuildError),
    /// A built-in rule failed to compile (a bug in this crate).
    #[error("built-in rule: {0}")]
    BuiltinRule(#[source] regex::Error),
}

/// True for names usable in `[REDACTED:<kind>]`: no quotes, backslashes or brackets can end up
/// in the replacement, which keeps redacted JSON valid.
pub(crate) fn valid_kind_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
