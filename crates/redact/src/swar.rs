//! Eight bytes at a time without SIMD intrinsics ("SIMD within a register"): each function
//! takes a little-endian 64-bit word of eight text bytes and returns a mask with the high bit
//! of every byte that passes the test. The scans turn those masks into positions with
//! `trailing_zeros() / 8`.

pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
pub(crate) const HI: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte of `x` that lies in `lo..=hi` (ASCII only). The high bits are cleared
/// before adding, so no carry crosses into the next byte.
#[inline]
pub(crate) fn range_mask(x: u64, lo: u8, hi: u8) -> u64 {
    let y = x & !HI;
    let ge = y.wrapping_add(LO * u64::from(0x80 - lo));
    let gt = y.wrapping_add(LO * u64::from(0x7F - hi));
    ge & !gt & !x & HI
}

/// `[0-9]`: the bytes that `^ '0'` maps below 10 (six operations instead of the eight of
/// [`range_mask`]; the digit scan computes this for every word of the text).
#[inline]
pub(crate) fn digit_mask(x: u64) -> u64 {
    let t = x ^ (LO * u64::from(b'0'));
    // (t & 0x7f) + 0x76 sets the high bit iff the low seven bits are >= 10; no carries cross.
    !(((t & !HI).wrapping_add(LO * 0x76)) | t) & HI
}

/// `[A-Z]`
#[inline]
pub(crate) fn upper_mask(x: u64) -> u64 {
    range_mask(x, b'A', b'Z')
}

/// `[a-z]`
#[inline]
pub(crate) fn lower_mask(x: u64) -> u64 {
    range_mask(x, b'a', b'z')
}

/// `[A-Za-z0-9]`
#[cfg(test)]
pub(crate) fn alnum_mask(x: u64) -> u64 {
    digit_mask(x) | upper_mask(x) | lower_mask(x)
}

/// High bit of each byte of `x` equal to `b` (exact: no borrow crosses bytes).
#[inline]
pub(crate) fn eq_mask(x: u64, b: u8) -> u64 {
    let t = x ^ (LO * u64::from(b));
    !(((t & !HI).wrapping_add(!HI)) | t) & HI
}

/// The eight bytes at `k` as a little-endian word (zero-padded past the end).
#[inline]
pub(crate) fn word_at(hay: &[u8], k: usize) -> u64 {
    // A fixed-size copy is one load; a variable-length one is a `memcpy` call.
    if let Some(src) = hay.get(k..k.saturating_add(8))
        && let Ok(w) = <[u8; 8]>::try_from(src)
    {
        return u64::from_le_bytes(w);
    }
    let mut w = [0u8; 8];
    if let Some(src) = hay.get(k..(k + 8).min(hay.len())) {
        w[..src.len()].copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn masks() {
        let x = u64::from_le_bytes(*b"a0Z9 z\xc3/");
        assert_eq!(digit_mask(x), 0x80 << 8 | 0x80 << 24);
        assert_eq!(eq_mask(x, b'/'), 0x80 << 56);
        assert_eq!(
            eq_mask(u64::from_le_bytes(*b"--\x00-a-\xad-"), b'-'),
            0x80 | 0x80 << 8 | 0x80 << 24 | 0x80 << 40 | 0x80 << 56
        );
        assert_eq!(
            alnum_mask(x),
            0x80 | 0x80 << 8 | 0x80 << 16 | 0x80 << 24 | 0x80 << 40
        );
        for b in 0..=255u8 {
            let x = u64::from(b) << 24;
            assert_eq!(digit_mask(x) != 0, b.is_ascii_digit(), "{b}");
            assert_eq!(upper_mask(x) != 0, b.is_ascii_uppercase(), "{b}");
            assert_eq!(lower_mask(x) != 0, b.is_ascii_lowercase(), "{b}");
        }
        assert_eq!(word_at(b"abc", 1), u64::from_le_bytes(*b"bc\0\0\0\0\0\0"));
    }
}
