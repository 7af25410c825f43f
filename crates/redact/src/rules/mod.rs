//! Detection rules, one module per family. Every rule reports raw findings into a [`Sink`];
//! merging and replacement happen later in [`crate::replace`].
//!
//! * [`vendor`]: literal-prefix vendor formats and JWTs
//! * [`pem`]: PEM private-key blocks and GCP service-account keys
//! * [`url`]: passwords in `scheme://user:pass@host` and Slack webhook URLs
//! * [`keyword`]: values assigned to credential-like names (`DB_PASSWORD=…`, `"api_key": "…"`)
//! * [`bearer`]: `Bearer` tokens and `-p` password flags
//! * [`bare`]: high-entropy tokens with no name around them
//! * [`password`]: stand-alone passwords
//! * [`digits`]: the digit-run scan feeding [`pii`] and short passwords
//! * [`pii`]: card numbers, SSNs, phone numbers and IPv4 from digit runs; [`iban`]: IBANs
//! * [`email`]: everything around an `@` (e-mail addresses, URL passwords)
//! * [`custom`]: user-supplied regex rules

pub(crate) mod bare;
pub(crate) mod bearer;
pub(crate) mod custom;
pub(crate) mod digits;
pub(crate) mod email;
pub(crate) mod iban;
pub(crate) mod keyword;
pub(crate) mod password;
pub(crate) mod pem;
pub(crate) mod pii;
pub(crate) mod url;
pub(crate) mod vendor;

use crate::kind::{Kind, KindSet};

/// A finding before merging: byte span into the scanned text and its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Raw {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// Collects raw findings for one scan and the regions that must not be reported by the
/// high-entropy rule (public keys, certificates).
pub(crate) struct Sink<'h> {
    pub hay: &'h [u8],
    findings: Vec<Raw>,
    suppressed: Vec<(usize, usize)>,
    disabled: KindSet,
    /// Span of the last credential name handled by the keyword rule: a name holding several
    /// keywords (`SECRET_KEY`, `AUTH_TOKEN`) is evaluated once.
    pub last_name: (usize, usize),
    /// End of the last PEM block, so one block is parsed once.
    pub pem_end: usize,
    /// Number of leading findings sorted by [`Sink::index_for_lookup`].
    indexed: usize,
    /// Union of the indexed findings' spans: sorted, disjoint, for [`Sink::byte_seen`].
    covered: Vec<(usize, usize)>,
}

impl<'h> Sink<'h> {
    pub(crate) fn new(hay: &'h [u8], disabled: KindSet) -> Sink<'h> {
        Sink {
            hay,
            findings: Vec::new(),
            suppressed: Vec::new(),
            disabled,
            last_name: (0, 0),
            pem_end: 0,
            indexed: 0,
            covered: Vec::new(),
        }
    }

    /// Records a finding unless its kind is disabled or the span is empty.
    pub(crate) fn push(&mut self, start: usize, end: usize, kind: Kind) {
        if start < end && end <= self.hay.len() && !self.disabled.contains(kind) {
            self.findings.push(Raw { start, end, kind });
        }
    }

    /// True when `kind` will be kept; lets rules skip work for disabled kinds.
    pub(crate) fn wants(&self, kind: Kind) -> bool {
        !self.disabled.contains(kind)
    }

    /// Marks a region (public key material) that the high-entropy rule must ignore.
    pub(crate) fn suppress(&mut self, start: usize, end: usize) {
        self.suppressed.push((start, end));
    }

    /// True when `[start, end)` lies inside a suppressed region.
    pub(crate) fn is_suppressed(&self, start: usize, end: usize) -> bool {
        self.suppressed.iter().any(|&(s, e)| start >= s && end <= e)
    }

    /// Sorts the findings so far, for [`Sink::is_covered`] lookups by later byte-scan rules.
    pub(crate) fn index_for_lookup(&mut self) {
        self.findings.sort_unstable_by_key(|f| (f.start, f.end));
        self.indexed = self.findings.len();
        self.covered.clear();
        for f in &self.findings {
            match self.covered.last_mut() {
                Some(last) if f.start <= last.1 => last.1 = last.1.max(f.end),
                _ => self.covered.push((f.start, f.end)),
            }
        }
    }

    /// True when `[start, end)` is already covered by one finding recorded before the last
    /// [`Sink::index_for_lookup`].
    pub(crate) fn is_covered(&self, start: usize, end: usize) -> bool {
        let idx = self.findings.get(..self.indexed).unwrap_or_default();
        let k = idx.partition_point(|f| f.start <= start);
        idx[..k].iter().rev().take(8).any(|f| f.end >= end)
    }

    /// The earliest-starting indexed finding that overlaps `[start, end)`, as `(start, end)`.
    pub(crate) fn first_overlap(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let idx = self.findings.get(..self.indexed).unwrap_or_default();
        let hi = idx.partition_point(|f| f.start < end);
        let lo = idx.partition_point(|f| f.start < start).saturating_sub(8);
        idx.get(lo..hi)?
            .iter()
            .filter(|f| f.end > start)
            .map(|f| (f.start, f.end))
            .min()
    }

    /// The byte at `k` as later rules must see it: a space when it lies inside a finding
    /// recorded before the last [`Sink::index_for_lookup`] (its marker will be a boundary),
    /// else the byte itself; a space outside the text.
    pub(crate) fn byte_seen(&self, k: usize) -> u8 {
        let Some(&b) = self.hay.get(k) else {
            return b' ';
        };
        if self.covered.is_empty() {
            return b;
        }
        let n = self.covered.partition_point(|c| c.0 <= k);
        match n.checked_sub(1).and_then(|i| self.covered.get(i)) {
            Some(&(_, e)) if k < e => b' ',
            _ => b,
        }
    }

    /// True when no indexed finding overlaps `[from, to)`, i.e. [`Sink::byte_seen`] is the raw
    /// byte everywhere in it. `cursor` is a position in the index that only moves forward:
    /// successive calls with the same cursor must not decrease `from`.
    pub(crate) fn clear_of_findings(&self, from: usize, to: usize, cursor: &mut usize) -> bool {
        while self.covered.get(*cursor).is_some_and(|c| c.1 <= from) {
            *cursor += 1;
        }
        self.covered.get(*cursor).is_none_or(|c| c.0 >= to)
    }

    /// The latest end, in `(lo, hi]`, of an indexed finding that starts before `hi`.
    pub(crate) fn last_end_within(&self, lo: usize, hi: usize) -> Option<usize> {
        let idx = self.findings.get(..self.indexed).unwrap_or_default();
        let k = idx.partition_point(|f| f.start < hi);
        idx[..k]
            .iter()
            .rev()
            .take(16)
            .map(|f| f.end)
            .filter(|&e| e > lo && e <= hi)
            .max()
    }

    #[cfg(test)]
    pub(crate) fn findings(&self) -> &[Raw] {
        &self.findings
    }

    pub(crate) fn into_findings(self) -> Vec<Raw> {
        self.findings
    }
}
