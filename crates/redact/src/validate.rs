//! Validators that turn "looks like" into "is": checksums (Luhn, IBAN mod-97, GitHub CRC32),
//! number-plan rules (SSN, NANP), and the randomness / placeholder heuristics that separate a
//! real credential from `YOUR_API_KEY` or `sk_live_XXXXXXXX`.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::text::{class_bits, is_alnum, is_digit};

/// Luhn checksum over ASCII digits (non-digits make it fail).
pub(crate) fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(|&b| is_digit(b)) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &b) in digits.iter().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

fn num(digits: &[u8]) -> u32 {
    digits.iter().fold(0u32, |acc, &b| {
        acc.saturating_mul(10)
            .saturating_add(u32::from(b.wrapping_sub(b'0')))
    })
}

/// Issuer ranges for the networks we redact: Visa (16), Mastercard 51–55 and 2221–2720 (16),
/// Amex 34/37 (15), Discover 6011, 644–649, 65, 622126–622925 (16). Other lengths are left
/// alone on purpose: one random number in ten passes Luhn.
pub(crate) fn card_issuer_ok(d: &[u8]) -> bool {
    let p = |n: usize| num(d.get(..n).unwrap_or_default());
    match d.len() {
        16 => {
            d.first() == Some(&b'4')
                || (51..=55).contains(&p(2))
                || (2221..=2720).contains(&p(4))
                || p(4) == 6011
                || p(2) == 65
                || (644..=649).contains(&p(3))
                || (622126..=622925).contains(&p(6))
        }
        15 => matches!(p(2), 34 | 37),
        _ => false,
    }
}

/// A card number: issuer range and Luhn.
pub(crate) fn credit_card(digits: &[u8]) -> bool {
    card_issuer_ok(digits) && luhn(digits)
}

/// SSA rules: area 001–899 except 666, group 01–99, serial 0001–9999.
pub(crate) fn ssn(area: &[u8], group: &[u8], serial: &[u8]) -> bool {
    if area.len() != 3 || group.len() != 2 || serial.len() != 4 {
        return false;
    }
    let a = num(area);
    (1..=899).contains(&a) && a != 666 && num(group) != 0 && num(serial) != 0
}

/// NANP area code or exchange: `[2-9]XX`, not `N11`. Area codes with a middle 9 are reserved.
pub(crate) fn nanp(area: &[u8], exchange: &[u8]) -> bool {
    let ok3 =
        |x: &[u8]| x.len() == 3 && (b'2'..=b'9').contains(&x[0]) && !(x[1] == b'1' && x[2] == b'1');
    ok3(area) && ok3(exchange) && area[1] != b'9'
}

/// IBAN lengths per country (ISO 13616 registry, the common SEPA and non-SEPA ones).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BR", 29),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NL", 18),
    (b"NO", 15),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"SA", 24),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VG", 24),
    (b"XK", 20),
];

/// IBAN: known country length and ISO 7064 mod-97 == 1. `iban` is the electronic form
/// (no spaces), upper-case letters and digits.
pub(crate) fn iban(iban: &[u8]) -> bool {
    if iban.len() < 15
        || iban.len() > 34
        || !iban.iter().all(|&b| b.is_ascii_uppercase() || is_digit(b))
    {
        return false;
    }
    let (Some(cc), Some(check)) = (iban.get(..2), iban.get(2..4)) else {
        return false;
    };
    if !cc.iter().all(u8::is_ascii_uppercase) || !check.iter().all(|&b| is_digit(b)) {
        return false;
    }
    match IBAN_LENGTHS.iter().find(|(c, _)| c.as_slice() == cc) {
        Some((_, len)) if *len != iban.len() => return false,
        None => return false,
        _ => {}
    }
    let mut rem = 0u32;
    let rotated = iban[4..].iter().chain(iban[..4].iter());
    for &b in rotated {
        if is_digit(b) {
            rem = (rem * 10 + u32::from(b - b'0')) % 97;
        } else {
            let v = u32::from(b - b'A') + 10;
            rem = (rem * 100 + v) % 97;
        }
    }
    rem == 1
}

const fn crc32_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC32: [u32; 256] = crc32_table();

/// CRC-32 (IEEE 802.3), as used by GitHub token checksums.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC32[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// GitHub classic tokens (`ghp_` + 30 random + 6 checksum): the last 6 characters are the
/// base62 CRC32 of the 30 random ones, left-padded with '0'.
pub(crate) fn github_checksum(body36: &[u8]) -> bool {
    if body36.len() != 36 {
        return false;
    }
    let (random, check) = body36.split_at(30);
    let mut c = crc32(random);
    let mut enc = [b'0'; 6];
    for slot in enc.iter_mut().rev() {
        *slot = BASE62[(c % 62) as usize];
        c /= 62;
    }
    c == 0 && enc.as_slice() == check
}

