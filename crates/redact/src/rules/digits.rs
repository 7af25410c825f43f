//! The digit scan: finds the first digit of every digit run eight bytes at a time and hands
//! the runs that can start something to the number rules ([`crate::rules::pii`]: cards, SSNs,
//! phones, IPv4, IBANs) and to the short-password check ([`password::short_secret_around`]).
//!
//! The loop over the text only computes a digit mask and the run starts of each word (no
//! loads beyond the word itself: whether the byte before a word is a digit is carried over
//! from the previous mask). Words with run starts go to [`DigitScan::chunk`], which decides
//! per start from the two bytes before it, and measures runs that end inside the word from the
//! mask instead of byte by byte.

use crate::json;
use crate::rules::iban::iban;
use crate::rules::pii::handle_run;
use crate::rules::{Sink, password};
use crate::swar::{HI, LO, digit_mask, eq_mask, lower_mask, upper_mask, word_at};
use crate::text::{is_alnum, is_digit, left_boundary};

/// Scans all digit runs, eight bytes at a time: only the first digit of each run is visited,
/// found as "digit whose previous byte is not a digit" in the word's digit mask.
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
    // Two words per step: most words hold no run start, and one test for both halves the
    // loop overhead.
    let mut pairs = hay.chunks_exact(16);
    let mut i = 0usize;
    // High bit of byte 0 set when the byte before the current word is a digit.
    let mut carry = 0u64;
    for pair in pairs.by_ref() {
        let (x0, x1) = (word_at(pair, 0), word_at(pair, 8));
        let (d0, d1) = (digit_mask(x0), digit_mask(x1));
        let s0 = d0 & !((d0 << 8) | carry);
        let s1 = d1 & !((d1 << 8) | (d0 >> 56));
        carry = d1 >> 56;
        if (s0 | s1) != 0 {
            if s0 != 0 {
                st.chunk(sink, i, x0, d0, s0);
            }
            if s1 != 0 {
                st.chunk(sink, i + 8, x1, d1, s1);
            }
        }
        i += 16;
    }
    if pairs.remainder().len() >= 8 {
        let x = word_at(hay, i);
        let d = digit_mask(x);
        let starts = d & !((d << 8) | carry);
        if starts != 0 {
            st.chunk(sink, i, x, d, starts);
        }
        i += 8;
    }
    while i < hay.len() {
        if is_digit(hay[i]) && (i == 0 || !is_digit(hay[i - 1])) {
            st.short(sink, i);
            let e = run_end(hay, i + 1);
            st.visit(sink, i, e);
        }
        i += 1;
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

/// The starts among `starts` (run starts of the word at `i`) that follow a letter and are
/// not after a capital or two bytes after a backslash: glued to a word (`a0128665`,
/// `f3626358`), which the per-start rules drop. Found for the whole word at once: nearly half
/// of all run starts are such, and dropping them here spares each its own branches.
#[inline(always)]
fn glued_starts(hay: &[u8], i: usize, starts: u64) -> u64 {
    let Some(&b2) = i.checked_sub(2).and_then(|k| hay.get(k)) else {
        return 0;
    };
    // Byte k of `xp` is the byte before byte k of the word.
    let xp = word_at(hay, i - 1);
    let letter = lower_mask(xp | (LO * 0x20));
    let backslash2 = (eq_mask(xp, b'\\') << 8) | (u64::from(b2 == b'\\') << 7);
    starts & letter & !upper_mask(xp) & !backslash2
}

struct DigitScan {
    /// End of the last run examined for a short password.
    short_done: usize,
    /// End of the last cluster or IBAN handled: digit runs before it are part of it.
    skip_to: usize,
    /// Forward-only position in the sink's finding index (see [`Sink::clear_of_findings`]).
    cursor: usize,
}

impl DigitScan {
    /// Handles the run starts (`starts`, high bits) of the word `x` at `i`, whose digit mask is
    /// `d`. Each start is judged from the byte before it first: most runs are glued to a word
    /// (hex, uuids) or follow `-`/`.` inside one, and cost a load and a table lookup.
    #[inline(always)]
    fn chunk(&mut self, sink: &mut Sink<'_>, i: usize, x: u64, d: u64, starts: u64) {
        let hay = sink.hay;
        // This word or the one before holds both letter cases: the cheap precondition for a
        // short password. (It depends on where words fall; the engine's fixed-point re-scan
        // keeps redaction idempotent regardless.)
        let mixed_case = {
            let (upper, lower) = (upper_mask(x), lower_mask(x));
            (upper != 0 && lower != 0) || {
                let prev = if i >= 8 { word_at(hay, i - 8) } else { 0 };
                (upper | upper_mask(prev)) != 0 && (lower | lower_mask(prev)) != 0
            }
        };
        let mut rest = starts;
        if mixed_case {
            while rest != 0 {
                let pos = i + (rest.trailing_zeros() / 8) as usize;
                rest &= rest - 1;
                self.short(sink, pos);
            }
            rest = starts;
        }
        let mut rest = rest & !glued_starts(hay, i, starts);
        while rest != 0 {
            let low = rest & rest.wrapping_neg();
            rest ^= low;
            let pos = i + (low.trailing_zeros() / 8) as usize;
            let p1 = pos.checked_sub(1).map_or(0, |k| hay[k]);
            let p2 = || pos.checked_sub(2).map_or(0, |k| hay[k]);
            if is_alnum(p1) {
                // Glued to a word (`INV0012`, hex, uuids): only after two capitals (an IBAN)
                // or a JSON escape (`\n4111`).
                let p2 = p2();
                if ((p1.is_ascii_uppercase() && p2.is_ascii_uppercase()) || p2 == b'\\')
                    && worth_visiting(sink, pos)
                {
                    self.visit(sink, pos, run_end(hay, pos + 1));
                }
                continue;
            }
            if p1 == b'-' || p1 == b'.' {
                // Inside a word (`f3626358-466f`, `v1.2`) unless the byte before is not
                // alphanumeric as later rules see it.
                let visit = if sink.clear_of_findings(pos.saturating_sub(2), pos, &mut self.cursor)
                {
                    !is_alnum(p2())
                } else {
                    worth_visiting(sink, pos)
                };
                if !visit {
                    continue;
                }
            }
            // The first non-digit after the start, from the mask when it is in this word. A
            // run that ends inside the word is shorter than nine digits: unless a separator
            // follows (` ` `-` `.` `(` `)`: a cluster may go on) it is nothing, and
            // [`DigitScan::visit`] would say so.
            let after = !d & HI & !((low << 1).wrapping_sub(1));
            if after != 0 {
                let e = i + (after.trailing_zeros() / 8) as usize;
                if matches!(hay[e], b' ' | b'-' | b'.' | b')' | b'(') {
                    self.visit(sink, pos, e);
                }
            } else {
                self.visit(sink, pos, run_end(hay, i + 8));
            }
        }
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
