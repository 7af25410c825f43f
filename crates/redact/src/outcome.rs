//! What a scan returns. A scanned value comes back as [`Redacted`] (borrowing the input when
//! nothing was found); a value that could not be scanned comes back as
//! [`Outcome::Unscannable`], whose only safe text is [`UNSCANNABLE_REPLACEMENT`]. There is no way
//! to get the original text back out of an unscannable outcome: that is the fail-closed rule.

use std::borrow::Cow;
use std::fmt;

use crate::kind::{Kind, KindSet};

/// Replacement for values that could not be scanned.
pub const UNSCANNABLE_REPLACEMENT: &str = "[DROPPED:unscannable]";

/// One redacted region: byte offsets into the original text (half-open) and its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Finding {
    /// First byte of the region.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The most specific kind among the overlapping detections merged into this region.
    pub kind: Kind,
}

/// Why a value was not scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unscannable {
    /// The value is longer than the configured scan limit.
    #[error("value of {len} bytes exceeds the scan limit of {limit} bytes")]
    TooLarge {
        /// Length of the value.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The bytes are not valid UTF-8.
    #[error("value is not valid UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// The engine hit an internal error; the value must be dropped.
    #[error("internal redaction error")]
    Internal,
}

/// A scanned value.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted<'a> {
    /// The value with every finding replaced; borrowed when nothing was found.
    pub text: Cow<'a, str>,
    /// Kinds found (never their content): for tagging records and counting.
    pub kinds: KindSet,
    /// Replaced regions, sorted, non-overlapping, as offsets into the original text.
    pub findings: Vec<Finding>,
}

impl Redacted<'_> {
    /// True when nothing was found (and `text` borrows the input).
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

// Debug shows kinds and spans only: the text may be an unredacted original on the clean path,
// but a Debug impl must never become the place where a secret leaks into logs.
impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redacted")
            .field("len", &self.text.len())
            .field("kinds", &self.kinds)
            .field("findings", &self.findings)
            .finish()
    }
}

/// Result of [`crate::Redactor::redact`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The value was scanned; `text` is safe to store.
    Scanned(Redacted<'a>),
    /// The value was not scanned and must be dropped or replaced by
    /// [`UNSCANNABLE_REPLACEMENT`].
    Unscannable(Unscannable),
}

impl<'a> Outcome<'a> {
    /// The text safe to store: the redacted value, or [`UNSCANNABLE_REPLACEMENT`].
    pub fn text(&self) -> &str {
        match self {
            Outcome::Scanned(r) => &r.text,
            Outcome::Unscannable(_) => UNSCANNABLE_REPLACEMENT,
        }
    }

    /// The same outcome, owning its text (to keep it beyond the input).
    pub fn into_owned(self) -> Outcome<'static> {
        match self {
            Outcome::Scanned(r) => Outcome::Scanned(Redacted {
                text: Cow::Owned(r.text.into_owned()),
                kinds: r.kinds,
                findings: r.findings,
            }),
            Outcome::Unscannable(u) => Outcome::Unscannable(u),
        }
    }

    /// Owned-or-borrowed form of [`Outcome::text`].
    pub fn into_text(self) -> Cow<'a, str> {
        match self {
            Outcome::Scanned(r) => r.text,
            Outcome::Unscannable(_) => Cow::Borrowed(UNSCANNABLE_REPLACEMENT),
        }
    }

    /// Kinds found; empty when unscannable.
    pub fn kinds(&self) -> KindSet {
        match self {
            Outcome::Scanned(r) => r.kinds,
            Outcome::Unscannable(_) => KindSet::new(),
        }
    }

    /// Findings; empty when unscannable.
    pub fn findings(&self) -> &[Finding] {
        match self {
            Outcome::Scanned(r) => &r.findings,
            Outcome::Unscannable(_) => &[],
        }
    }

    /// True when the value was scanned and nothing was found.
    pub fn is_clean(&self) -> bool {
        matches!(self, Outcome::Scanned(r) if r.is_clean())
    }

    /// True when the value was modified or dropped (the record should be tagged
    /// `cairn.redacted`).
    pub fn is_modified(&self) -> bool {
        !self.is_clean()
    }

    /// The reason, when unscannable.
    pub fn unscannable(&self) -> Option<Unscannable> {
        match self {
            Outcome::Scanned(_) => None,
            Outcome::Unscannable(u) => Some(*u),
        }
    }
}
