//! Numbers found from a byte scan instead of anchors: digit runs (located eight bytes at a
//! time) are grown into clusters of digit groups and matched against card, SSN, NANP phone and
//! IPv4 shapes, then validated (Luhn + issuer, SSA ranges, NANP rules, octets). IBANs start at
//! two capitals before a digit run ([`crate::rules::iban`]).

use crate::json;
use crate::kind::Kind;
use crate::rules::iban::iban;
use crate::rules::{Sink, password};
use crate::text::{contains_ci, is_alnum, is_digit, is_name, left_boundary};
use crate::validate;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte of `x` that lies in `lo..=hi` (ASCII only). The high bits are cleared
/// before adding, so no carry crosses into the next byte.
#[inline]
fn range_mask(x: u64, lo: u8, hi: u8) -> u64 {
    let y = x & !HI;
    let ge = y.wrapping_add(LO * u64::from(0x80 - lo));
    let gt = y.wrapping_add(LO * u64::from(0x7F - hi));
    ge & !gt & !x & HI
}

#[inline]
fn digit_mask(x: u64) -> u64 {
    range_mask(x, b'0', b'9')
}

#[inline]
fn upper_mask(x: u64) -> u64 {
    range_mask(x, b'A', b'Z')
}

#[cfg(test)]
fn alnum_mask(x: u64) -> u64 {
    digit_mask(x) | upper_mask(x) | range_mask(x, b'a', b'z')
}

/// High bit of each byte of `x` equal to `b` (exact: no borrow crosses bytes).
#[inline]
fn eq_mask(x: u64, b: u8) -> u64 {
    let t = x ^ (LO * u64::from(b));
    !(((t & !HI).wrapping_add(!HI)) | t) & HI
}

/// Offset of the next ASCII digit at or after `i`, testing eight bytes per step.
#[cfg(test)]
fn next_digit(hay: &[u8], mut i: usize) -> Option<usize> {
    while let Some(chunk) = hay.get(i..i + 8) {
        let m = digit_mask(u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?));
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    hay.get(i..)?
        .iter()
        .position(|&b| is_digit(b))
        .map(|k| i + k)
}

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

/// Scans all digit runs, eight bytes at a time: only the first digit of each run is visited,
/// found as "digit whose previous byte is not a digit" in the chunk's masks.
///
/// Every run also seeds the short-password check of [`password::short_secret_around`]: a
/// generated password always holds a digit, so this pass finds the 12–19 byte ones that the
/// sampled long-token scan steps over.
pub(crate) fn scan_digits(sink: &mut Sink<'_>) {
    let hay = sink.hay;
    let mut st = DigitScan {
        short_done: 0,
        skip_to: 0,
    };
    let mut chunks = hay.chunks_exact(8);
    let mut i = 0usize;
    for chunk in chunks.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let x = u64::from_le_bytes(bytes);
        let d = digit_mask(x);
        if d == 0 {
            i += 8;
            continue;
        }
        let b1 = i.checked_sub(1).map_or(0, |k| hay[k]);
        let b2 = i.checked_sub(2).map_or(0, |k| hay[k]);
        let bit = |c: bool| u64::from(c) << 7;
        let starts = d & !((d << 8) | bit(is_digit(b1)));
        if starts == 0 {
            // Only the tail of a run that started in an earlier chunk.
            i += 8;
            continue;
        }
        let upper = upper_mask(x);
        let lower = range_mask(x, b'a', b'z');
        let alnum = d | upper | lower;
        // Per position: is the byte before alphanumeric / are both bytes before upper-case /
        // is the byte two before a backslash (`\n4111`: a JSON escape, not a word).
        let prev_alnum = (alnum << 8) | bit(is_alnum(b1));
        // This chunk or the one before holds both letter cases: the cheap precondition for a
        // short password. (It depends on where chunks fall; the engine's fixed-point re-scan
        // keeps redaction idempotent regardless.)
        let mixed_case = starts != 0
            && ((upper != 0 && lower != 0) || {
                let prev = if i >= 8 { word_at(hay, i - 8) } else { 0 };
                (upper | upper_mask(prev)) != 0 && (lower | range_mask(prev, b'a', b'z')) != 0
            });
        let upper1 = (upper << 8) | bit(b1.is_ascii_uppercase());
        let upper2 = (upper << 16)
            | (upper1 << 8 & !0xFFFF)
            | bit(b2.is_ascii_uppercase())
            | bit(b1.is_ascii_uppercase()) << 8;
        let bs2 = (eq_mask(x, b'\\') << 16) | bit(b2 == b'\\') | bit(b1 == b'\\') << 8;
        // A run glued to a word (`INV0012`, hex) is only visited when it may start an IBAN
        // (`DE89…`) or follows a JSON escape.
        let mut visit = starts & (!prev_alnum | (upper1 & upper2) | bs2);
        // Every run with both letter cases nearby is looked at once for a short password
        // (walks are not repeated inside a run).
        let mut short = if mixed_case { starts } else { 0 };
        while (visit | short) != 0 {
            let low = (visit | short) & (visit | short).wrapping_neg();
            let pos = i + (low.trailing_zeros() / 8) as usize;
            if short & low != 0 {
                st.short(sink, pos);
            }
            if visit & low != 0 && worth_visiting(sink, pos) {
                st.visit(sink, pos);
            }
            visit &= !low;
            short &= !low;
        }
        i += 8;
    }
    debug_assert_eq!(i + chunks.remainder().len(), hay.len());
    while i < hay.len() {
        if is_digit(hay[i]) && (i == 0 || !is_digit(hay[i - 1])) {
            st.short(sink, i);
            st.visit(sink, i);
        }
        i += 1;
    }
}

