//! The digit scan: finds the first digit of every digit run 64 bytes at a time and hands
//! the runs that can start something to the number rules ([`crate::rules::pii`]: cards, SSNs,
//! phones, IPv4, IBANs) and to the short-password check ([`password::short_secret_around`]).
//!
//! Each block's byte classes are bitmaps ([`classify`]), so most run starts are decided for
//! the whole block with shifts and ands: glued to a word (`INV0012`, hex, uuids), after a
//! `-`/`.` inside a word (`f3626358-466f`, `v1.2`), or short with nothing after them that
//! could continue a number. Only the rest, about one start in eight, reaches per-start code.

use crate::classes::{Classes, classify, classify_tail, digits};
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
/// sampled long-token scan steps over.
pub(crate) fn scan_digits(sink: &mut Sink<'_>) {
    let hay = sink.hay;
    let mut st = DigitScan {
        short_done: 0,
        skip_to: 0,
        cursor: 0,
    };
    // Run starts in the last `len % 8` bytes are left to the byte loop below (they are
    // judged without the word-based pre-tests).
    let words_end = hay.len() & !7;
    // The block before, when it was classified; only its digits when it held no run start.
    let mut prev = Classes::default();
    let mut prev_block: Option<&[u8; 64]> = None;
    let mut blocks = hay.chunks_exact(64);
    let mut at = 0usize;
    for block in blocks.by_ref() {
        if let Ok(block) = <&[u8; 64]>::try_from(block) {
            st.block(sink, at, block, &mut prev, &mut prev_block, u64::MAX);
        }
        at += 64;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mut padded = [0u8; 64];
        if let Some(dst) = padded.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        let allowed = (1u64 << (words_end - at)) - 1;
        st.block(sink, at, &padded, &mut prev, &mut prev_block, allowed);
    }
    for i in words_end..hay.len() {
        if is_digit(hay[i]) && (i == 0 || !is_digit(hay[i - 1])) {
            st.short(sink, i);
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
    /// Classifies the block `bytes` at `at` and handles its run starts among the bits of
    /// `allowed`. `prev` holds the classes of the block before (zero for the first):
    /// only its digits when `prev_block` is `Some`, which is then that block.
    #[inline(always)]
    fn block<'h>(
        &mut self,
        sink: &mut Sink<'_>,
        at: usize,
        bytes: &'h [u8; 64],
        prev: &mut Classes,
        prev_block: &mut Option<&'h [u8; 64]>,
        allowed: u64,
    ) {
        let d = digits(bytes);
        let starts = d & !((d << 1) | (prev.digit >> 63)) & allowed;
        if starts == 0 {
            // Most blocks need only their digits: the rest is classified when the next block
            // asks for it.
            *prev = Classes {
                digit: d,
                ..Classes::default()
            };
            *prev_block = Some(bytes);
            return;
        }
        if let Some(before) = prev_block.take() {
            *prev = classify_tail(before);
        }
        let c = &classify(bytes);
        let p = &*prev;
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
                self.short(sink, at + bit as usize);
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
        *prev = *c;
    }

    /// Looks for a short password around the digit run starting at `d`.
    fn short(&mut self, sink: &mut Sink<'_>, d: usize) {
        if d >= self.short_done {
            self.short_done = password::short_secret_around(sink, d);
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
