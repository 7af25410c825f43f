//! The AVX2 path of [`super`]: every class of 32 bytes from two nibble-table lookups
//! (`pshufb`), when the CPU has AVX2.
//!
//! A byte's low nibble and its high nibble each index a 16-entry table of class bits; a bit
//! that is set in both entries is a class the byte belongs to, so each bit stands for the
//! bytes of a "rectangle" (some high nibbles × some low nibbles). The classes are unions of
//! these bits, plus three compares for the token bytes that fit no spare rectangle (`_`,
//! `=`, `@`).
//!
//! This is the crate's only `unsafe`: calling the `#[target_feature(enable = "avx2")]`
//! function after the run-time check that the CPU has AVX2. Inside it, the intrinsics are
//! safe calls, and the loads go through `safe_arch`'s checked 16-byte loads.
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_or_si256,
    _mm256_set_m128i, _mm256_set1_epi8, _mm256_setr_m128i, _mm256_shuffle_epi8, _mm256_slli_epi16,
    _mm256_srli_epi16,
};

use safe_arch::load_unaligned_m128i;

use super::{Classes, padded};

/// The class bits: each is a rectangle of `(high nibbles, low nibbles)`, as 16-bit sets.
const DIGIT: u8 = 1; // 3 × 0-9
const LETTER_A: u8 = 1 << 1; // 4, 6 × 1-F: `A-O`, `a-o`
const LETTER_B: u8 = 1 << 2; // 5, 7 × 0-A: `P-Z`, `p-z`
const BACKSLASH: u8 = 1 << 3; // 5 × C
const JOINER: u8 = 1 << 4; // 2 × D-E: `-.`
const SPACE_PAREN: u8 = 1 << 5; // 2 × 0, 8, 9: ` ()`
const PUNCT: u8 = 1 << 6; // 2 × all but 0, 2, 7, C: `!#$%&()*+-./`
const CARET_TILDE: u8 = 1 << 7; // 5, 7 × E: `^~`

const RECTANGLES: [(u8, u16, u16); 8] = [
    (DIGIT, 1 << 3, 0x03FF),
    (LETTER_A, 1 << 4 | 1 << 6, 0xFFFE),
    (LETTER_B, 1 << 5 | 1 << 7, 0x07FF),
    (BACKSLASH, 1 << 5, 1 << 0xC),
    (JOINER, 1 << 2, 1 << 0xD | 1 << 0xE),
    (SPACE_PAREN, 1 << 2, 1 | 1 << 8 | 1 << 9),
    (PUNCT, 1 << 2, !(1 | 1 << 2 | 1 << 7 | 1 << 0xC)),
    (CARET_TILDE, 1 << 5 | 1 << 7, 1 << 0xE),
];

/// The table indexed by high nibbles (`high`) or low nibbles.
const fn table(high: bool) -> [u8; 16] {
    let mut t = [0u8; 16];
    let mut r = 0;
    while r < RECTANGLES.len() {
        let (bit, highs, lows) = RECTANGLES[r];
        let set = if high { highs } else { lows };
        let mut n = 0;
        while n < 16 {
            if set & (1 << n) != 0 {
                t[n] |= bit;
            }
            n += 1;
        }
        r += 1;
    }
    t
}

static HIGH: [u8; 16] = table(true);
static LOW: [u8; 16] = table(false);

/// Classifies `hay` into `out` (a slot per 64-byte block) with AVX2 when the CPU has it;
/// false (and `out` untouched) when it does not.
pub(super) fn classify_into(hay: &[u8], out: &mut [Classes]) -> bool {
    if !std::is_x86_feature_detected!("avx2") {
        return false;
    }
    // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of a
    // `#[target_feature(enable = "avx2")]` function; it takes references and does no
    // pointer arithmetic.
    unsafe { classify_all(hay, out) };
    true
}

#[target_feature(enable = "avx2")]
fn classify_all(hay: &[u8], out: &mut [Classes]) {
    let t = tables();
    for (slot, block) in out.iter_mut().zip(hay.chunks(64)) {
        *slot = match <&[u8; 64]>::try_from(block) {
            Ok(block) => classify(block, t),
            Err(_) => classify(&padded(block), t),
        };
    }
}

