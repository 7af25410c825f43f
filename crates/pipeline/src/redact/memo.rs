//! What the stage already decided within one request, so each distinct short
//! value is scanned (or pseudonymized) once per request, not once per record.
//!
//! Telemetry repeats itself: every record of a Claude Code export carries the
//! same session, user, account and organisation ids, the terminal, and a
//! handful of model, tool and decision names. Redaction and pseudonymization
//! are pure functions of the value (and, for hashing, of which rule applies),
//! so a value's verdict can be reused for its next occurrence: the stage
//! counts and tags a reused finding exactly as a fresh one.
//!
//! Bounded: only values of at most [`MAX_VALUE`] bytes are remembered, and at
//! most [`MAX_REMEMBERED`] bytes of them per request. The memo lives for one
//! request and is dropped with it.

use cairn_redact::Outcome;
use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The longest value remembered. Longer values (prompts, tool parameters,
/// API bodies) rarely repeat and are scanned at full speed anyway.
pub(super) const MAX_VALUE: usize = 128;

/// The most bytes of values one request's memo keeps.
pub(super) const MAX_REMEMBERED: usize = 64 << 10;

/// Which function produced a verdict: the same text may be scanned in one
/// place and hashed in another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rule {
    /// The redaction scan.
    Scan = 0,
    /// The e-mail pseudonym (normalised first).
    Email = 1,
    /// The plain pseudonym.
    Pseudonym = 2,
}

/// What the rule made of a value.
#[derive(Debug)]
pub(super) enum Verdict {
    /// Scanned, nothing found: the value stays as it is.
    Clean,
    /// Scanned and changed (or unscannable): the outcome to count and write.
    Changed(Outcome<'static>),
    /// Pseudonymized: the text that replaces the value.
    Replaced(String),
}

struct Entry {
    hash: u64,
    start: u32,
    len: u32,
    rule: Rule,
    verdict: Verdict,
}

/// One request's remembered verdicts.
#[derive(Default)]
pub(super) struct Memo {
    table: HashTable<Entry>,
    /// The remembered values, back to back; entries point into it.
    seen: Vec<u8>,
}

/// Where a value would sit in the memo: its hash, when it is short enough.
#[derive(Clone, Copy)]
pub(super) struct Key(Option<u64>);

impl Key {
    /// Whether a value with this key can be remembered at all (it is short
    /// enough): callers skip building a verdict to keep when it cannot.
    pub(super) fn rememberable(self) -> bool {
        self.0.is_some()
    }
}

impl Memo {
    /// The key of `value` under `rule` (none for values too long to remember).
    pub(super) fn key(rule: Rule, value: &str) -> Key {
        Key((value.len() <= MAX_VALUE).then(|| xxh3_64_with_seed(value.as_bytes(), rule as u64)))
    }

    /// The verdict remembered for `value` under `rule`, if any.
    pub(super) fn get(&self, key: Key, rule: Rule, value: &str) -> Option<&Verdict> {
        let hash = key.0?;
        let seen = &self.seen;
        self.table
            .find(hash, |e| {
                e.hash == hash && e.rule == rule && slice(seen, e) == Some(value.as_bytes())
            })
            .map(|e| &e.verdict)
    }

    /// Remembers `verdict` for `value` under `rule`, while there is room.
    pub(super) fn remember(&mut self, key: Key, rule: Rule, value: &str, verdict: Verdict) {
        let Some(hash) = key.0 else {
            return;
        };
        if self.seen.len() + value.len() > MAX_REMEMBERED {
            return;
        }
        let (Ok(start), Ok(len)) = (u32::try_from(self.seen.len()), u32::try_from(value.len()))
        else {
            return;
        };
        self.seen.extend_from_slice(value.as_bytes());
        self.table.insert_unique(
            hash,
            Entry {
                hash,
                start,
                len,
                rule,
                verdict,
            },
            |e| e.hash,
        );
    }

    /// How many verdicts are remembered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

fn slice<'s>(seen: &'s [u8], e: &Entry) -> Option<&'s [u8]> {
    let start = usize::try_from(e.start).ok()?;
    let len = usize::try_from(e.len).ok()?;
    seen.get(start..start.checked_add(len)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_verdict_is_found_only_for_its_value_and_rule() {
        let mut m = Memo::default();
        let k = Memo::key(Rule::Scan, "abc");
        m.remember(k, Rule::Scan, "abc", Verdict::Clean);
        assert!(matches!(m.get(k, Rule::Scan, "abc"), Some(Verdict::Clean)));
        // Same text, other rule: not found (its key differs, and so would the rule check).
        assert!(
            m.get(Memo::key(Rule::Email, "abc"), Rule::Email, "abc")
                .is_none()
        );
        assert!(m.get(k, Rule::Email, "abc").is_none());
        // A colliding hash with other text is not taken for it.
        assert!(m.get(k, Rule::Scan, "abd").is_none());
    }

    #[test]
    fn long_values_are_not_remembered() {
        let mut m = Memo::default();
        let long = "x".repeat(MAX_VALUE + 1);
        let k = Memo::key(Rule::Scan, &long);
        m.remember(k, Rule::Scan, &long, Verdict::Clean);
        assert_eq!(m.len(), 0);
        assert!(m.get(k, Rule::Scan, &long).is_none());
        let edge = "x".repeat(MAX_VALUE);
        let k = Memo::key(Rule::Scan, &edge);
        m.remember(k, Rule::Scan, &edge, Verdict::Clean);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn the_memo_stops_growing_at_its_bound() {
        let mut m = Memo::default();
        let mut stored = 0;
        for i in 0..(MAX_REMEMBERED / 16 + 100) {
            let v = format!("value-{i:010}");
            let k = Memo::key(Rule::Scan, &v);
            m.remember(k, Rule::Scan, &v, Verdict::Clean);
            if m.get(k, Rule::Scan, &v).is_some() {
                stored += v.len();
            }
        }
        assert!(stored <= MAX_REMEMBERED);
        assert!(
            stored > MAX_REMEMBERED - 16,
            "filled up to the bound: {stored}"
        );
        assert!(m.seen.len() <= MAX_REMEMBERED);
    }
}
