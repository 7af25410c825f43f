//! The SSE2 path of [`super`]: compares and `movemask`, 16 bytes at a time. SSE2 is part of
//! the x86-64 baseline, and `safe_arch` exposes it without `unsafe`.

use safe_arch::{
    bitand_m128i, bitandnot_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, m128i,
    min_u8_m128i, move_mask_i8_m128i, set_splat_i8_m128i, shl_imm_u16_m128i, sub_i8_m128i,
};

/// The classes of 16 bytes, bit `i` for byte `i`.
pub(super) struct Lane {
    pub digit: u16,
    pub upper: u16,
    pub lower: u16,
    pub backslash: u16,
    pub joiner: u16,
    pub sep: u16,
    pub token: u16,
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

/// Upper- and lower-case letters: letters of either case (folded to lower case), told apart
/// by bit 5 of the byte.
#[inline(always)]
fn letters(v: m128i) -> (u16, u16) {
    let letter = mask(in_range(bitor_m128i(v, splat(0x20)), b'a', 25));
    // Shifting each 16-bit lane left by two moves every byte's bit 5 to its bit 7.
    let bit5 = mask(shl_imm_u16_m128i::<2>(v));
    (letter & !bit5, letter & bit5)
}

/// Upper- and lower-case letters of `bytes`.
#[inline(always)]
pub(super) fn cases16(bytes: &[u8; 16]) -> (u16, u16) {
    letters(load_unaligned_m128i(bytes))
}

/// Token bytes: printable ASCII but ``"',:;<>?[\]`{|}``.
#[inline(always)]
fn tokens(v: m128i) -> u16 {
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
    mask(bitandnot_m128i(excluded, printable))
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

/// Every class of `bytes`.
#[inline(always)]
pub(super) fn classify16(bytes: &[u8; 16]) -> Lane {
    let v = load_unaligned_m128i(bytes);
    let digit = mask(in_range(v, b'0', 9));
    let (upper, lower) = letters(v);
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
        token: tokens(v),
    }
}
