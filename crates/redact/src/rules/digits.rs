//! The digit scan: finds the first digit of every digit run 64 bytes at a time and hands
//! the runs that can start something to the number rules ([`crate::rules::pii`]: cards, SSNs,
//! phones, IPv4, IBANs) and to the short-password check ([`password::short_secret_around`]).
//!
//! Each block's byte classes are bitmaps ([`crate::classes`]), so most run starts are decided for
//! the whole block with shifts and ands: glued to a word (`INV0012`, hex, uuids), after a
//! `-`/`.` inside a word (`f3626358-466f`, `v1.2`), or short with nothing after them that
//! could continue a number. Only the rest, about one start in eight, reaches per-start code.

use crate::classes::Classes;
use crate::json;
use crate::rules::iban::iban;
use crate::rules::pii::handle_run;
use crate::rules::{Sink, password};
use crate::text::{is_alnum, is_digit, left_boundary};

/// Scans all digit runs, 64 bytes at a time: only the first digit of each run is looked at,
/// found as "digit whose previous byte is not a digit" in the block's digit bitmap.
///
/// Every run also seeds the short-password check of [`password::short_secret_around`]: a
/// generated password always holds a digit, so this pass finds the 12–19 byte ones that the
/// long-token scan (runs of 20 or more) leaves to it.
pub(crate) fn scan_digits(sink: &mut Sink<'_>, classes: &[Classes]) {
    let hay = sink.hay;
    let mut st = DigitScan {
        short_done: 0,
        skip_to: 0,
        cursor: 0,
    };
    // Run starts in the last `len % 8` bytes are left to the byte loop below (they are
    // judged without the word-based pre-tests).
    let words_end = hay.len() & !7;
    let mut prev = &Classes::default();
    for (k, c) in classes.iter().enumerate() {
        let at = 64 * k;
        let allowed = match words_end.checked_sub(at) {
            Some(n) if n >= 64 => u64::MAX,
            Some(n) => (1u64 << n) - 1,
            None => 0,
        };
        st.block(sink, classes, at, (c, prev), allowed);
        prev = c;
    }
    for i in words_end..hay.len() {
        if is_digit(hay[i]) && (i == 0 || !is_digit(hay[i - 1])) {
            st.short(sink, classes, i);
            let e = run_end(hay, i + 1);
            st.visit(sink, i, e);
        }
    }
}

/// End of the digit run that continues at `k`.
#[inline]
fn run_end(hay: &[u8], mut k: usize) -> usize {
    while k < hay.len() && is_digit(hay[k]) {
        k += 1;
    }
    k
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
    visit_after(p1, p2)
}

/// Whether a run whose two preceding bytes are `p1` (just before) and `p2` may start a number
/// or an IBAN: not glued to a word (`INV0012`, hex, `f3626358-466f`) unless after two capitals
/// (`DE89…`) or a JSON escape (`\n4111…`).
#[inline]
fn visit_after(p1: u8, p2: u8) -> bool {
    if is_alnum(p1) {
        (p1.is_ascii_uppercase() && p2.is_ascii_uppercase()) || p2 == b'\\'
    } else if p1 == b'-' || p1 == b'.' {
        !is_alnum(p2)
    } else {
        true
    }
}

/// The run starts among the digits `d` that a visit could turn into something: runs of nine
/// or more digits, runs followed by a byte of `sep` (a group that goes on: `415 555`,
/// `123-45`, `(415)`), and runs that reach the block's end (decided per start). A shorter
/// run with anything else after it is nothing ([`DigitScan::visit`] would say so).
#[inline(always)]
fn worth_a_visit(d: u64, sep: u64) -> u64 {
    // `nine`: bit i when bytes i..i+9 are all digits.
    let d2 = d & (d >> 1);
    let d4 = d2 & (d2 >> 2);
    let nine = d4 & (d4 >> 4) & (d >> 8);
    // Last digits followed by a separator, carried back to their run's start (up to seven
    // bytes: the runs that matter here are shorter than nine).
    let mut ok = d & !(d >> 1) & (sep >> 1);
    ok |= d & (ok >> 1);
    ok |= d2 & (ok >> 2);
    ok |= d4 & (ok >> 4);
    // The start of the run that reaches bit 63.
    let top = if d >> 63 != 0 {
        1u64 << ((64 - (!d).leading_zeros()) % 64)
    } else {
        0
    };
    nine | ok | top
}

/// Every byte (as all ones) of each eight-byte word that, with the word before it, holds
/// both letter cases: the cheap precondition for a short password. (It depends on where
/// words fall; the engine's fixed-point re-scan keeps redaction idempotent regardless.)
#[inline(always)]
fn mixed_case_words(c: &Classes, p: &Classes) -> u64 {
    let with_prev = |x: u64, px: u64| x | (x << 8) | (px >> 56);
    let (upper, lower) = (with_prev(c.upper, p.upper), with_prev(c.lower, p.lower));
    // High bit of each non-zero byte.
    let nonzero = |x: u64| ((x & !HI).wrapping_add(!HI) | x) & HI;
    let both = nonzero(upper) & nonzero(lower);
    (both >> 7) * 0xFF
}

const HI: u64 = 0x8080_8080_8080_8080;

struct DigitScan {
    /// End of the last run examined for a short password.
    short_done: usize,
    /// End of the last cluster or IBAN handled: digit runs before it are part of it.
    skip_to: usize,
    /// Forward-only position in the sink's finding index (see [`Sink::clear_of_findings`]).
    cursor: usize,
}

