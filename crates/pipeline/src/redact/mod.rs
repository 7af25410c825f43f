//! The redaction stage: every string of every request is cleaned on the
//! receive path, before anything is typed, queued, written, exported or
//! logged.
//!
//! Per attribute key, a [`Policy`] chooses an [`Action`]: `scan` (the default
//! for every string), `drop` (remove the attribute), `keep` (pass as sent:
//! for values known to be safe and needed verbatim), or `hash` (a keyed
//! HMAC-SHA256 pseudonym, so `user.email` stays joinable without being
//! readable). Values that cannot be scanned (over the scan limit, bytes that
//! are not UTF-8, an engine error) become `[DROPPED:unscannable]`: nothing
//! unscanned passes. Each record that had something redacted carries
//! `cairn.redacted` with the kinds found; `/metrics` counts by kind and
//! attribute.

mod memo;
mod stats;
mod walk;

use std::sync::Arc;

use cairn_redact::{Pseudonymizer, Redactor};
use serde::Deserialize;

pub(crate) use stats::MAX_LABEL;
pub use stats::RedactionStats;

/// What to do with one attribute's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Scan and replace findings (the default).
    #[default]
    Scan,
    /// Remove the attribute.
    Drop,
    /// Keep the value as sent, unscanned.
    Keep,
    /// Replace a string with its keyed pseudonym.
    Hash,
}

impl Action {
    /// The label used on `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Scan => "scan",
            Action::Drop => "drop",
            Action::Keep => "keep",
            Action::Hash => "hash",
        }
    }
}

/// Per-attribute actions. Keys not listed are scanned.
///
/// Asked once per attribute of every record, so the common answer (not
/// listed) is cheap: a key whose length no listed key has is answered
/// without hashing, the rest with a fast (non-SipHash) map. Keys come from
/// the config, not from senders, so hash flooding is not a concern.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    actions: hashbrown::HashMap<String, Action>,
    /// Bit `n` set: some listed key is `n` bytes long (bit 63: 63 or more).
    lengths: u64,
}

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

impl Policy {
    /// Builds a policy from `key → action` pairs.
    pub fn new(actions: impl IntoIterator<Item = (String, Action)>) -> Policy {
        let actions: hashbrown::HashMap<String, Action> = actions.into_iter().collect();
        let lengths = actions.keys().fold(0, |m, k| m | length_bit(k.len()));
        Policy { actions, lengths }
    }

    /// The action for a top-level attribute key.
    pub fn action(&self, key: &str) -> Action {
        if self.lengths & length_bit(key.len()) == 0 {
            return Action::Scan;
        }
        self.actions.get(key).copied().unwrap_or_default()
    }

    /// Whether any attribute is hashed (a key is then required).
    pub fn needs_key(&self) -> bool {
        self.actions.values().any(|a| *a == Action::Hash)
    }
}

/// The stage: an immutable redactor, the policy, the pseudonymizer, counters.
pub struct RedactStage {
    redactor: Arc<Redactor>,
    policy: Policy,
    pseudonymizer: Option<Pseudonymizer>,
    stats: RedactionStats,
}

impl std::fmt::Debug for RedactStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedactStage")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Why the stage could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// A policy hashes attributes but no key was given.
    #[error("redaction: an attribute uses action \"hash\" but no hash key is configured")]
    MissingKey,
    /// The key was refused.
    #[error("redaction: {0}")]
    Key(String),
}

impl RedactStage {
    /// Builds the stage. `hash_key` is required when the policy hashes.
    pub fn new(
        redactor: Arc<Redactor>,
        policy: Policy,
        hash_key: Option<&[u8]>,
        stats: RedactionStats,
    ) -> Result<RedactStage, StageError> {
        let pseudonymizer = match hash_key {
            Some(k) => Some(Pseudonymizer::new(k).map_err(|e| StageError::Key(e.to_string()))?),
            None if policy.needs_key() => return Err(StageError::MissingKey),
            None => None,
        };
        Ok(RedactStage {
            redactor,
            policy,
            pseudonymizer,
            stats,
        })
    }

    /// The counters.
    pub fn stats(&self) -> &RedactionStats {
        &self.stats
    }
}

#[cfg(test)]
mod memo_tests;
#[cfg(test)]
mod tests;
