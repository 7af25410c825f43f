//! Passwords standing alone, with no name around them: generated ones (`c8WTsHu-eCkSL4V`,
//! `Maple1999!AB3`) and memorable ones (`Tulip-Harbor-Violet42`). Runs of 20 bytes or more come
//! from the long-token scan ([`crate::rules::bare`]); shorter ones (12–19 bytes) from the digit
//! scan, since a generated password holds a digit.

use crate::classes::Classes;
use crate::json;
use crate::kind::Kind;
use crate::rules::Sink;
use crate::rules::bare::{MIN_PASSWORD, MIN_RUN, trim, typed_id};
use crate::text::{class_bits, is_token_or_symbol};
use crate::validate::{self, shape};

/// Called by the digit scan for a digit at `d`: examines the run around it when it is too
/// short for the long-token scan (12–19 bytes) and mixes upper and lower case. Returns the run's
/// end so the caller asks once per run. `classes` are the text's class bitmaps.
pub(crate) fn short_secret_around(sink: &mut Sink<'_>, classes: &[Classes], d: usize) -> usize {
    let hay = sink.hay;
    let (s, e) = run_around(classes, hay.len(), d);
    let len = e - s;
    let bounded = s == 0 || !is_token_or_symbol(hay[s - 1]);
    if bounded && (MIN_PASSWORD..MIN_RUN).contains(&len) {
        let bits = hay
            .get(s..e)
            .unwrap_or_default()
            .iter()
            .fold(0, |c, &b| c | class_bits(b));
        if bits & 6 == 6 {
            let mut s = s;
            if s > 0 && json::is_escape_start(hay, s - 1) {
                s += 1;
            }
            password_pieces(sink, s, e);
        }
    }
    e
}

/// The token run around `d` in a text of `len` bytes: back at most `MIN_RUN` bytes, forward
/// to its end (each run is walked once however many digit runs it holds: a uuid has eight),
/// from the token bitmaps.
pub(crate) fn run_around(classes: &[Classes], len: usize, d: usize) -> (usize, usize) {
    let token = |k: usize| classes.get(k).map_or(0, |c| c.token);
    // Forward: the first byte at or after `d` that is no token byte.
    let mut e = d;
    loop {
        let (k, bit) = (e / 64, (e % 64) as u32);
        let ones = (!(token(k) >> bit)).trailing_zeros();
        e += ones as usize;
        if bit + ones < 64 || k + 1 >= classes.len() {
            break;
        }
    }
    // Backward: token bytes right before `d`, at most `MIN_RUN` of them.
    let mut s = d;
    while s > 0 && d - s < MIN_RUN {
        let (k, bit) = ((s - 1) / 64, ((s - 1) % 64) as u32);
        // Bits `bit` and below, moved to the top: the leading ones are the run.
        let ones = (!(token(k) << (63 - bit))).leading_zeros() as usize;
        s -= ones.min(MIN_RUN - (d - s));
        // Fewer ones than bits down to bit 0: the run starts in this block.
        if ones <= bit as usize {
            break;
        }
    }
    (s, e.min(len))
}

/// Examines each piece of `[s, e)` between `/`, `@` and `=` as a stand-alone password
/// (`user@example.com/oCBR0%EV-gIc0*SBAQGv`, `NAME=value`).
pub(crate) fn password_pieces(sink: &mut Sink<'_>, s: usize, e: usize) {
    let hay = sink.hay;
    let mut p = s;
    let cuts = hay
        .get(s..e)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, b'/' | b'@' | b'='));
    let ends: Vec<usize> = cuts.map(|(k, _)| s + k).chain(std::iter::once(e)).collect();
    for k in ends {
        if k - p >= MIN_PASSWORD {
            examine_password(sink, p, k);
        }
        p = k + 1;
    }
}

/// Count of `!#%^&*()@$` bytes and how many different ones.
pub(crate) fn symbols(tok: &[u8]) -> (usize, usize) {
    let mut seen = [false; 10];
    let mut count = 0;
    for &c in tok {
        if let Some(k) = b"!#%^&*()@$".iter().position(|&x| x == c) {
            seen[k] = true;
            count += 1;
        }
    }
    (count, seen.iter().filter(|&&x| x).count())
}

/// A password standing alone in prose: a generated one (`c8WTsHu-eCkSL4V`, `Maple1999!AB3`)
/// or a memorable one (`Tulip-Harbor-Violet42`: capitalised words joined by a separator and a
/// number, the shape password managers generate).
fn examine_password(sink: &mut Sink<'_>, s: usize, e: usize) {
    let hay = sink.hay;
    let (a, b) = trim(hay, s, e);
    let len = b.saturating_sub(a);
    if !(MIN_PASSWORD..=64).contains(&len) || sink.is_covered(a, b) || sink.is_suppressed(a, b) {
        return;
    }
    let tok = hay.get(a..b).unwrap_or_default();
    if memorable(tok) {
        sink.push(a, b, Kind::PASSWORD_ASSIGNMENT);
        return;
    }
    if tok
        .iter()
        .any(|&c| matches!(c, b'/' | b'=' | b'(' | b')' | b'@'))
        || typed_id(tok)
    {
        return;
    }
    let sh = shape(tok);
    if !(sh.upper && sh.lower && sh.digit) || sh.distinct * 3 < len * 2 {
        return;
    }
    // `Maple1999!AB3`-style (a word, a year, a symbol) has few case changes; a symbol among
    // upper, lower and digits is telling on its own. Without one, a dotted name
    // (`Foo2.Bar3Baz`) is code, and random text needs frequent case changes.
    let (sym, _) = symbols(tok);
    let random = if sym > 0 {
        true
    } else {
        !tok.contains(&b'.') && sh.transitions_pct >= 40
    };
    if random && !validate::is_placeholder(tok) {
        sink.push(a, b, Kind::PASSWORD_ASSIGNMENT);
    }
}

/// `Word-Word-Word42`: three or more capitalised words and a trailing number.
fn memorable(tok: &[u8]) -> bool {
    let digits = tok.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=4).contains(&digits) {
        return false;
    }
    let words = &tok[..tok.len() - digits];
    let words = words.strip_suffix(b"-").unwrap_or(words);
    let mut n = 0;
    for w in words.split(|&c| c == b'-') {
        let cap = w.first().is_some_and(u8::is_ascii_uppercase);
        if !cap || w.len() < 3 || !w[1..].iter().all(u8::is_ascii_lowercase) {
            return false;
        }
        n += 1;
    }
    n >= 3
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use proptest::prelude::*;

    use super::*;
    use crate::classes::classify_text;

    proptest! {
        /// The run around a byte from the bitmaps is the byte walk's, across block edges.
        #[test]
        fn run_around_is_the_byte_walk(
            text in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'Z'), Just(b'7'), Just(b' '), Just(b'"'), Just(b'=')],
                1..300,
            ),
            at in any::<proptest::sample::Index>(),
        ) {
            let d = at.index(text.len());
            let mut s = d;
            while s > 0 && d - s < MIN_RUN && is_token_or_symbol(text[s - 1]) {
                s -= 1;
            }
            let mut e = d;
            while e < text.len() && is_token_or_symbol(text[e]) {
                e += 1;
            }
            prop_assert_eq!(run_around(&classify_text(&text), text.len(), d), (s, e));
        }
    }
}
