//! Byte classes of a 64-byte block as bitmaps (bit `i` is byte `i`), for the scans that
//! decide many positions at once with shifts and ands instead of one branch per byte.
//!
//! On x86-64 the bitmaps come from SSE2 compares and `movemask` (baseline on that target,
//! through `safe_arch`, so this crate stays free of `unsafe`); elsewhere from a byte loop.
//! Both give the same bitmaps (tested).

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
}

impl Classes {
    /// `[A-Za-z0-9]`
    #[inline]
    pub fn alnum(&self) -> u64 {
        self.digit | self.upper | self.lower
    }
}

/// What the long-token scan needs of a block: token bytes (as
/// [`crate::text::is_token_or_symbol`]) and the two letter cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tokens {
    /// `[A-Za-z0-9+/_.~-]` and the symbols `=!#%^&*()@$`.
    pub token: u64,
    /// `[A-Z]`
    pub upper: u64,
    /// `[a-z]`
    pub lower: u64,
}

/// The token classes of `block`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
pub(crate) fn tokens(block: &[u8; 64]) -> Tokens {
    let mut c = Tokens::default();
    for (k, lane) in block.chunks_exact(16).enumerate() {
        let Ok(lane) = <&[u8; 16]>::try_from(lane) else {
            continue;
        };
        let (token, upper, lower) = sse2::tokens16(lane);
        let at = 16 * k;
        c.token |= u64::from(token) << at;
        c.upper |= u64::from(upper) << at;
        c.lower |= u64::from(lower) << at;
    }
    c
}

/// The token classes of `block`.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
pub(crate) fn tokens(block: &[u8; 64]) -> Tokens {
    tokens_by_bytes(block)
}

/// The byte loop for [`tokens`].
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
pub(crate) fn tokens_by_bytes(block: &[u8; 64]) -> Tokens {
    let mut c = Tokens::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        if crate::text::is_token_or_symbol(b) {
            c.token |= bit;
        }
        if b.is_ascii_uppercase() {
            c.upper |= bit;
        }
        if b.is_ascii_lowercase() {
            c.lower |= bit;
        }
    }
    c
}

/// The classes of `block`.
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
    }
    c
}

/// The digits of `block`: [`Classes::digit`] alone, for the blocks that hold no digit run
/// start and need nothing else.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
pub(crate) fn digits(block: &[u8; 64]) -> u64 {
    let mut d = 0;
    for (k, lane) in block.chunks_exact(16).enumerate() {
        if let Ok(lane) = <&[u8; 16]>::try_from(lane) {
            d |= u64::from(sse2::digits16(lane)) << (16 * k);
        }
    }
    d
}

/// The digits of `block`.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
pub(crate) fn digits(block: &[u8; 64]) -> u64 {
    by_bytes(block).digit
}

/// The classes of the last 16 bytes of `block` (bits 48 to 63; the rest zero): all that the
/// next block's scan reads of the block before it.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
pub(crate) fn classify_tail(block: &[u8; 64]) -> Classes {
    let Some(Ok(lane)) = block.get(48..).map(<&[u8; 16]>::try_from) else {
        return Classes::default();
    };
    let l = sse2::classify16(lane);
    Classes {
        digit: u64::from(l.digit) << 48,
        upper: u64::from(l.upper) << 48,
        lower: u64::from(l.lower) << 48,
        backslash: u64::from(l.backslash) << 48,
        joiner: u64::from(l.joiner) << 48,
        sep: u64::from(l.sep) << 48,
    }
}

/// The classes of the last 16 bytes of `block`.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
pub(crate) fn classify_tail(block: &[u8; 64]) -> Classes {
    let c = by_bytes(block);
    let top = !0u64 << 48;
    Classes {
        digit: c.digit & top,
        upper: c.upper & top,
        lower: c.lower & top,
        backslash: c.backslash & top,
        joiner: c.joiner & top,
        sep: c.sep & top,
    }
}

/// The classes of `block`.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
pub(crate) fn classify(block: &[u8; 64]) -> Classes {
    by_bytes(block)
}