/// Decodes standard or URL-safe base64 (padding optional); `None` on invalid input.
pub(crate) fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let s = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &b in s {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// True when base64 text decodes to mostly printable ASCII: encoded prose or JSON, not key
/// material.
pub(crate) fn base64_of_text(s: &[u8]) -> bool {
    match base64_decode(s) {
        Some(raw) if raw.len() >= 12 => {
            let printable = raw
                .iter()
                .filter(|&&b| (0x20..0x7F).contains(&b) || b == b'\n' || b == b'\t')
                .count();
            printable * 100 >= raw.len() * 90
        }
        _ => false,
    }
}

/// Shape statistics of a candidate value.
pub(crate) struct Shape {
    pub upper: bool,
    pub lower: bool,
    pub digit: bool,
    pub distinct: usize,
    /// Share of adjacent alphanumeric pairs whose class changes (digit/upper/lower), in
    /// percent, punctuation skipped. Random base62 is ~60, English identifiers 10–25.
    pub transitions_pct: usize,
}

pub(crate) fn shape(v: &[u8]) -> Shape {
    let mut seen = [0u64; 4];
    let (mut upper, mut lower, mut digit) = (false, false, false);
    let mut trans = 0usize;
    let mut pairs = 0usize;
    let mut prev: Option<u8> = None;
    for &b in v {
        seen[usize::from(b >> 6)] |= 1u64 << (b & 63);
        let c = class_bits(b);
        upper |= c == 2;
        lower |= c == 4;
        digit |= c == 1;
        // Punctuation is skipped: `org.apache.Foo` must not look random because of its dots.
        if c == 0 {
            continue;
        }
        if let Some(p) = prev {
            pairs += 1;
            if p != c {
                trans += 1;
            }
        }
        prev = Some(c);
    }
    let distinct = seen.iter().map(|w| w.count_ones() as usize).sum();
    Shape {
        upper,
        lower,
        digit,
        distinct,
        transitions_pct: trans * 100 / pairs.max(1),
    }
}

/// Words that mark a value as a placeholder or an already-redacted marker.
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"your_",
    b"your-",
    b"yourapi",
    b"yoursecret",
    b"yourtoken",
    b"your_api",
    b"replace",
    b"changeme",
    b"change_me",
    b"change-me",
    b"placeholder",
    b"example",
    b"redacted",
    b"dropped:",
    b"xxxx",
    b"****",
    b"....",
    b"\xe2\x80\xa6",
    b"insert",
    b"dummy",
    b"<",
    b"${",
    b"{{",
    b"here>",
    b"_here",
    b"-here",
    b"todo",
    b"fixme",
    b"secret_value",
    b"my_secret",
    b"mysecret",
    b"mypassword",
];

/// Values that are words, not credentials.
const PLACEHOLDER_VALUES: &[&[u8]] = &[
    b"null",
    b"none",
    b"nil",
    b"true",
    b"false",
    b"undefined",
    b"empty",
    b"string",
    b"password",
    b"secret",
    b"token",
    b"pass",
    b"passwd",
    b"required",
    b"optional",
    b"test",
    b"default",
    b"hidden",
    b"masked",
    b"unset",
    b"env",
    b"value",
    b"apikey",
    b"api_key",
    b"n/a",
    b"na",
];

/// True when `v` is obviously not a real credential: empty, a variable reference, a template,
/// a mask, or a placeholder word.
pub(crate) fn is_placeholder(v: &[u8]) -> bool {
    let Some(&first) = v.first() else { return true };
    if matches!(first, b'$' | b'<' | b'{' | b'[' | b'%' | b'*') {
        return true;
    }
    if v.iter().all(|&b| b == first) {
        return true;
    }
    if PLACEHOLDER_VALUES.iter().any(|p| v.eq_ignore_ascii_case(p)) {
        return true;
    }
    match &*PLACEHOLDER_FINDER {
        Some(ac) => ac.is_match(v),
        // Only if the automaton could not be built: the slow path, same answer.
        None => {
            let lower: Vec<u8> = v.iter().map(u8::to_ascii_lowercase).collect();
            PLACEHOLDER_WORDS
                .iter()
                .any(|w| memchr::memmem::find(&lower, w).is_some())
        }
    }
}

/// All placeholder words in one case-insensitive automaton: this check runs on every
/// candidate value, and one memmem searcher per word per call cost more than the whole scan.
static PLACEHOLDER_FINDER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(PLACEHOLDER_WORDS)
        .ok()
});