impl DigitScan {
    /// Handles the run starts of the block at `at` whose classes are `c` (`p`: the block
    /// before, zero for the first; `classes`: the whole text's), limited to the bits of
    /// `allowed`.
    #[inline(always)]
    fn block(
        &mut self,
        sink: &mut Sink<'_>,
        classes: &[Classes],
        at: usize,
        (c, p): (&Classes, &Classes),
        allowed: u64,
    ) {
        let d = c.digit;
        let starts = d & !((d << 1) | (p.digit >> 63)) & allowed;
        if starts == 0 {
            return;
        }
        // The class of the byte one (`…1`) and two (`…2`) before each byte.
        let one = |x: u64, px: u64| (x << 1) | (px >> 63);
        let two = |x: u64, px: u64| (x << 2) | (px >> 62);
        let (upper1, lower1) = (one(c.upper, p.upper), one(c.lower, p.lower));
        let joiner1 = one(c.joiner, p.joiner);
        let (upper2, backslash2) = (two(c.upper, p.upper), two(c.backslash, p.backslash));
        // Glued to a word, a run is only worth a visit after two capitals (an IBAN, `DE89…`)
        // or a JSON escape (`\n4111…`); every other glued start is dropped here.
        let glued = starts & ((upper1 & (upper2 | backslash2)) | (lower1 & backslash2));
        // After `-`/`.`: inside a word unless the byte before the joiner is not alphanumeric
        // as later rules see it, which is the raw byte when no finding is near.
        let joined = starts & joiner1;
        let free = starts & !(upper1 | lower1 | joiner1);
        let clear =
            joined == 0 || sink.clear_of_findings(at.saturating_sub(2), at + 64, &mut self.cursor);
        let (joined_slow, numbers) = if clear {
            (0, free | (joined & !two(c.alnum(), p.alnum())))
        } else {
            (joined, free)
        };
        let numbers = numbers & worth_a_visit(d, c.sep);
        let shorts = starts & mixed_case_words(c, p);
        let todo = shorts | glued | joined_slow | numbers;
        // Word by word, as the short-password check's precondition is per eight bytes: its
        // calls for a word come before the word's visits.
        let mut words = todo;
        while words != 0 {
            let w = words.trailing_zeros() & !7;
            let in_word = 0xFFu64 << w;
            words &= !in_word;
            let mut rest = shorts & in_word;
            while rest != 0 {
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                self.short(sink, classes, at + bit as usize);
            }
            let mut rest = (glued | joined_slow | numbers) & in_word;
            while rest != 0 {
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                let pos = at + bit as usize;
                let visit = if glued >> bit & 1 != 0 {
                    worth_visiting(sink, pos)
                } else if joined_slow >> bit & 1 != 0 {
                    if sink.clear_of_findings(pos.saturating_sub(2), pos, &mut self.cursor) {
                        !is_alnum(pos.checked_sub(2).map_or(0, |k| sink.hay[k]))
                    } else {
                        worth_visiting(sink, pos)
                    }
                } else {
                    true
                };
                if visit {
                    // The run's end from the bitmap, unless it reaches the block's end.
                    let len = (!(d >> bit)).trailing_zeros();
                    let e = if bit + len < 64 {
                        pos + len as usize
                    } else {
                        run_end(sink.hay, at + 64)
                    };
                    self.visit(sink, pos, e);
                }
            }
        }
    }

    /// Looks for a short password around the digit run starting at `d`.
    fn short(&mut self, sink: &mut Sink<'_>, classes: &[Classes], d: usize) {
        if d >= self.short_done {
            self.short_done = password::short_secret_around(sink, classes, d);
        }
    }

    /// Handles the digit run `[d, e)`.
    fn visit(&mut self, sink: &mut Sink<'_>, d: usize, e: usize) {
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
                sink.push(d - 2, end, crate::kind::Kind::IBAN);
                self.skip_to = end;
            }
            return;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use proptest::prelude::*;

    use super::*;

    fn bit(x: u64, i: u32) -> bool {
        i < 64 && x >> i & 1 != 0
    }

    proptest! {
        /// The mask form of "a run worth a visit" is the per-run rule: nine digits or more,
        /// or a separator right after, or a run that reaches the block's end.
        #[test]
        fn worth_a_visit_is_the_per_run_rule(d: u64, sep: u64) {
            let got = worth_a_visit(d, sep);
            for s in 0..64u32 {
                if !bit(d, s) || (s > 0 && bit(d, s - 1)) {
                    continue;
                }
                let len = (s..64).take_while(|&i| bit(d, i)).count() as u32;
                let want = len >= 9 || s + len == 64 || bit(sep, s + len);
                prop_assert_eq!(bit(got, s), want, "start {} of {:#x}", s, d);
            }
        }

        /// Every byte of a word is marked when the word and the one before hold both cases.
        #[test]
        fn mixed_case_words_is_the_per_word_rule(
            upper: u64, lower: u64, prev_upper: u64, prev_lower: u64,
        ) {
            let c = Classes { upper, lower, ..Classes::default() };
            let p = Classes { upper: prev_upper, lower: prev_lower, ..Classes::default() };
            let got = mixed_case_words(&c, &p);
            let byte = |x: u64, w: i32| if w < 0 { x >> 56 & 0xFF } else { x >> (8 * w) & 0xFF };
            for w in 0..8i32 {
                let (u, l) = (byte(upper, w), byte(lower, w));
                let (pu, pl) = if w == 0 {
                    (byte(prev_upper, -1), byte(prev_lower, -1))
                } else {
                    (byte(upper, w - 1), byte(lower, w - 1))
                };
                let want = if (u | pu) != 0 && (l | pl) != 0 { 0xFF } else { 0 };
                prop_assert_eq!(got >> (8 * w) & 0xFF, want, "word {}", w);
            }
        }
    }
}
