//! Byte-level text helpers shared by every rule: character classes, word boundaries, token
//! extents that survive line wrapping and shell continuations, and the truncation marker.
//!
//! Everything works on bytes: all formats we detect are ASCII, and any byte >= 0x80 (part of a
//! multi-byte UTF-8 character) is simply "not a token byte", which is what makes Japanese text
//! or emoji directly next to a secret a clean boundary.

use std::borrow::Cow;

use crate::json;

const DIGIT: u8 = 1;
const UPPER: u8 = 2;
const LOWER: u8 = 4;
/// `+ / _ . ~ -`: the non-alphanumeric bytes of base64, base64url and token68.
const TOKEN_EXTRA: u8 = 8;
/// Symbols that show up in hand-made secrets (Django keys) but not in base64.
const SYMBOL: u8 = 16;
/// `_ . -`: identifier joiners in credential names (`DD-API-KEY`, `spring.datasource.password`).
const NAME_EXTRA: u8 = 32;

const fn build_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_digit() {
            c |= DIGIT;
        }
        if b.is_ascii_uppercase() {
            c |= UPPER;
        }
        if b.is_ascii_lowercase() {
            c |= LOWER;
        }
        if matches!(b, b'+' | b'/' | b'_' | b'.' | b'~' | b'-') {
            c |= TOKEN_EXTRA;
        }
        if matches!(
            b,
            b'=' | b'!' | b'#' | b'%' | b'^' | b'&' | b'*' | b'(' | b')' | b'@' | b'$'
        ) {
            c |= SYMBOL;
        }
        if matches!(b, b'_' | b'.' | b'-') {
            c |= NAME_EXTRA;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CLASSES: [u8; 256] = build_classes();

/// `[0-9]`
#[inline]
pub(crate) fn is_digit(b: u8) -> bool {
    CLASSES[usize::from(b)] & DIGIT != 0
}

/// `[A-Za-z0-9]`
#[inline]
pub(crate) fn is_alnum(b: u8) -> bool {
    CLASSES[usize::from(b)] & (DIGIT | UPPER | LOWER) != 0
}

/// `[A-Za-z0-9_]`
#[inline]
pub(crate) fn is_word(b: u8) -> bool {
    is_alnum(b) || b == b'_'
}

/// Token bytes: `[A-Za-z0-9+/_.~-]` (base64, base64url, token68 without padding).
#[inline]
pub(crate) fn is_token(b: u8) -> bool {
    CLASSES[usize::from(b)] & (DIGIT | UPPER | LOWER | TOKEN_EXTRA) != 0
}

/// Token bytes plus the symbols of hand-made secrets and `=` padding.
#[inline]
pub(crate) fn is_token_or_symbol(b: u8) -> bool {
    CLASSES[usize::from(b)] & (DIGIT | UPPER | LOWER | TOKEN_EXTRA | SYMBOL) != 0
}

/// Credential-name bytes: `[A-Za-z0-9_.-]`.
#[inline]
pub(crate) fn is_name(b: u8) -> bool {
    CLASSES[usize::from(b)] & (DIGIT | UPPER | LOWER | NAME_EXTRA) != 0
}

/// `[A-Za-z0-9_-]`: base64url.
#[inline]
pub(crate) fn is_b64url(b: u8) -> bool {
    is_word(b) || b == b'-'
}

/// `[A-Za-z0-9+/=]`: standard base64 with padding.
#[inline]
pub(crate) fn is_b64(b: u8) -> bool {
    is_alnum(b) || matches!(b, b'+' | b'/' | b'=')
}

/// Byte class bits used by the randomness heuristics: 1 digit, 2 upper, 4 lower, 0 other.
#[inline]
pub(crate) fn class_bits(b: u8) -> u8 {
    CLASSES[usize::from(b)] & (DIGIT | UPPER | LOWER)
}

/// Every class bit of `b`; with [`is_symbol_class`] a run's accumulated bits tell whether it
/// holds a symbol (`=`, `!`, `#`, …) that would split it into tokens.
#[inline]
pub(crate) fn class_all(b: u8) -> u8 {
    CLASSES[usize::from(b)]
}

/// True when accumulated [`class_all`] bits include a symbol of hand-made secrets.
#[inline]
pub(crate) fn is_symbol_class(bits: u8) -> bool {
    bits & SYMBOL != 0
}

/// True when `t` holds a symbol of hand-made secrets (`=!#%^&*()@$`, as [`class_all`]'s
/// symbol bit), a byte at a time ([`crate::classes::has_symbol`] is the fast form).
#[inline]
pub(crate) fn has_symbol_by_bytes(t: &[u8]) -> bool {
    t.iter().any(|&b| is_symbol_class(class_all(b)))
}

/// True when a token may start at `pos`: the byte before is not `word(b)`, or it is the last
/// byte of a JSON escape (`\n`, `\"`, `\u00e9`), which in the decoded text is not a word byte.
#[inline]
pub(crate) fn left_boundary(hay: &[u8], pos: usize, word: fn(u8) -> bool) -> bool {
    match pos.checked_sub(1).and_then(|p| hay.get(p)) {
        None => true,
        Some(&b) => !word(b) || json::escape_ending_at(hay, pos).is_some(),
    }
}

/// ASCII case-insensitive substring test.
pub(crate) fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let Some(last) = hay.len().checked_sub(needle.len()) else {
        return false;
    };
    // Candidates are found by a SIMD search for the first byte in either case.
    let head = hay.get(..=last).unwrap_or_default();
    let rest_at = |i: usize| {
        hay.get(i + 1..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(rest))
    };
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    if lo == up {
        memchr::memchr_iter(lo, head).any(rest_at)
    } else {
        memchr::memchr2_iter(lo, up, head).any(rest_at)
    }
}

