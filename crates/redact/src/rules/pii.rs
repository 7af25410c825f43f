//! Numbers found from a byte scan instead of anchors: digit runs (located eight bytes at a
//! time by [`crate::rules::digits`]) are grown into clusters of digit groups and matched against card, SSN, NANP phone and
//! IPv4 shapes, then validated (Luhn + issuer, SSA ranges, NANP rules, octets). IBANs start at
//! two capitals before a digit run ([`crate::rules::iban`]).

use crate::json;
use crate::kind::Kind;
use crate::rules::Sink;
use crate::text::{contains_ci, is_alnum, is_digit, is_name};
use crate::validate;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sep {
    Space,
    Dash,
    Dot,
    /// `) ` or `)` after an area code in parentheses.
    ParenClose,
    /// ` (` or `(` before an area code in parentheses.
    ParenOpen,
}

const MAX_GROUPS: usize = 8;

struct Cluster {
    groups: [(usize, usize); MAX_GROUPS],
    seps: [Sep; MAX_GROUPS],
    n: usize,
}

impl Cluster {
    fn len(&self, k: usize) -> usize {
        self.groups[k].1 - self.groups[k].0
    }
    fn end(&self) -> usize {
        self.groups[self.n - 1].1
    }
}

/// Grows a cluster of digit groups from the run `[d, e)`.
fn cluster(hay: &[u8], d: usize, e: usize) -> Cluster {
    let mut c = Cluster {
        groups: [(0, 0); MAX_GROUPS],
        seps: [Sep::Space; MAX_GROUPS],
        n: 1,
    };
    c.groups[0] = (d, e);
    let digit_at = |k: usize| hay.get(k).is_some_and(|&b| is_digit(b));
    let mut pos = e;
    while c.n < MAX_GROUPS {
        let (sep, skip) = match hay.get(pos) {
            Some(b' ') if hay.get(pos + 1) == Some(&b'(') && digit_at(pos + 2) => {
                (Sep::ParenOpen, 2)
            }
            Some(b'(') if digit_at(pos + 1) => (Sep::ParenOpen, 1),
            Some(b')') if hay.get(pos + 1) == Some(&b' ') && digit_at(pos + 2) => {
                (Sep::ParenClose, 2)
            }
            Some(b')') if digit_at(pos + 1) => (Sep::ParenClose, 1),
            Some(b' ') if digit_at(pos + 1) => (Sep::Space, 1),
            Some(b'-') if digit_at(pos + 1) => (Sep::Dash, 1),
            Some(b'.') if digit_at(pos + 1) => (Sep::Dot, 1),
            _ => break,
        };
        let s = pos + skip;
        let mut t = s;
        while t < hay.len() && is_digit(hay[t]) {
            t += 1;
        }
        c.seps[c.n - 1] = sep;
        c.groups[c.n] = (s, t);
        c.n += 1;
        pos = t;
    }
    c
}

/// End, group count and digit count of the cluster starting with the run `[d, e)`, without
/// recording it: most clusters (dates, versions) are rejected on these numbers alone.
fn cluster_size(hay: &[u8], d: usize, e: usize) -> (usize, usize, usize) {
    let digit_at = |k: usize| hay.get(k).is_some_and(|&b| is_digit(b));
    let (mut pos, mut groups, mut digits) = (e, 1, e - d);
    while groups < MAX_GROUPS {
        let skip = match hay.get(pos) {
            Some(b' ') if hay.get(pos + 1) == Some(&b'(') && digit_at(pos + 2) => 2,
            Some(b')') if hay.get(pos + 1) == Some(&b' ') && digit_at(pos + 2) => 2,
            Some(b' ' | b'-' | b'.' | b'(' | b')') if digit_at(pos + 1) => 1,
            _ => break,
        };
        let s = pos + skip;
        let mut t = s;
        while t < hay.len() && is_digit(hay[t]) {
            t += 1;
        }
        groups += 1;
        digits += t - s;
        pos = t;
    }
    (pos, groups, digits)
}

