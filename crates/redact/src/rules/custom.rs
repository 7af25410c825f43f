//! User rules from configuration. A rule with keywords runs its regex only in a window around
//! each keyword hit (keywords are found in one case-insensitive Aho-Corasick pass shared by all
//! custom rules, and overlapping windows are coalesced so no byte is searched twice by the same
//! rule). A rule without keywords runs over the whole value: allowed for user rules only.

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

use crate::config::BuildError;
use crate::kind::Kind;
use crate::rules::Sink;

/// Bytes searched on each side of a keyword hit.
pub(crate) const WINDOW: usize = 256;

pub(crate) struct CustomRule {
    pub kind: Kind,
    re: Regex,
    windowed: bool,
}

/// All compiled custom rules.
pub(crate) struct CustomRules {
    rules: Vec<CustomRule>,
    keywords: Option<AhoCorasick>,
    /// Keyword pattern id → rule index.
    owner: Vec<usize>,
}

impl CustomRules {
    /// Compiles the configured rules, each with the kind allocated for it.
    pub(crate) fn compile(
        specs: &[(Kind, &crate::config::CustomRule)],
    ) -> Result<CustomRules, BuildError> {
        let mut rules = Vec::with_capacity(specs.len());
        let mut patterns: Vec<String> = Vec::new();
        let mut owner = Vec::new();
        for (i, (kind, spec)) in specs.iter().enumerate() {
            let re = regex::RegexBuilder::new(&spec.regex)
                .size_limit(1 << 20)
                .build()
                .map_err(|source| BuildError::InvalidRegex {
                    kind: spec.kind.clone(),
                    source,
                })?;
            let keywords = &spec.keywords;
            for k in keywords {
                if k.is_empty() {
                    return Err(BuildError::EmptyKeyword {
                        kind: spec.kind.clone(),
                    });
                }
                patterns.push(k.clone());
                owner.push(i);
            }
            rules.push(CustomRule {
                kind: *kind,
                re,
                windowed: !keywords.is_empty(),
            });
        }
        let keywords = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .map_err(BuildError::Automaton)?,
            )
        };
        Ok(CustomRules {
            rules,
            keywords,
            owner,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Runs every custom rule over `text`.
    pub(crate) fn scan(&self, text: &str, sink: &mut Sink<'_>) {
        if self.rules.is_empty() {
            return;
        }
        for rule in &self.rules {
            if !rule.windowed && sink.wants(rule.kind) {
                find_all(rule, text, 0, sink);
            }
        }
        let Some(ac) = &self.keywords else { return };
        // Pending window per rule, flushed when the next hit no longer overlaps it.
        let mut pending: Vec<Option<(usize, usize)>> = vec![None; self.rules.len()];
        for m in ac.find_overlapping_iter(text) {
            let Some(&ri) = self.owner.get(m.pattern().as_usize()) else {
                continue;
            };
            let Some(rule) = self.rules.get(ri) else {
                continue;
            };
            if !sink.wants(rule.kind) {
                continue;
            }
            let w = (
                m.start().saturating_sub(WINDOW),
                (m.end() + WINDOW).min(text.len()),
            );
            let slot = &mut pending[ri];
            match *slot {
                Some((s, e)) if w.0 <= e => *slot = Some((s, e.max(w.1))),
                Some((s, e)) => {
                    run_window(rule, text, s, e, sink);
                    *slot = Some(w);
                }
                None => *slot = Some(w),
            }
        }
        for (ri, slot) in pending.into_iter().enumerate() {
            if let (Some((s, e)), Some(rule)) = (slot, self.rules.get(ri)) {
                run_window(rule, text, s, e, sink);
            }
        }
    }
}

fn run_window(rule: &CustomRule, text: &str, mut s: usize, mut e: usize, sink: &mut Sink<'_>) {
    while s > 0 && !text.is_char_boundary(s) {
        s -= 1;
    }
    while e < text.len() && !text.is_char_boundary(e) {
        e += 1;
    }
    if let Some(w) = text.get(s..e) {
        find_all(rule, w, s, sink);
    }
}

fn find_all(rule: &CustomRule, hay: &str, offset: usize, sink: &mut Sink<'_>) {
    for m in rule.re.find_iter(hay) {
        if m.start() < m.end() {
            sink.push(offset + m.start(), offset + m.end(), rule.kind);
        }
    }
}