/// The classes of 64 bytes.
#[target_feature(enable = "avx2")]
fn classify(block: &[u8; 64], t: Tables) -> Classes {
    let (Some(lo), Some(hi)) = (block.first_chunk::<32>(), block.last_chunk::<32>()) else {
        return Classes::default();
    };
    let (a, b) = (half(lo, t), half(hi, t));
    let join = |x: u32, y: u32| u64::from(x) | u64::from(y) << 32;
    Classes {
        digit: join(a.digit, b.digit),
        upper: join(a.upper, b.upper),
        lower: join(a.lower, b.lower),
        backslash: join(a.backslash, b.backslash),
        joiner: join(a.joiner, b.joiner),
        sep: join(a.sep, b.sep),
        token: join(a.token, b.token),
    }
}

/// The classes of 32 bytes, bit `i` for byte `i`.
struct Half {
    digit: u32,
    upper: u32,
    lower: u32,
    backslash: u32,
    joiner: u32,
    sep: u32,
    token: u32,
}

#[target_feature(enable = "avx2")]
fn load(bytes: &[u8; 32]) -> __m256i {
    let (Some(lo), Some(hi)) = (bytes.first_chunk::<16>(), bytes.last_chunk::<16>()) else {
        return _mm256_set1_epi8(0);
    };
    _mm256_setr_m128i(load_unaligned_m128i(lo).0, load_unaligned_m128i(hi).0)
}

/// The two lookup tables, in both 16-byte halves of a register (`pshufb` looks up within
/// each half).
#[derive(Clone, Copy)]
struct Tables {
    low: __m256i,
    high: __m256i,
}

#[target_feature(enable = "avx2")]
fn tables() -> Tables {
    let (low, high) = (load_unaligned_m128i(&LOW).0, load_unaligned_m128i(&HIGH).0);
    Tables {
        low: _mm256_set_m128i(low, low),
        high: _mm256_set_m128i(high, high),
    }
}

#[target_feature(enable = "avx2")]
fn half(bytes: &[u8; 32], t: Tables) -> Half {
    let v = load(bytes);
    let splat = |b: u8| _mm256_set1_epi8(i8::from_ne_bytes([b]));
    let nibble = splat(0x0F);
    let lows = _mm256_and_si256(v, nibble);
    let highs = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble);
    let c = _mm256_and_si256(
        _mm256_shuffle_epi8(t.low, lows),
        _mm256_shuffle_epi8(t.high, highs),
    );
    let mask = |m: __m256i| _mm256_movemask_epi8(m) as u32;
    // Bytes whose class bits meet `bits`.
    let any = |bits: u8| {
        !mask(_mm256_cmpeq_epi8(
            _mm256_and_si256(c, splat(bits)),
            splat(0),
        ))
    };
    let eq = |b: u8| _mm256_cmpeq_epi8(v, splat(b));
    let letter = any(LETTER_A | LETTER_B);
    // Shifting each 16-bit lane left by two moves every byte's bit 5 (lower case) to bit 7.
    let bit5 = mask(_mm256_slli_epi16::<2>(v));
    let odd_tokens = _mm256_or_si256(_mm256_or_si256(eq(b'_'), eq(b'=')), eq(b'@'));
    Half {
        digit: any(DIGIT),
        upper: letter & !bit5,
        lower: letter & bit5,
        backslash: any(BACKSLASH),
        joiner: any(JOINER),
        sep: any(JOINER | SPACE_PAREN),
        token: any(DIGIT | LETTER_A | LETTER_B | PUNCT | CARET_TILDE) | mask(odd_tokens),
    }
}

/// The classes of `block` with AVX2, or `None` when the CPU lacks it (for the tests).
#[cfg(test)]
pub(super) fn classify_block(block: &[u8; 64]) -> Option<Classes> {
    let mut out = Vec::new();
    classify_into(block, &mut out)
        .then(|| out.first().copied())
        .flatten()
}
