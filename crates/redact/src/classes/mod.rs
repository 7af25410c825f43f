//! Byte classes of a text as bitmaps, one [`Classes`] per 64-byte block (bit `i` is byte `i`
//! of the block), for the scans that decide many positions at once with shifts and ands
//! instead of one branch per byte: the digit scan and the long-token scan.
//!
//! Three ways to the same bitmaps (tested against each other):
//! * [`avx2`]: two nibble-table lookups (`pshufb`) classify 32 bytes for every class at
//!   once, when the CPU has AVX2 (checked at run time: the only `unsafe` in the crate);
//! * [`sse2`]: compares and `movemask`, 16 bytes at a time (the x86-64 baseline, through
//!   `safe_arch`);
//! * [`by_bytes`]: a byte loop, elsewhere.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2;
#[cfg(test)]
mod tests;

/// The classes of one block. Bytes past the end of a text are zero and belong to none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Classes {
    /// `[0-9]`
    pub digit: u64,
    /// `[A-Z]`
    pub upper: u64,
    /// `[a-z]`
    pub lower: u64,
    /// `\`
    pub backslash: u64,
    /// `-` and `.`: they join the parts of a word (`f3626358-466f`, `v1.2`).
    pub joiner: u64,
    /// What may follow a digit group that goes on: ` `, `-`, `.`, `(`, `)`.
    pub sep: u64,
    /// Token bytes as [`crate::text::is_token_or_symbol`]: `[A-Za-z0-9+/_.~-]` and the
    /// symbols `=!#%^&*()@$`.
    pub token: u64,
}

impl Classes {
    /// `[A-Za-z0-9]`
    #[inline]
    pub fn alnum(&self) -> u64 {
        self.digit | self.upper | self.lower
    }
}

/// Texts of up to this many blocks are classified into an array on the stack: most values
/// (attribute keys and values, ids) are a few dozen bytes, and an allocation would cost
/// more than classifying them.
const ON_STACK: usize = 4;

/// Calls `f` with the classes of every 64-byte block of `hay`, the last one zero-padded.
pub(crate) fn with_classes<R>(hay: &[u8], f: impl FnOnce(&[Classes]) -> R) -> R {
    let n = hay.len().div_ceil(64);
    if n <= ON_STACK {
        let mut stack = [Classes::default(); ON_STACK];
        let slots = stack.get_mut(..n).unwrap_or_default();
        classify_into(hay, slots);
        f(slots)
    } else {
        f(&classify_text(hay))
    }
}

/// The classes of every 64-byte block of `hay`, the last one zero-padded.
pub(crate) fn classify_text(hay: &[u8]) -> Vec<Classes> {
    let mut out = vec![Classes::default(); hay.len().div_ceil(64)];
    classify_into(hay, &mut out);
    out
}

/// Fills `out` (one slot per 64-byte block of `hay`) with the blocks' classes.
fn classify_into(hay: &[u8], out: &mut [Classes]) {
    #[cfg(target_arch = "x86_64")]
    if avx2::classify_into(hay, out) {
        return;
    }
    for (slot, block) in out.iter_mut().zip(hay.chunks(64)) {
        *slot = match <&[u8; 64]>::try_from(block) {
            Ok(block) => classify(block),
            Err(_) => classify(&padded(block)),
        };
    }
}

/// `rest` (at most 64 bytes) followed by zeros.
#[inline]
pub(crate) fn padded(rest: &[u8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    let n = rest.len().min(64);
    if let (Some(dst), Some(src)) = (block.get_mut(..n), rest.get(..n)) {
        dst.copy_from_slice(src);
    }
    block
}

/// The classes of `block`, without AVX2.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
pub(crate) fn classify(block: &[u8; 64]) -> Classes {
    let mut c = Classes::default();
    for (k, lane) in block.chunks_exact(16).enumerate() {
        let Ok(lane) = <&[u8; 16]>::try_from(lane) else {
            continue;
        };
        let l = sse2::classify16(lane);
        let at = 16 * k;
        c.digit |= u64::from(l.digit) << at;
        c.upper |= u64::from(l.upper) << at;
        c.lower |= u64::from(l.lower) << at;
        c.backslash |= u64::from(l.backslash) << at;
        c.joiner |= u64::from(l.joiner) << at;
        c.sep |= u64::from(l.sep) << at;
        c.token |= u64::from(l.token) << at;
    }
    c
}

/// The classes of `block`.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
pub(crate) fn classify(block: &[u8; 64]) -> Classes {
    by_bytes(block)
}

/// The byte loop: the portable path, and the reference the vector paths are tested against.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
pub(crate) fn by_bytes(block: &[u8; 64]) -> Classes {
    let mut c = Classes::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        let set = |m: &mut u64, on: bool| {
            if on {
                *m |= bit;
            }
        };
        set(&mut c.digit, b.is_ascii_digit());
        set(&mut c.upper, b.is_ascii_uppercase());
        set(&mut c.lower, b.is_ascii_lowercase());
        set(&mut c.backslash, b == b'\\');
        set(&mut c.joiner, matches!(b, b'-' | b'.'));
        set(&mut c.sep, matches!(b, b' ' | b'-' | b'.' | b'(' | b')'));
        set(&mut c.token, crate::text::is_token_or_symbol(b));
    }
    c
}

/// Whether `t` holds an upper-case and a lower-case ASCII letter: 16 bytes at a time, the
/// last 16 overlapping the ones before.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
pub(crate) fn mixed_case(t: &[u8]) -> bool {
    if t.len() < 16 {
        return mixed_case_by_bytes(t);
    }
    let (mut upper, mut lower) = (0u16, 0u16);
    let last = t.get(t.len() - 16..).map(<&[u8; 16]>::try_from);
    for lane in t.chunks_exact(16).map(<&[u8; 16]>::try_from).chain(last) {
        if let Ok(lane) = lane {
            let (u, l) = sse2::cases16(lane);
            upper |= u;
            lower |= l;
        }
        if upper != 0 && lower != 0 {
            return true;
        }
    }
    false
}

/// Whether `t` holds an upper-case and a lower-case ASCII letter.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
pub(crate) fn mixed_case(t: &[u8]) -> bool {
    mixed_case_by_bytes(t)
}

/// [`mixed_case`], a byte at a time.
pub(crate) fn mixed_case_by_bytes(t: &[u8]) -> bool {
    t.iter().any(u8::is_ascii_uppercase) && t.iter().any(u8::is_ascii_lowercase)
}

/// True when `t` holds a symbol of hand-made secrets (`=!#%^&*()@$`): 16 bytes at a time,
/// the last 16 overlapping the ones before.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
pub(crate) fn has_symbol(t: &[u8]) -> bool {
    if t.len() < 16 {
        return crate::text::has_symbol_by_bytes(t);
    }
    let last = t.get(t.len() - 16..).map(<&[u8; 16]>::try_from);
    t.chunks_exact(16)
        .map(<&[u8; 16]>::try_from)
        .chain(last)
        .any(|lane| lane.is_ok_and(|lane| sse2::symbols16(lane) != 0))
}

/// True when `t` holds a symbol of hand-made secrets.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
pub(crate) fn has_symbol(t: &[u8]) -> bool {
    crate::text::has_symbol_by_bytes(t)
}
