//! JSON string escaping, eight bytes at a time.
//!
//! The output is serde_json's, byte for byte: `"` and `\` take a
//! backslash; backspace, tab, line feed, form feed and carriage return are
//! `\b` `\t` `\n` `\f` `\r`; every other byte below 0x20 is `\u00xx` with
//! lowercase hex digits; everything else (DEL, non-ASCII) is copied as it
//! is. serde_json finds those bytes one at a time with a table; most of
//! cairn's strings have none, so this scans a 64-bit word at a time and
//! copies whole runs, and a short string (most keys and ids) goes through
//! as one or two words without a call to `memcpy`. A test holds it to
//! serde_json on arbitrary strings, at every length and offset.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` equal to zero; exact for the lowest
/// such byte (a borrow only marks bytes above a true zero).
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// The high bit of each byte of `w` that JSON escapes (exact for the
/// lowest one, as [`zero_bytes`]).
fn escaped_bytes(w: u64) -> u64 {
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    control | zero_bytes(w ^ (ONES * u64::from(b'"'))) | zero_bytes(w ^ (ONES * u64::from(b'\\')))
}

/// The index of the first byte at or after `from` that JSON escapes, or
/// `bytes.len()`.
fn next_escaped(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(word) = bytes.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let hits = escaped_bytes(u64::from_le_bytes(w));
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    // The last 1–7 bytes, padded with spaces (never escaped).
    let rest = &bytes[i.min(bytes.len())..];
    if rest.is_empty() {
        return bytes.len();
    }
    let mut w = [b' '; 8];
    w[..rest.len()].copy_from_slice(rest);
    let hits = escaped_bytes(u64::from_le_bytes(w));
    if hits == 0 {
        bytes.len()
    } else {
        i + (hits.trailing_zeros() / 8) as usize
    }
}

fn escape_byte(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x0A => out.extend_from_slice(b"\\n"),
        0x0C => out.extend_from_slice(b"\\f"),
        0x0D => out.extend_from_slice(b"\\r"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xF)],
        ]),
    }
}

/// Eight bytes of `bytes` from `at` as a little-endian word.
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Four bytes of `bytes` from `at` as a little-endian word.
#[inline(always)]
fn half(bytes: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(w)
}

/// Appends `s` as a JSON string, quotes included.
///
/// Most strings cairn writes are short (keys, ids, small words) and need
/// no escape, so the work per call is what counts: strings up to
/// [`SHORT`] bytes are checked and copied as one or two fixed-size words
/// (the second overlapping the first), with no call to `memcpy`; longer
/// ones are scanned a word at a time and copied in one piece. A string
/// with something to escape takes the byte-exact path from its first such
/// byte.
#[inline]
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if bytes.len() <= SHORT {
        short(out, bytes);
    } else {
        long(out, bytes);
    }
}

/// The longest string [`short`] takes.
const SHORT: usize = 16;

/// [`string`] for at most [`SHORT`] bytes.
fn short(out: &mut Vec<u8>, bytes: &[u8]) {
    if !laid_out(out, bytes, b"\"") {
        slow(out, bytes);
    }
}

/// `"key":`, the key written as [`string`] writes it. Inlined where it is
/// called: a key the code spells out is a constant there, and the compiler
/// checks and lays it out when it builds the call, which leaves two stores.
#[inline(always)]
pub(super) fn key(out: &mut Vec<u8>, key: &str) {
    let bytes = key.as_bytes();
    if bytes.len() > SHORT || !laid_out(out, bytes, b"\":") {
        string(out, key);
        out.push(b':');
    }
}