/// The eight bytes at `k` as a little-endian word (zero-padded past the end).
#[inline]
fn word_at(hay: &[u8], k: usize) -> u64 {
    // A fixed-size copy is one load; the variable-length one below is a `memcpy` call.
    if let Some(src) = hay.get(k..k.saturating_add(8))
        && let Ok(w) = <[u8; 8]>::try_from(src)
    {
        return u64::from_le_bytes(w);
    }
    let mut w = [0u8; 8];
    if let Some(src) = hay.get(k..(k + 8).min(hay.len())) {
        w[..src.len()].copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

/// Cheap pre-test for a digit run at `d`: a run glued to a word (`INV0012`, hex,
/// `f3626358-466f`) is only worth a visit when it may start an IBAN (`DE89…`) or follows a
/// JSON escape (`\n4111…`).
#[inline]
fn worth_visiting(sink: &Sink<'_>, d: usize) -> bool {
    // `byte_seen` only turns bytes into spaces; a raw byte before the run that is neither
    // alphanumeric nor `-`/`.` decides "visit" whatever it is seen as, without a lookup.
    let raw = d.checked_sub(1).map_or(b' ', |k| sink.hay[k]);
    if !is_alnum(raw) && raw != b'-' && raw != b'.' {
        return true;
    }
    let p1 = d.checked_sub(1).map_or(b' ', |k| sink.byte_seen(k));
    let p2 = d.checked_sub(2).map_or(b' ', |k| sink.byte_seen(k));
    if is_alnum(p1) {
        (p1.is_ascii_uppercase() && p2.is_ascii_uppercase()) || p2 == b'\\'
    } else if p1 == b'-' || p1 == b'.' {
        !is_alnum(p2)
    } else {
        true
    }
}

struct DigitScan {
    /// End of the last run examined for a short password.
    short_done: usize,
    /// End of the last cluster or IBAN handled: digit runs before it are part of it.
    skip_to: usize,
}

impl DigitScan {
    /// Looks for a short password around the digit run starting at `d`.
    fn short(&mut self, sink: &mut Sink<'_>, d: usize) {
        if d >= self.short_done {
            self.short_done = password::short_secret_around(sink, d);
        }
    }

    /// Handles the digit run starting at `d`.
    fn visit(&mut self, sink: &mut Sink<'_>, d: usize) {
        let hay = sink.hay;
        if d < self.skip_to {
            return;
        }
        // `byte_seen` only turns bytes into spaces: a byte that is not alphanumeric needs no lookup.
        let glued = d > 0
            && is_alnum(hay[d - 1])
            && is_alnum(sink.byte_seen(d - 1))
            && json::escape_ending_at(hay, d).is_none();
        if glued {
            // Inside a word (`INV0012`, hex, uuids): only an IBAN starts like that.
            if d >= 2
                && hay[d - 2].is_ascii_uppercase()
                && hay[d - 1].is_ascii_uppercase()
                && left_boundary(hay, d - 2, is_alnum)
                && let Some(end) = iban(hay, d - 2)
            {
                sink.push(d - 2, end, Kind::IBAN);
                self.skip_to = end;
            }
            return;
        }
        let mut e = d;
        while e < hay.len() && is_digit(hay[e]) {
            e += 1;
        }
        // Most numbers (`388`, `:11`, `dur=1234ms`) are short and go nowhere: decide that
        // before anything else.
        if e - d < 9 && !matches!(hay.get(e), Some(b' ' | b'-' | b'.' | b')' | b'(')) {
            self.skip_to = e;
            return;
        }
        self.skip_to = handle_run(sink, d, e).max(e);
    }
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

fn handle_run(sink: &mut Sink<'_>, d: usize, e: usize) -> usize {
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
        scan_digits(&mut s);
        crate::rules::email::scan_at_signs(&mut s);
        s.findings()
            .iter()
            .map(|f| (t[f.start..f.end].to_string(), f.kind))
            .collect()
    }

    #[test]
    fn swar_masks() {
        let x = u64::from_le_bytes(*b"a0Z9 z\xc3/");
        assert_eq!(digit_mask(x), 0x80 << 8 | 0x80 << 24);
        assert_eq!(eq_mask(x, b'/'), 0x80 << 56);
        assert_eq!(
            eq_mask(u64::from_le_bytes(*b"--\x00-a-\xad-"), b'-'),
            0x80 | 0x80 << 8 | 0x80 << 24 | 0x80 << 40 | 0x80 << 56
        );
        assert_eq!(
            alnum_mask(x),
            0x80 | 0x80 << 8 | 0x80 << 16 | 0x80 << 24 | 0x80 << 40
        );
        let t = b"abcdefghijklmnop\xe3\x81\x82xyz7";
        assert_eq!(next_digit(t, 0), Some(t.len() - 1));
        assert_eq!(next_digit(b"abcdefgh", 0), None);
        assert_eq!(next_digit(b"/:09", 0), Some(2));
        for i in 0..20 {
            let mut v = vec![b'x'; 20];
            v[i] = b'5';
            assert_eq!(next_digit(&v, 0), Some(i));
        }
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