/// Claude Code cuts long tool values and appends `…[N chars]`; a token running straight into
/// that marker is a prefix of something longer.
pub(crate) fn truncation_marker_at(hay: &[u8], pos: usize) -> bool {
    let rest = hay.get(pos..).unwrap_or_default();
    rest.starts_with("…".as_bytes()) || rest.starts_with(b"\\u2026") || rest.starts_with(b"...[")
}

/// A token found by [`extent`]: where it ends in the original text and its bytes with line
/// breaks removed and `\/` unescaped (borrowed when nothing had to be removed).
pub(crate) struct Extent<'h> {
    pub end: usize,
    pub joined: Cow<'h, [u8]>,
    /// `map[i]` = original offset of `joined[i]`; empty when `joined` is borrowed.
    map: Vec<usize>,
    start: usize,
}

impl Extent<'_> {
    /// Original offset just past `joined[..n]`.
    pub fn orig_end(&self, n: usize) -> usize {
        if self.map.is_empty() {
            return self.start + n;
        }
        match n.checked_sub(1).and_then(|i| self.map.get(i)) {
            None => self.start,
            Some(&o) => o + 1,
        }
    }
}

/// How [`extent`] may cross line breaks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breaks {
    /// Stop at every break.
    None,
    /// Join shell `\`-newline continuations, and hard-wrapped lines when the token fills whole lines.
    Soft,
}

/// Length of a line break at `pos` (`\n`, `\r\n`, or a JSON-escaped `\n` / `\r\n`), or 0.
fn newline_len(hay: &[u8], pos: usize) -> usize {
    let rest = hay.get(pos..).unwrap_or_default();
    if rest.starts_with(b"\r\n") {
        2
    } else if rest.starts_with(b"\n") {
        1
    } else if rest.starts_with(b"\\r\\n") && json::is_escape_start(hay, pos) {
        4
    } else if rest.starts_with(b"\\n") && json::is_escape_start(hay, pos) {
        2
    } else {
        0
    }
}

/// True when `pos` is at the start of a line (or of the text).
fn at_line_start(hay: &[u8], pos: usize) -> bool {
    pos == 0
        || hay.get(pos - 1) == Some(&b'\n')
        || (pos >= 2
            && hay.get(pos - 2..pos) == Some(b"\\n")
            && json::escape_ending_at(hay, pos).is_some())
}

/// Scans a token of `class` bytes starting at `start`, at most `max` bytes of token.
///
/// With [`Breaks::Soft`], a shell continuation (`\` + newline) between token bytes is skipped,
/// and so is a plain line break when the token started a line, filled it (>= 40 bytes), and the
/// next line holds nothing but token bytes of the same width or a shorter last line: that is
/// what a secret hard-wrapped by a terminal or an editor looks like.
pub(crate) fn extent(
    hay: &[u8],
    start: usize,
    class: fn(u8) -> bool,
    max: usize,
    breaks: Breaks,
) -> Extent<'_> {
    let mut i = start;
    let mut owned: Option<(Vec<u8>, Vec<usize>)> = None;
    let slash_ok = class(b'/');
    let wrap_ok = breaks == Breaks::Soft && at_line_start(hay, start);
    let mut seg_start = start;
    let mut first_width: Option<usize> = None;
    let limit = hay.len().min(start.saturating_add(max.saturating_mul(2)));
    let mut taken = 0usize;
    while i < limit && taken < max {
        let b = hay[i];
        if class(b) {
            if let Some((buf, map)) = owned.as_mut() {
                buf.push(b);
                map.push(i);
            }
            i += 1;
            taken += 1;
            continue;
        }
        // `\/` is how some JSON encoders write '/': part of a base64 or URL token.
        if slash_ok && b == b'\\' && hay.get(i + 1) == Some(&b'/') && json::is_escape_start(hay, i)
        {
            let (buf, map) = owned.get_or_insert_with(|| seed(hay, start, i));
            buf.push(b'/');
            map.push(i + 1);
            i += 2;
            taken += 1;
            continue;
        }
        if breaks == Breaks::None || i == start {
            break;
        }
        // Shell line continuation: backslash, newline, and the token goes on.
        let cont = if hay.get(i..).is_some_and(|r| r.starts_with(b"\\\n")) {
            2
        } else if hay.get(i..).is_some_and(|r| r.starts_with(b"\\\r\n")) {
            3
        } else {
            0
        };
        if cont > 0 && hay.get(i + cont).is_some_and(|&c| class(c)) {
            owned.get_or_insert_with(|| seed(hay, start, i));
            i += cont;
            seg_start = i;
            continue;
        }
        let nl = newline_len(hay, i);
        if nl == 0 || !wrap_ok {
            break;
        }
        let width = i - seg_start;
        let full = match first_width {
            None => width >= 40,
            Some(w) => width == w,
        };
        if !full {
            break;
        }
        // The next line must be token bytes only, up to a line end or the end of the text.
        let next = i + nl;
        let mut j = next;
        while j < hay.len() && class(hay[j]) && j - next <= width {
            j += 1;
        }
        let run = j - next;
        let ends_line = j >= hay.len() || newline_len(hay, j) > 0;
        if run == 0 || run > width || !ends_line {
            break;
        }
        owned.get_or_insert_with(|| seed(hay, start, i));
        first_width.get_or_insert(width);
        i = next;
        seg_start = next;
    }
    match owned {
        Some((buf, map)) => Extent {
            end: i,
            joined: Cow::Owned(buf),
            map,
            start,
        },
        None => Extent {
            end: i,
            joined: Cow::Borrowed(hay.get(start..i).unwrap_or_default()),
            map: Vec::new(),
            start,
        },
    }
}