/// Handles the digit run `[d, e)` (not glued to a word): grows it into a cluster and reports
/// the card, SSN, phone and IPv4 shapes in it. Returns the end of what it looked at.
pub(crate) fn handle_run(sink: &mut Sink<'_>, d: usize, e: usize) -> usize {
    let hay = sink.hay;
    // Where the cluster really starts: an opening parenthesis or a `+` of `+1`.
    let lead = match d.checked_sub(1).and_then(|k| hay.get(k)) {
        Some(b'(' | b'+') => 1,
        _ => 0,
    };
    let s = d - lead;
    // Glued to a word (`INV0012`, `f3626358-466f`): not a cluster start. Groups after a space
    // start clusters of their own when their run comes up.
    // Only `[A-Za-z0-9_.-]` bytes matter below, and `byte_seen` only turns bytes into
    // spaces: other bytes need no lookup.
    let seen = |k: usize| {
        let b = hay[k];
        if is_name(b) { sink.byte_seen(k) } else { b }
    };
    let b1 = s.checked_sub(1).map_or(b' ', seen);
    let b2 = s.checked_sub(2).map_or(b' ', seen);
    let glued = b1 == b'_' || (matches!(b1, b'.' | b'-') && is_alnum(b2));
    if glued || (is_alnum(b1) && json::escape_ending_at(hay, s).is_none()) {
        return e;
    }
    // A short run that does not continue into another group can't be anything.
    if e - d < 9 && !matches!(hay.get(e), Some(b' ' | b'-' | b'.' | b')' | b'(')) {
        return e;
    }
    let (end, groups, digits) = cluster_size(hay, d, e);
    if digits < 9 && groups != 4 {
        return end;
    }
    let c = cluster(hay, d, e);
    let end = c.end();
    let right_ok = hay.get(end).is_none_or(|&b| !is_alnum(b) && b != b'_');
    if c.n == 1 && (c.len(0) < 9 || !right_ok) {
        return end;
    }
    // Sub-ranges split at spaces; the cluster's own edges must be word boundaries.
    let mut i = 0;
    while i < c.n {
        if i > 0 && c.seps[i - 1] != Sep::Space {
            i += 1;
            continue;
        }
        let mut matched = false;
        for j in (i..c.n).rev() {
            let valid_end = if j + 1 < c.n {
                c.seps[j] == Sep::Space
            } else {
                right_ok
            };
            if !valid_end {
                continue;
            }
            if let Some((a, kind)) = shape_match(hay, &c, i, j) {
                sink.push(a, c.groups[j].1, kind);
                i = j + 1;
                matched = true;
                break;
            }
        }
        if !matched {
            i += 1;
        }
    }
    end
}

fn digits_of(hay: &[u8], c: &Cluster, i: usize, j: usize) -> ([u8; 32], usize) {
    let mut buf = [0u8; 32];
    let mut n = 0;
    for k in i..=j {
        for &b in hay.get(c.groups[k].0..c.groups[k].1).unwrap_or_default() {
            if n < 32 {
                buf[n] = b;
                n += 1;
            }
        }
    }
    (buf, n)
}