/// Appends `"`, the at most [`SHORT`] `bytes` and `end` when none of them
/// needs an escape; false (nothing appended) otherwise. The bytes are read
/// as words (two overlapping ones when they do not fill one), checked, and
/// laid out in a buffer of fixed size, which is appended whole and cut
/// back to length (one capacity check, no `memcpy`).
#[inline(always)]
fn laid_out<const E: usize>(out: &mut Vec<u8>, bytes: &[u8], end: &[u8; E]) -> bool {
    let n = bytes.len();
    let mut buf = [b' '; SHORT + 3];
    buf[0] = b'"';
    let hits = if n >= 8 {
        let (lo, hi) = (word(bytes, 0), word(bytes, n - 8));
        buf[1..9].copy_from_slice(&lo.to_le_bytes());
        buf[n - 7..n + 1].copy_from_slice(&hi.to_le_bytes());
        escaped_bytes(lo) | escaped_bytes(hi)
    } else if n >= 4 {
        let (lo, hi) = (half(bytes, 0), half(bytes, n - 4));
        buf[1..5].copy_from_slice(&lo.to_le_bytes());
        buf[n - 3..n + 1].copy_from_slice(&hi.to_le_bytes());
        escaped_bytes(u64::from(lo) | (u64::from(hi) << 32))
    } else {
        // 0–3 bytes, then spaces (never escaped), shifted in one by one
        // (a copy loop would become a `memcpy` call).
        let w = bytes
            .iter()
            .enumerate()
            .fold(u64::from_le_bytes([b' '; 8]), |w, (i, &b)| {
                w & !(0xFF << (8 * i)) | u64::from(b) << (8 * i)
            });
        buf[1..9].copy_from_slice(&w.to_le_bytes());
        escaped_bytes(w)
    };
    // (An `end` longer than two bytes would not fit the buffer.)
    if hits != 0 || E > 2 {
        return false;
    }
    buf[n + 1..n + 1 + E].copy_from_slice(end);
    let len = out.len();
    out.extend_from_slice(&buf);
    out.truncate(len + n + 1 + E);
    true
}

/// [`string`] for more than [`SHORT`] bytes: scanned first, then copied
/// in one piece when there is nothing to escape.
fn long(out: &mut Vec<u8>, bytes: &[u8]) {
    let first = next_escaped(bytes, 0);
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if first == bytes.len() {
        out.extend_from_slice(bytes);
        out.push(b'"');
    } else {
        escape_from(out, bytes, first);
    }
}

/// [`string`] for a string that has something to escape.
#[cold]
fn slow(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    escape_from(out, bytes, next_escaped(bytes, 0));
}

/// The rest of [`string`] from the first byte to escape, closing quote
/// included.
fn escape_from(out: &mut Vec<u8>, bytes: &[u8], first: usize) {
    let mut run = 0;
    let mut i = first;
    while i < bytes.len() {
        out.extend_from_slice(&bytes[run..i]);
        escape_byte(out, bytes[i]);
        run = i + 1;
        i = next_escaped(bytes, run);
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    fn check(s: &str) {
        let mut got = Vec::new();
        super::string(&mut got, s);
        let want = serde_json::to_vec(s).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        let mut key = Vec::new();
        super::key(&mut key, s);
        assert_eq!(key, [&want[..], b":"].concat());
        // After other bytes, into a buffer with and without room to spare.
        for room in [0, 1, 7, 64] {
            let mut got = Vec::with_capacity(3 + room);
            got.extend_from_slice(b"[1,");
            super::string(&mut got, s);
            assert_eq!(&got[..3], b"[1,");
            assert_eq!(
                String::from_utf8_lossy(&got[3..]),
                String::from_utf8_lossy(&want)
            );
        }
    }

    #[test]
    fn every_ascii_byte_at_every_word_offset() {
        for b in 0u8..=0x7F {
            for pad in 0..17 {
                let c = char::from(b);
                check(&format!("{}{c}{}", "a".repeat(pad), "é".repeat(pad % 5)));
                check(&format!("{c}{}{c}", "x".repeat(pad)));
            }
        }
    }

    proptest! {
        #[test]
        fn escapes_as_serde_json_does(s in any::<String>()) {
            check(&s);
        }

        #[test]
        fn escapes_runs_of_specials_as_serde_json_does(s in "[\\x00-\\x22\\x5c\\x7f-\\u{ff}a\u{2028}😀]{0,40}") {
            check(&s);
        }
    }
}