/// A high-entropy credential value: long enough, varied, not a placeholder.
///
/// The placeholder automaton (about a thousand instructions a call) runs last, only on values
/// whose shape already passed.
pub(crate) fn looks_random(v: &[u8], min_len: usize) -> bool {
    if v.len() < min_len {
        return false;
    }
    let s = shape(v);
    let classes = usize::from(s.upper) + usize::from(s.lower) + usize::from(s.digit);
    let hexlike = v.iter().all(|&b| b.is_ascii_hexdigit());
    let shaped = if hexlike {
        v.len() >= 16 && s.digit && s.distinct >= 8 && v.iter().any(|b| !b.is_ascii_digit())
    } else {
        s.distinct >= (v.len() / 3).clamp(6, 14)
            && classes >= 2
            && (s.digit || v.len() >= 24)
            && s.transitions_pct >= 20
    };
    shaped && !is_placeholder(v)
}

/// True when every byte is alphanumeric.
pub(crate) fn all_alnum(v: &[u8]) -> bool {
    v.iter().all(|&b| is_alnum(b))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn luhn_and_cards() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b"41111111111x1111"));
        assert!(credit_card(b"4111111111111111"));
        assert!(credit_card(b"5500000000000004"));
        assert!(credit_card(b"2221000000000009"));
        assert!(credit_card(b"378282246310005"));
        assert!(credit_card(b"6011111111111117"));
        // Luhn-valid but no issuer: starts with 1, or a 15-digit number that is not Amex.
        assert!(!credit_card(b"1111111111111117"));
        assert!(!credit_card(b"411111111111116"));
        // right issuer, wrong length
        assert!(!credit_card(b"41111111111111111"));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn(b"123", b"45", b"6789"));
        assert!(ssn(b"899", b"01", b"0001"));
        assert!(!ssn(b"000", b"45", b"6789"));
        assert!(!ssn(b"666", b"45", b"6789"));
        assert!(!ssn(b"900", b"45", b"6789"));
        assert!(!ssn(b"123", b"00", b"6789"));
        assert!(!ssn(b"123", b"45", b"0000"));
    }

    #[test]
    fn nanp_rules() {
        assert!(nanp(b"415", b"555"));
        assert!(nanp(b"212", b"200"));
        assert!(!nanp(b"115", b"555")); // area starts with 1
        assert!(!nanp(b"015", b"555"));
        assert!(!nanp(b"411", b"555")); // N11 area
        assert!(!nanp(b"415", b"911")); // N11 exchange
        assert!(!nanp(b"415", b"155")); // exchange starts with 1
        assert!(!nanp(b"495", b"555")); // reserved middle 9
    }

    #[test]
    fn iban_mod97() {
        assert!(iban(b"DE89370400440532013000"));
        assert!(iban(b"GB82WEST12345698765432"));
        assert!(!iban(b"DE88370400440532013000")); // check digits off by one
        assert!(!iban(b"GB82WEST1234569876543")); // wrong length for GB
        assert!(!iban(b"ZZ82WEST12345698765432")); // unknown country
        assert!(!iban(b"de89370400440532013000"));
    }

    #[test]
    fn github_crc() {
        // Construct a token with a valid checksum, then break it.
        let random = b"abcdefghijklmnopqrstuvwxyz0123";
        let mut c = crc32(random);
        let mut enc = [b'0'; 6];
        for slot in enc.iter_mut().rev() {
            *slot = BASE62[(c % 62) as usize];
            c /= 62;
        }
        let mut body = random.to_vec();
        body.extend_from_slice(&enc);
        assert!(github_checksum(&body));
        let last = body.len() - 1;
        body[last] = if body[last] == b'A' { b'B' } else { b'A' };
        assert!(!github_checksum(&body));
        assert!(!github_checksum(&[b'x'; 36]));
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn base64_helpers() {
        assert_eq!(base64_decode(b"aGVsbG8=").unwrap(), b"hello");
        assert!(base64_of_text(b"aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBjb25maWc="));
        assert!(!base64_of_text(
            b"d+PUUfUONYRdbRheMqpgoyArpGaTZbtXHkFGgUGQPTI="
        ));
        assert!(base64_decode(b"ab$c").is_none());
    }

    #[test]
    fn randomness() {
        assert!(looks_random(
            b"wsR1MY9NdD5ycjGMNFhahiWmpMOoKEsSldQv4kM9",
            16
        ));
        assert!(looks_random(b"45ef13816b49ef51e1199184a7451150", 16));
        assert!(!looks_random(b"YOUR_API_KEY", 8));
        assert!(!looks_random(b"XXXXXXXXXXXXXXXXXXXXXXXX", 8));
        assert!(!looks_random(b"xoxb-your-bot-token", 8));
        assert!(!looks_random(b"process.env.DATABASE", 8));
        assert!(is_placeholder(b"${DB_PASSWORD}"));
        assert!(is_placeholder(b"[REDACTED:jwt]"));
        assert!(!is_placeholder(b"Tulip-Harbor-Violet42"));
    }
}