/// Matches groups `i..=j` against the PII shapes; returns the span start and kind.
fn shape_match(hay: &[u8], c: &Cluster, i: usize, j: usize) -> Option<(usize, Kind)> {
    let mut lens_buf = [0usize; MAX_GROUPS];
    for (slot, k) in lens_buf.iter_mut().zip(i..=j) {
        *slot = c.len(k);
    }
    let lens = &lens_buf[..=j - i];
    let seps = &c.seps[i..j];
    let g = |k: usize| hay.get(c.groups[k].0..c.groups[k].1).unwrap_or_default();
    let start = c.groups[i].0;
    let all_same = |s: Sep| seps.iter().all(|&x| x == s);
    // Card numbers: plain, or grouped 4-4-4-4 / 4-6-5 with one separator kind.
    let grouped = (lens == [4, 4, 4, 4] || lens == [4, 6, 5])
        && (all_same(Sep::Space) || all_same(Sep::Dash));
    if grouped || (lens.len() == 1 && matches!(lens[0], 15 | 16)) {
        let (buf, n) = digits_of(hay, c, i, j);
        if validate::credit_card(buf.get(..n).unwrap_or_default()) {
            return Some((start, Kind::CREDIT_CARD));
        }
    }
    // SSN: 3-2-4 with dashes (spaces only next to an SSN label).
    if lens == [3, 2, 4]
        && (all_same(Sep::Dash) || (all_same(Sep::Space) && ssn_label_before(hay, start)))
    {
        return validate::ssn(g(i), g(i + 1), g(i + 2)).then_some((start, Kind::US_SSN));
    }
    // NANP phone numbers, optionally with +1.
    let plus_one =
        lens.first() == Some(&1) && g(i) == b"1" && start >= 1 && hay.get(start - 1) == Some(&b'+');
    let (area, rest_seps) = if plus_one && lens.len() == 4 && lens[1..] == [3, 3, 4] {
        (i + 1, &seps[1..])
    } else if lens == [3, 3, 4] {
        (i, seps)
    } else {
        (usize::MAX, seps)
    };
    if area != usize::MAX && validate::nanp(g(area), g(area + 1)) {
        let paren_before = c.groups[area].0 >= 1 && hay.get(c.groups[area].0 - 1) == Some(&b'(');
        let (s1, s2) = (rest_seps[0], rest_seps[1]);
        let sep_ok = match s1 {
            Sep::ParenClose => paren_before && matches!(s2, Sep::Dash | Sep::Dot | Sep::Space),
            Sep::Dash | Sep::Dot => s2 == s1,
            Sep::Space => s2 == Sep::Space && plus_one,
            Sep::ParenOpen => false,
        };
        let lead_ok =
            !plus_one || matches!(seps[0], Sep::Space | Sep::Dash | Sep::Dot | Sep::ParenOpen);
        if sep_ok && lead_ok && (paren_before == (s1 == Sep::ParenClose)) {
            // The span takes the `+` of `+1` or the opening parenthesis.
            let a = if plus_one || paren_before {
                start - 1
            } else {
                start
            };
            return Some((a, Kind::PHONE_US));
        }
    }
    // IPv4: exactly four dot-separated octets, nothing more in the cluster, not a version.
    if lens.len() == 4
        && i == 0
        && j + 1 == c.n
        && all_same(Sep::Dot)
        && lens.iter().all(|&l| l <= 3)
    {
        let ok =
            (i..=j).all(|k| g(k).iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0')) <= 255);
        // Loopback and the unspecified address say nothing about anyone.
        let local = g(i) == b"127"
            || (g(i) == b"0" && g(i + 1) == b"0" && g(i + 2) == b"0" && g(i + 3) == b"0");
        if ok && !local && !version_before(hay, start) {
            return Some((start, Kind::IPV4));
        }
    }
    None
}

/// True when a dotted quad is introduced as a version or build number.
fn version_before(hay: &[u8], at: usize) -> bool {
    if at >= 1 && matches!(hay.get(at - 1), Some(b'v' | b'V')) {
        return true;
    }
    let w = hay.get(at.saturating_sub(24)..at).unwrap_or_default();
    [
        &b"version"[..],
        b"build",
        b"release",
        b"windows",
        b"oid",
        b"firmware",
        b"semver",
    ]
    .iter()
    .any(|c| contains_ci(w, c))
}

fn ssn_label_before(hay: &[u8], at: usize) -> bool {
    let w = hay.get(at.saturating_sub(32)..at).unwrap_or_default();
    contains_ci(w, b"ssn") || contains_ci(w, b"social security")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::kind::KindSet;

    fn pii(t: &str) -> Vec<(String, Kind)> {
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        let classes = crate::classes::classify_text(t.as_bytes());
        crate::rules::digits::scan_digits(&mut s, &classes);
        crate::rules::email::scan_at_signs(&mut s);
        s.findings()
            .iter()
            .map(|f| (t[f.start..f.end].to_string(), f.kind))
            .collect()
    }

    #[test]
    fn shapes() {
        assert_eq!(
            pii("card 4111 1111 1111 1111 exp"),
            vec![("4111 1111 1111 1111".into(), Kind::CREDIT_CARD)]
        );
        assert_eq!(pii("amex 3782-822463-10005.")[0].1, Kind::CREDIT_CARD);
        assert_eq!(pii("ssn=123-45-6789")[0].0, "123-45-6789");
        assert_eq!(pii("call (415) 555-0132 now")[0].0, "(415) 555-0132");
        assert_eq!(pii("call +1 (415) 555-0132")[0].0, "+1 (415) 555-0132");
        assert_eq!(pii("call +1 415 555 0132")[0].0, "+1 415 555 0132");
        assert_eq!(pii("は415.555.0132です")[0].0, "415.555.0132");
        assert_eq!(
            pii("IBAN DE89 3704 0044 0532 0130 00 ok")[0].0,
            "DE89 3704 0044 0532 0130 00"
        );
        assert_eq!(pii("iban=DE89370400440532013000")[0].1, Kind::IBAN);
        assert_eq!(
            pii("mail alice.nakamura@example.com.")[0].0,
            "alice.nakamura@example.com"
        );
        assert_eq!(pii("10.0.3.17 - -")[0].1, Kind::IPV4);
        assert_eq!(
            pii("x (568) 861-4442 2025-04-17T23:33")[0].0,
            "(568) 861-4442"
        );
        assert_eq!(pii("x 563-56-7582 2025-08-26T13:08")[0].0, "563-56-7582");
    }

    #[test]
    fn near_misses() {
        for t in [
            "order 4111 1111 1111 1112 failed",
            "form field ssn=000-12-3456 rejected",
            "666-12-3456",
            "123-00-4567",
            "build took 415.555 s; p99 212-555 ms",
            "ports 5432-5433-6379 open",
            "range 200-299-399",
            "elapsed 1712345678 ms",
            "ISBN 978-3-161-48410-0",
            "Windows 10.0.19045.3803",
            "OID 1.3.6.1.4.1.4242",
            "IBAN check failed for DE88370400440532013000",
            "npm i @anthropic-ai/claude-code@2.1.100",
            "docker pull node@sha256:abcdef",
            "git clone git@github.com:org/repo.git",
            "postgres://user:pw@db.internal/app",
            "tel 115-555-0132",
            "version 1.2.3.4 released",
        ] {
            assert!(pii(t).is_empty(), "{t}: {:?}", pii(t));
        }
    }
}