fn seed(hay: &[u8], start: usize, i: usize) -> (Vec<u8>, Vec<usize>) {
    let buf = hay.get(start..i).unwrap_or_default().to_vec();
    let map = (start..i).collect();
    (buf, map)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn has_symbol_is_the_symbol_class() {
        for b in 0..=255u8 {
            for len in [1, 3, 16, 17, 36, 64] {
                for at in [0, len / 2, len - 1] {
                    let mut t = vec![b'a'; len];
                    t[at] = b;
                    let want = is_symbol_class(class_all(b));
                    assert_eq!(crate::classes::has_symbol(&t), want, "{b} at {at} of {len}");
                    assert_eq!(has_symbol_by_bytes(&t), want, "{b} at {at} of {len}");
                }
            }
        }
        assert!(!crate::classes::has_symbol(b""));
    }

    #[test]
    fn contains_ci_matches_windows() {
        assert!(contains_ci(b"x DataDog y", b"datadog"));
        assert!(contains_ci(b"datadog", b"DATADOG"));
        assert!(!contains_ci(b"datado", b"datadog"));
        assert!(contains_ci(b"", b""));
        assert!(!contains_ci(b"abc", b"abd"));
        assert!(contains_ci(b"ab -U", b" -u"));
    }

    #[test]
    fn classes() {
        assert!(is_token(b'+') && is_token(b'~') && !is_token(b'='));
        assert!(is_token_or_symbol(b'=') && !is_token_or_symbol(b' '));
        assert!(!is_alnum(0xE3));
    }

    #[test]
    fn boundaries_see_through_json_escapes() {
        let t = br#"a\nAKIA"#;
        assert!(left_boundary(t, 3, is_alnum));
        let t = br#"xnAKIA"#;
        assert!(!left_boundary(t, 2, is_alnum));
        let t = br#"\\nAKIA"#; // escaped backslash then a literal n
        assert!(!left_boundary(t, 3, is_alnum));
    }

    #[test]
    fn extent_joins_shell_continuation() {
        let t = b"X=\"abcdef\\\nghij\" rest";
        let e = extent(t, 3, is_alnum, 100, Breaks::Soft);
        assert_eq!(&*e.joined, b"abcdefghij");
        assert_eq!(&t[e.end..e.end + 1], b"\"");
        assert_eq!(e.orig_end(10), e.end);
    }

    #[test]
    fn extent_joins_hard_wrap_only_when_lines_are_full() {
        let line = "A".repeat(40);
        let t = format!("intro:\n{line}\n{line}\nBBB\nis it?");
        let s = t.find('A').unwrap();
        let e = extent(t.as_bytes(), s, is_alnum, 1000, Breaks::Soft);
        assert_eq!(e.joined.len(), 83);
        // a short first line is not a wrap
        let t = "k: AAAA\nBBBB\n";
        let e = extent(t.as_bytes(), 3, is_alnum, 100, Breaks::Soft);
        assert_eq!(&*e.joined, b"AAAA");
    }

    #[test]
    fn extent_unescapes_json_slash() {
        let t = br#"ab\/cd""#;
        let e = extent(t, 0, is_b64, 100, Breaks::None);
        assert_eq!(&*e.joined, b"ab/cd");
        assert_eq!(e.end, 6);
    }
}
