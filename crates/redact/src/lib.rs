//! cairn-redact: strips secrets and personal data from telemetry values before anything is
//! stored. Synchronous and allocation-free on the clean path.
//!
//! ```
//! use cairn_redact::{Kind, RedactorConfig};
//!
//! let redactor = RedactorConfig::default().build()?;
//! let out = redactor.redact("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE");
//! assert_eq!(out.text(), "export AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key_id]");
//! assert!(out.kinds().contains(Kind::AWS_ACCESS_KEY_ID));
//! # Ok::<(), cairn_redact::BuildError>(())
//! ```
//!
//! Modules: [`kind`](crate::Kind) (vocabulary), `config` (configuration and build errors),
//! `scan` (the engine), `rules/*` (one module per detector family), `validate` (checksums and
//! heuristics), `text` / `json` (byte classes and JSON-escape awareness), `replace` (merging
//! and rewriting), `outcome` (results), `jsonl` (batch mode), `pseudo` (keyed pseudonyms).
//! See DESIGN.md for the architecture.

mod classes;
mod config;
mod json;
mod jsonl;
mod kind;
mod outcome;
mod pseudo;
mod replace;
mod rules;
mod scan;
mod text;
mod validate;

pub use config::{BuildError, CustomRule, DEFAULT_MAX_SCAN_BYTES, RedactorBuilder, RedactorConfig};
pub use jsonl::{JsonlOptions, Stats, redact_jsonl, redact_jsonl_with};
pub use kind::{Kind, KindSet};
pub use outcome::{Finding, Outcome, Redacted, UNSCANNABLE_REPLACEMENT, Unscannable};
pub use pseudo::{PSEUDONYM_PREFIX, Pseudonymizer};
pub use scan::Redactor;
