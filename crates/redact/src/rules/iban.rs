//! IBANs: country code, two check digits and a country-length BBAN, electronic or grouped by
//! four, validated by ISO 7064 mod-97.

use crate::text::{is_alnum, is_digit};
use crate::validate;

/// An IBAN whose country code starts at `cs`, electronic or grouped by four with single
/// spaces; returns its end.
pub(crate) fn iban(hay: &[u8], cs: usize) -> Option<usize> {
    let check = hay.get(cs + 2..cs + 4)?;
    if !check.iter().all(|&b| is_digit(b)) {
        return None;
    }
    let up_or_digit = |b: u8| b.is_ascii_uppercase() || is_digit(b);
    let mut buf = [0u8; 34];
    buf[..4].copy_from_slice(hay.get(cs..cs + 4)?);
    // Electronic form.
    let mut j = cs + 4;
    while j < hay.len() && up_or_digit(hay[j]) && j - cs < 34 {
        j += 1;
    }
    if j - cs > 4 && hay.get(j).is_none_or(|&b| !is_alnum(b)) {
        let v = hay.get(cs..j)?;
        if validate::iban(v) {
            return Some(j);
        }
    }
    if j != cs + 4 {
        return None;
    }
    // Grouped form: "DE89 3704 0044 0532 0130 00". Try the longest valid prefix of groups.
    let mut n = 4;
    let mut ends: Vec<(usize, usize)> = Vec::new();
    let mut pos = cs + 4;
    while hay.get(pos) == Some(&b' ') && n < 34 {
        let s = pos + 1;
        let mut t = s;
        while t < hay.len() && t - s < 4 && up_or_digit(hay[t]) {
            t += 1;
        }
        if t == s || n + (t - s) > 34 {
            break;
        }
        for (k, &b) in hay.get(s..t)?.iter().enumerate() {
            buf[n + k] = b;
        }
        n += t - s;
        if hay.get(t).is_none_or(|&b| !is_alnum(b)) {
            ends.push((t, n));
        }
        if t - s < 4 {
            break;
        }
        pos = t;
    }
    ends.into_iter()
        .rev()
        .find(|&(_, len)| validate::iban(&buf[..len]))
        .map(|(t, _)| t)
}