/// The byte loop: the portable path, and the reference the SSE2 path is tested against.
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
    }
    c
}

/// True when `t` holds a symbol of hand-made secrets (`=!#%^&*()@$`): 16 bytes at a time,
/// the last 16 overlapping the ones before.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
pub(crate) fn has_symbol(t: &[u8]) -> bool {
    if t.len() < 16 {
        return crate::text::has_symbol_by_bytes(t);
    }
    let mut lanes = t.chunks_exact(16);
    let mut any = lanes
        .by_ref()
        .any(|lane| <&[u8; 16]>::try_from(lane).is_ok_and(|lane| sse2::symbols16(lane) != 0));
    if !any
        && !lanes.remainder().is_empty()
        && let Some(Ok(last)) = t.get(t.len() - 16..).map(<&[u8; 16]>::try_from)
    {
        any = sse2::symbols16(last) != 0;
    }
    any
}

/// True when `t` holds a symbol of hand-made secrets.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
pub(crate) fn has_symbol(t: &[u8]) -> bool {
    crate::text::has_symbol_by_bytes(t)
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use safe_arch::{
        bitand_m128i, bitandnot_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i,
        m128i, min_u8_m128i, move_mask_i8_m128i, set_splat_i8_m128i, shl_imm_u16_m128i,
        sub_i8_m128i,
    };

    /// The classes of 16 bytes, bit `i` for byte `i`.
    pub(super) struct Lane {
        pub digit: u16,
        pub upper: u16,
        pub lower: u16,
        pub backslash: u16,
        pub joiner: u16,
        pub sep: u16,
    }

    #[inline(always)]
    fn splat(b: u8) -> m128i {
        set_splat_i8_m128i(i8::from_ne_bytes([b]))
    }

    #[inline(always)]
    fn mask(v: m128i) -> u16 {
        // `movemask` fills the low 16 bits only.
        (move_mask_i8_m128i(v) & 0xFFFF) as u16
    }

    /// Bytes of `v` in `lo..=lo + span` (unsigned), as all-ones lanes.
    #[inline(always)]
    fn in_range(v: m128i, lo: u8, span: u8) -> m128i {
        let t = sub_i8_m128i(v, splat(lo));
        cmp_eq_mask_i8_m128i(min_u8_m128i(t, splat(span)), t)
    }

    /// Letters of either case (folded to lower case), and bit 5 of every byte, which tells
    /// the cases apart: as `(letter, upper, lower)` bits.
    #[inline(always)]
    fn letters(v: m128i) -> (u16, u16, u16) {
        let letter = mask(in_range(bitor_m128i(v, splat(0x20)), b'a', 25));
        // Shifting each 16-bit lane left by two moves every byte's bit 5 to its bit 7.
        let bit5 = mask(shl_imm_u16_m128i::<2>(v));
        (letter, letter & !bit5, letter & bit5)
    }

    /// Token bytes (printable ASCII but ``"',:;<>?[\]`{|}``), upper and lower case.
    #[inline(always)]
    pub(super) fn tokens16(bytes: &[u8; 16]) -> (u16, u16, u16) {
        let v = load_unaligned_m128i(bytes);
        let eq = |b: u8| cmp_eq_mask_i8_m128i(v, splat(b));
        let printable = in_range(v, 0x21, 0x7E - 0x21);
        // `:;<=>?` but `=`, and `[\]` with `{|}` (the same bytes but bit 5).
        let colon_to_question = bitandnot_m128i(eq(b'='), in_range(v, b':', 5));
        let brackets = in_range(bitor_m128i(v, splat(0x20)), b'{', 2);
        let quotes = bitor_m128i(
            bitor_m128i(eq(b'"'), eq(b'\'')),
            bitor_m128i(eq(b','), eq(b'`')),
        );
        let excluded = bitor_m128i(bitor_m128i(colon_to_question, brackets), quotes);
        let token = mask(bitandnot_m128i(excluded, printable));
        let (_, upper, lower) = letters(v);
        (token, upper, lower)
    }

    /// The symbols of hand-made secrets: `!#$%&()*` (`!` to `*` but the quotes), `=@^`.
    #[inline(always)]
    pub(super) fn symbols16(bytes: &[u8; 16]) -> u16 {
        let v = load_unaligned_m128i(bytes);
        let eq = |b: u8| cmp_eq_mask_i8_m128i(v, splat(b));
        let bang_to_star = bitandnot_m128i(bitor_m128i(eq(b'"'), eq(b'\'')), in_range(v, b'!', 9));
        mask(bitor_m128i(
            bang_to_star,
            bitor_m128i(eq(b'='), bitor_m128i(eq(b'@'), eq(b'^'))),
        ))
    }

    #[inline(always)]
    pub(super) fn digits16(bytes: &[u8; 16]) -> u16 {
        mask(in_range(load_unaligned_m128i(bytes), b'0', 9))
    }

    #[inline(always)]
    pub(super) fn classify16(bytes: &[u8; 16]) -> Lane {
        let v = load_unaligned_m128i(bytes);
        let digit = mask(in_range(v, b'0', 9));
        let (_, upper, lower) = letters(v);
        let eq = |b: u8| cmp_eq_mask_i8_m128i(v, splat(b));
        let joiner = bitor_m128i(eq(b'-'), eq(b'.'));
        let paren = cmp_eq_mask_i8_m128i(bitand_m128i(v, splat(0xFE)), splat(b'('));
        let sep = bitor_m128i(bitor_m128i(joiner, eq(b' ')), paren);
        Lane {
            digit,
            upper,
            lower,
            backslash: mask(eq(b'\\')),
            joiner: mask(joiner),
            sep: mask(sep),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn every_byte_value_in_every_position() {
        for b in 0..=255u8 {
            for at in [0, 1, 15, 16, 31, 47, 63] {
                let mut block = [b'x'; 64];
                block[at] = b;
                assert_eq!(classify(&block), by_bytes(&block), "byte {b} at {at}");
                assert_eq!(tokens(&block), tokens_by_bytes(&block), "byte {b} at {at}");
                assert_eq!(digits(&block), by_bytes(&block).digit, "byte {b} at {at}");
                let tail = classify_tail(&block);
                let whole = by_bytes(&block);
                assert_eq!(tail.digit, whole.digit & !0 << 48, "byte {b} at {at}");
                assert_eq!(tail.upper, whole.upper & !0 << 48, "byte {b} at {at}");
                assert_eq!(tail.lower, whole.lower & !0 << 48, "byte {b} at {at}");
                assert_eq!(
                    tail.backslash,
                    whole.backslash & !0 << 48,
                    "byte {b} at {at}"
                );
                assert_eq!(tail.joiner, whole.joiner & !0 << 48, "byte {b} at {at}");
                assert_eq!(tail.sep, whole.sep & !0 << 48, "byte {b} at {at}");
            }
        }
        let mut block = [0u8; 64];
        block[..13].copy_from_slice(b"a0Z-.\\ ()9zA_");
        let c = classify(&block);
        assert_eq!(c.digit, 1 << 1 | 1 << 9);
        assert_eq!(c.upper, 1 << 2 | 1 << 11);
        assert_eq!(c.lower, 1 | 1 << 10);
        assert_eq!(c.backslash, 1 << 5);
        assert_eq!(c.joiner, 1 << 3 | 1 << 4);
        assert_eq!(c.sep, 0b11 << 3 | 0b111 << 6);
        assert_eq!(c.alnum(), c.digit | c.upper | c.lower);
    }

    proptest! {
        #[test]
        fn sse2_and_byte_loop_agree(v in proptest::collection::vec(any::<u8>(), 64)) {
            let block: [u8; 64] = v.try_into().unwrap();
            prop_assert_eq!(classify(&block), by_bytes(&block));
            prop_assert_eq!(tokens(&block), tokens_by_bytes(&block));
        }
    }
}
