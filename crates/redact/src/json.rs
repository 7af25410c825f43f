//! JSON-string awareness. Attribute values such as `tool_input` are JSON documents, so a secret
//! can sit between escapes (`\n`, `\"`, `\\n` when double-encoded, `\u00e9`). This module
//! answers "is this byte part of an escape?" and widens spans so a replacement never cuts an
//! escape sequence in half — the reason redacted JSON stays parseable.

/// Number of consecutive backslashes immediately before `pos`.
#[inline]
pub(crate) fn backslashes_before(hay: &[u8], pos: usize) -> usize {
    let end = pos.min(hay.len());
    hay[..end].iter().rev().take_while(|&&b| b == b'\\').count()
}

/// True when the byte at `pos` is a backslash that starts an escape (it is not itself escaped).
#[inline]
pub(crate) fn is_escape_start(hay: &[u8], pos: usize) -> bool {
    hay.get(pos) == Some(&b'\\') && backslashes_before(hay, pos).is_multiple_of(2)
}

/// If `hay[..pos]` ends with a complete escape sequence (`\x` or `\uXXXX`), its start offset.
pub(crate) fn escape_ending_at(hay: &[u8], pos: usize) -> Option<usize> {
    if pos >= 2 && pos <= hay.len() && is_escape_start(hay, pos - 2) && hay[pos - 1] != b'u' {
        return Some(pos - 2);
    }
    if pos >= 6
        && pos <= hay.len()
        && hay[pos - 5] == b'u'
        && is_escape_start(hay, pos - 6)
        && hay[pos - 4..pos].iter().all(|b| b.is_ascii_hexdigit())
    {
        return Some(pos - 6);
    }
    None
}

/// Start of the escape sequence that covers byte `pos`, if `pos` is inside one but is not its
/// first byte (the backslash).
fn escape_covering(hay: &[u8], pos: usize) -> Option<usize> {
    // `\x`: pos is the x.
    if pos >= 1 && is_escape_start(hay, pos - 1) {
        return Some(pos - 1);
    }
    // `\uXXXX`: pos is the u or one of the four hex digits.
    for back in 2..=5usize {
        let Some(s) = pos.checked_sub(back) else {
            break;
        };
        if hay.get(s + 1) == Some(&b'u') && is_escape_start(hay, s) {
            return Some(s);
        }
    }
    None
}

/// Widens `[start, end)` so that it neither starts nor ends inside an escape sequence or a
/// UTF-8 character, and stays within the text.
pub(crate) fn widen_span(hay: &[u8], start: usize, end: usize) -> (usize, usize) {
    let mut s = start.min(hay.len());
    let mut e = end.clamp(s, hay.len());
    if let Some(x) = escape_covering(hay, s) {
        s = x;
    }
    // The last byte of the span starts an escape: take the escaped character too.
    if e > s && is_escape_start(hay, e - 1) {
        e = if hay.get(e) == Some(&b'u') {
            (e + 5).min(hay.len())
        } else {
            (e + 1).min(hay.len())
        };
    } else if e < hay.len()
        && let Some(x) = escape_covering(hay, e)
        && x < e
    {
        let len = if hay.get(x + 1) == Some(&b'u') { 6 } else { 2 };
        e = (x + len).min(hay.len()).max(e);
    }
    while s > 0 && hay.get(s).is_some_and(|&b| (0x80..0xC0).contains(&b)) {
        s -= 1;
    }
    while e < hay.len() && hay.get(e).is_some_and(|&b| (0x80..0xC0).contains(&b)) {
        e += 1;
    }
    (s, e)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn escapes() {
        let t = br#"a\nb\\nc\u00e9d"#;
        assert_eq!(escape_ending_at(t, 3), Some(1));
        assert_eq!(escape_ending_at(t, 4), None);
        assert_eq!(escape_ending_at(t, 6), Some(4)); // `\\` is an escape too
        assert_eq!(escape_ending_at(t, 7), None); // the n after `\\` is literal
        assert_eq!(escape_ending_at(t, 14), Some(8));
    }

    #[test]
    fn widen_never_cuts_escapes() {
        let t = br#"x\nSECRET\ny"#;
        // starts on the 'n' of `\n`
        assert_eq!(widen_span(t, 2, 9), (1, 9));
        // ends on the backslash of `\n`
        assert_eq!(widen_span(t, 3, 10), (3, 11));
        // ends inside \u00e9
        let t = br#"ab\u00e9cd"#;
        assert_eq!(widen_span(t, 0, 5), (0, 8));
        assert_eq!(widen_span(t, 4, 10), (2, 10));
        // UTF-8 boundaries
        let t = "é€x".as_bytes();
        assert_eq!(widen_span(t, 1, 3), (0, 5));
    }
}
