//! High-entropy tokens with no vendor prefix: a 40-character AWS secret pasted on its own, a
//! random bearer token in a chat message, a Django `SECRET_KEY` at the end of a prompt, a
//! 32-hex Datadog key after "new value →".
//!
//! Candidates are the runs of at least `MIN_RUN` token bytes, found from the text's token
//! bitmaps ([`crate::classes`]) 64 bytes at a time; a run's bytes are read only when it is
//! examined. Hex strings additionally need a credential
//! cue nearby and no hash/id cue (git SHAs, digests, trace ids, ETags are not secrets); mixed
//! alphabets need randomness (case/digit transitions, distinct bytes) and must not decode to
//! text, be a typed id (`req_…`, `msg_…`) or sit in public-key material.

use memchr::memmem;

use crate::classes::{Classes, has_symbol, mixed_case};
use crate::json;
use crate::kind::Kind;
use crate::rules::Sink;
use crate::rules::{keyword, password};
use crate::text::{is_name, is_token};
use crate::validate::{self, shape};

/// Shortest run the long-token scan examines; shorter passwords are found from their digits
/// ([`password::short_secret_around`]).
pub(crate) const MIN_RUN: usize = 20;
/// Shortest token examined as a key or token rather than a password.
const LONG_RUN: usize = 20;
/// Shortest stand-alone password.
pub(crate) const MIN_PASSWORD: usize = 12;

/// Confirms a token that starts with a short vendor prefix (`SG.`, `hf_`, `sk-`) at the given
/// offset; true when it reported it.
pub(crate) type Prefixed<'a> = &'a dyn Fn(&mut Sink<'_>, usize) -> bool;

/// Finds every maximal run of token bytes ([`crate::text::is_token_or_symbol`]) of `MIN_RUN` bytes or more,
/// in order, and examines each.
///
/// The runs come from the token bitmaps of 64-byte blocks ([`Classes::token`]): a run inside a block
/// is found with shifts and ands, one that reaches a block's end is carried into the next.
/// A run's letter cases come from the same bitmaps, so its bytes are only read again when it
/// is examined.
pub(crate) fn scan(sink: &mut Sink<'_>, classes: &[Classes], prefixed: Prefixed<'_>) {
    let mut runs = Runs::default();
    for (k, c) in classes.iter().enumerate() {
        runs.block(64 * k, c.token, &mut |s, e| run(sink, s, e, prefixed));
    }
    // The last block is zero-padded unless the text fills it: a run that reaches its end
    // ends with the text.
    let n = sink.hay.len();
    if let Some(start) = runs.open.take()
        && n - start >= MIN_RUN
    {
        run(sink, start, n, prefixed);
    }
}

/// One long run `[s, e)`.
fn run(sink: &mut Sink<'_>, s: usize, e: usize, prefixed: Prefixed<'_>) {
    if mixed_case(sink.hay.get(s..e).unwrap_or_default()) {
        examine_run(sink, s, e, prefixed);
    } else if e - s >= 32 {
        // No mix of upper and lower case (uuids, timestamps, snake_case code): only a pure
        // hex string can still be a secret.
        let symbols = has_symbol(sink.hay.get(s..e).unwrap_or_default());
        hex_only(sink, s, e, symbols);
    }
}

/// The long-run finder's state between blocks: the start of a run that reaches the end of
/// the block before.
#[derive(Default)]
struct Runs {
    open: Option<usize>,
}

/// Bits `0..k` (all of them for `k >= 64`).
#[inline(always)]
fn below(k: u32) -> u64 {
    if k >= 64 { u64::MAX } else { (1u64 << k) - 1 }
}

impl Runs {
    /// Reports, in order, the runs of `MIN_RUN` bytes or more that end in the block at `at`
    /// whose token bits are `t` (`emit(start, end)`), and carries the one that reaches its end.
    #[inline(always)]
    fn block(&mut self, at: usize, mut t: u64, emit: &mut impl FnMut(usize, usize)) {
        if let Some(start) = self.open.take() {
            let k = (!t).trailing_zeros();
            if k == 64 {
                self.open = Some(start);
                return;
            }
            if at + k as usize - start >= MIN_RUN {
                emit(start, at + k as usize);
            }
            t &= !below(k);
        }
        // The run that reaches bit 63 goes on in the next block.
        let mut top = None;
        if t >> 63 != 0 {
            let s = 64 - (!t).leading_zeros();
            top = Some(at + s as usize);
            t &= below(s);
        }
        // Bit i of `long`: bytes i..i + 20 are all token bytes.
        const _: () = assert!(MIN_RUN == 20);
        let t2 = t & (t >> 1);
        let t4 = t2 & (t2 >> 2);
        let t8 = t4 & (t4 >> 4);
        let mut long = t8 & (t8 >> 8) & (t4 >> 16);
        while long != 0 {
            let i = long.trailing_zeros();
            let before = !t & below(i);
            let s = if before == 0 {
                0
            } else {
                64 - before.leading_zeros()
            };
            // `t` has no bit 63 left, so the run ends inside the block.
            let e = i + (!(t >> i)).trailing_zeros();
            emit(at + s as usize, at + e as usize);
            long &= !below(e);
        }
        self.open = top;
    }
}

fn examine_run(sink: &mut Sink<'_>, mut s: usize, e: usize, prefixed: Prefixed<'_>) {
    let hay = sink.hay;
    // A run right after a backslash starts with the letter of a JSON escape (`\n`, `\u00e9`).
    if s > 0 && json::is_escape_start(hay, s - 1) {
        s += if hay.get(s) == Some(&b'u') { 5 } else { 1 };
    }
    // Parts already reported by the anchor rules split the run, exactly as their
    // `[REDACTED:…]` markers will: the pieces are judged on their own, so redacting the output
    // again finds nothing new.
    let mut seg = s;
    while seg < e {
        match sink.first_overlap(seg, e) {
            Some((fs, fe)) => {
                if fs > seg {
                    examine_segment(sink, seg, fs, prefixed);
                }
                seg = fe.max(seg + 1);
            }
            None => {
                examine_segment(sink, seg, e, prefixed);
                break;
            }
        }
    }
}

fn examine_segment(sink: &mut Sink<'_>, s: usize, e: usize, prefixed: Prefixed<'_>) {
    let hay = sink.hay;
    let mut found = false;
    // A long token recognised as benign (a digest, a key blob, a path) is not second-guessed
    // piece by piece as passwords.
    let mut judged = false;
    let mut a = s;
    while a < e {
        if !is_token(hay[a]) {
            a += 1;
            continue;
        }
        let mut b = a;
        while b < e && is_token(hay[b]) {
            b += 1;
        }
        let mut end = b;
        while end < e && end - b < 2 && hay[end] == b'=' {
            end += 1;
        }
        if end - a >= LONG_RUN {
            let (ta, tb) = trim(hay, a, end);
            match examine_token(sink, a, end, Some(prefixed)) {
                Verdict::Secret => {
                    // What is left on either side will stand alone once the token is replaced;
                    // judge it alone now, so a second pass over the output finds nothing new.
                    if ta > s {
                        examine_segment(sink, s, ta, prefixed);
                    }
                    if tb < e {
                        examine_segment(sink, tb, e, prefixed);
                    }
                    return;
                }
                Verdict::Benign => judged = true,
                Verdict::Plain => {}
            }
        }
        a = end.max(b);
    }
    if !judged && e.saturating_sub(s) >= 32 {
        found = examine_symbolic(sink, s, e);
    }
    if !found && !judged && e.saturating_sub(s) >= MIN_PASSWORD {
        password::password_pieces(sink, s, e);
    }
}

/// The fast path of [`examine_run`]: T-runs of exactly 32, 40 or 64 bytes. A run without a
/// symbol (`=`, `!`, …) is one token: uuids and timestamps cost a trim and a length test.
fn hex_only(sink: &mut Sink<'_>, s: usize, e: usize, symbols: bool) {
    let hay = sink.hay;
    if !symbols {
        let (ta, tb) = trim(hay, s, e);
        if matches!(tb - ta, 32 | 40 | 64) && is_case_hex(hay.get(ta..tb).unwrap_or_default()) {
            examine_token(sink, ta, tb, None);
        }
        return;
    }
    let mut a = s;
    while a < e {
        let mut b = a;
        while b < e && is_token(hay[b]) {
            b += 1;
        }
        let (ta, tb) = trim(hay, a, b);
        if matches!(tb - ta, 32 | 40 | 64) && is_case_hex(hay.get(ta..tb).unwrap_or_default()) {
            examine_token(sink, ta, tb, None);
        }
        a = b + 1;
    }
}

/// All hex digits, in one letter case.
fn is_case_hex(t: &[u8]) -> bool {
    t.iter().all(u8::is_ascii_hexdigit)
        && (t.iter().all(|c| !c.is_ascii_uppercase()) || t.iter().all(|c| !c.is_ascii_lowercase()))
}

pub(crate) fn trim(hay: &[u8], mut a: usize, mut b: usize) -> (usize, usize) {
    while a < b && matches!(hay[a], b'.' | b'/' | b'-' | b'~' | b'_') {
        a += 1;
    }
    while b > a && matches!(hay[b - 1], b'.' | b'-' | b'~') {
        b -= 1;
    }
    (a, b)
}

/// Hash / id cues: a hex string next to these is a digest or identifier, not a credential.
const BENIGN_CUES: &[&[u8]] = &[
    b"sha",
    b"md5",
    b"crc",
    b"commit",
    b"checkout",
    b"cherry",
    b"merge",
    b"rebase",
    b"revert",
    b"tree",
    b"blob",
    b"digest",
    b"checksum",
    b"hash",
    b"etag",
    b"cache",
    b"trace",
    b"span",
    b"uuid",
    b"guid",
    b"request",
    b"build",
    b"color",
    b"colour",
    b"wallet",
    b"0x",
    b"fingerprint",
    b"object",
    b"revision",
    b"nonce",
    b"integrity",
    b"version",
    b"parent",
    b"signature",
    b"image",
    b"container",
    b"layer",
];

/// Credential cues, including the German and Japanese words the prompts use.
const CREDENTIAL_CUES: &[&[u8]] = &[
    b"key",
    b"token",
    b"secret",
    b"passw",
    b"pwd",
    b"credential",
    b"auth",
    b"bearer",
    b"api",
    b"value",
    b"wert",
    b"schl\xc3\xbcssel",
    b"zugang",
    "認証".as_bytes(),
    "トークン".as_bytes(),
    "キー".as_bytes(),
    "鍵".as_bytes(),
    "パスワード".as_bytes(),
    "秘密".as_bytes(),
    "🔑".as_bytes(),
];

/// Lower-cased copy of the bytes around `[a, b)`.
fn window(hay: &[u8], a: usize, b: usize, before: usize, after: usize) -> Vec<u8> {
    let from = a.saturating_sub(before);
    let to = (b + after).min(hay.len());
    let mut w: Vec<u8> = hay.get(from..a).unwrap_or_default().to_ascii_lowercase();
    w.push(0);
    w.extend(
        hay.get(b..to)
            .unwrap_or_default()
            .iter()
            .map(u8::to_ascii_lowercase),
    );
    // Markers of an earlier pass (`[REDACTED:generic_secret]`) are not context: "secret" in
    // a marker must not turn a neighbouring hash into a credential on the second pass.
    for marker in [&b"[redacted:"[..], b"[dropped:"] {
        while let Some(k) = memmem::find(&w, marker) {
            let end = w[k..]
                .iter()
                .position(|&c| c == b']')
                .map_or(w.len(), |e| k + e + 1);
            w[k..end].fill(b' ');
        }
    }
    w
}

fn has_any(w: &[u8], cues: &[&[u8]]) -> bool {
    cues.iter().any(|c| memmem::find(w, c).is_some())
}

/// True when `id` appears as a word in the window (`id=`, `_id`, `message.id`).
fn has_id_word(w: &[u8]) -> bool {
    memmem::find_iter(w, b"id").any(|k| {
        let before = k.checked_sub(1).and_then(|j| w.get(j)).copied();
        let after = w.get(k + 2).copied();
        !before.is_some_and(|c| c.is_ascii_alphabetic())
            && !after.is_some_and(|c| c.is_ascii_alphabetic())
    })
}

/// The identifier a value is assigned to, if one sits right before it (`NAME=`, `"name": "`).
fn nearest_name(hay: &[u8], a: usize) -> Option<&[u8]> {
    let mut i = a;
    let stop = a.saturating_sub(10);
    while i > stop
        && hay.get(i - 1).is_some_and(|&c| {
            matches!(
                c,
                b' ' | b'\t' | b'"' | b'\'' | b'`' | b':' | b'=' | b'>' | b'\\' | b'(' | b','
            )
        })
    {
        i -= 1;
    }
    // A space alone does not assign anything ("cache key 4022fb…").
    if i == a
        || hay
            .get(i..a)
            .is_some_and(|sep| sep.iter().all(|&c| c == b' ' || c == b'\t'))
    {
        return None;
    }
    let e = i;
    while i > 0
        && e - i < 64
        && hay.get(i - 1).is_some_and(|&c| is_name(c))
        && json::escape_ending_at(hay, i).is_none()
    {
        i -= 1;
    }
    (e > i).then(|| hay.get(i..e)).flatten()
}

/// Name components that mark a value as an identifier or digest (`trace_id`, `spanId`,
/// `x-content-sha256`, `git_commit_id`).
fn benign_name(name: &[u8]) -> bool {
    const BENIGN: &[&[u8]] = &[
        b"id",
        b"ids",
        b"uuid",
        b"guid",
        b"sha",
        b"sha1",
        b"sha256",
        b"sha512",
        b"md5",
        b"hash",
        b"digest",
        b"checksum",
        b"etag",
        b"ref",
        b"rev",
        b"commit",
        b"revision",
        b"nonce",
        b"trace",
        b"span",
        b"traceid",
        b"spanid",
        b"integrity",
        b"fingerprint",
    ];
    let (comps, n) = keyword::components(name);
    comps.iter().take(n).any(|&(s, e)| {
        let c = name.get(s..e).unwrap_or_default();
        BENIGN.iter().any(|b| c.eq_ignore_ascii_case(b))
    })
}

/// What the high-entropy rule concluded about a token.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    /// Reported.
    Secret,
    /// Recognised as something that is not a secret (digest, key blob, path, typed id…).
    Benign,
    /// Not random enough to say.
    Plain,
}

fn examine_token(
    sink: &mut Sink<'_>,
    a: usize,
    b: usize,
    prefixed: Option<Prefixed<'_>>,
) -> Verdict {
    let hay = sink.hay;
    let (a, b) = trim(hay, a, b);
    if b - a < LONG_RUN || b - a > 512 {
        return Verdict::Plain;
    }
    if sink.is_covered(a, b) || sink.is_suppressed(a, b) {
        return Verdict::Benign;
    }
    let tok = hay.get(a..b).unwrap_or_default();
    if let Some(prefixed) = prefixed
        && [&b"SG."[..], b"hf_", b"sk-"]
            .iter()
            .any(|p| tok.starts_with(p))
        && prefixed(sink, a)
    {
        return Verdict::Secret;
    }
    // Twilio API key SID: SK + 32 hex.
    if tok.len() == 34
        && tok.starts_with(b"SK")
        && tok[2..]
            .iter()
            .all(|&c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    {
        sink.push(a, b, Kind::TWILIO);
        return Verdict::Secret;
    }
    let lower_hex = tok.iter().all(|&c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    let upper_hex = tok.iter().all(|&c| matches!(c, b'0'..=b'9' | b'A'..=b'F'));
    if lower_hex || upper_hex {
        if matches!(tok.len(), 32 | 40 | 64)
            && validate::looks_random(tok, 32)
            && let Some(kind) = hex_context(hay, a, b)
        {
            sink.push(a, b, kind);
            return Verdict::Secret;
        }
        return Verdict::Benign;
    }
    match mixed_secret(hay, a, tok) {
        Verdict::Secret => {}
        other => return other,
    }
    let kind = match nearest_name(hay, a) {
        Some(name) => match keyword_kind(name) {
            Some(k) => k,
            None if benign_name(name) => return Verdict::Benign,
            None => default_kind(tok),
        },
        None => default_kind(tok),
    };
    sink.push(a, b, kind);
    Verdict::Secret
}

fn default_kind(tok: &[u8]) -> Kind {
    if tok.len() == 40
        && tok
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+')
    {
        Kind::AWS_SECRET_ACCESS_KEY
    } else {
        Kind::GENERIC_SECRET
    }
}

fn keyword_kind(name: &[u8]) -> Option<Kind> {
    keyword::classify_name(name)
}

/// Typed ids (`req_011C…`, `msg_01…`, `toolu_01…`, `cus_…`): lower-case type, underscore,
/// random part. Vendor secrets that look like this (`sk_live_`, `whsec_`) have their own rules.
pub(crate) fn typed_id(tok: &[u8]) -> bool {
    let prefix_len = tok.iter().take_while(|c| c.is_ascii_lowercase()).count();
    (2..=12).contains(&prefix_len) && tok.get(prefix_len) == Some(&b'_')
}

/// A file path or URL path: most `/`-separated segments are lower-case names or capitalised
/// words (`/Users/lena/Code/app/.venv/lib/python3.12`). Random base64 almost never splits
/// into such segments.
fn path_like(tok: &[u8]) -> bool {
    let mut segs = 0;
    let mut wordy = 0;
    for seg in tok.split(|&c| c == b'/').filter(|s| !s.is_empty()) {
        segs += 1;
        let body = seg.strip_prefix(b".").unwrap_or(seg);
        let lower = body.iter().all(|&c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        });
        let capitalised = body.first().is_some_and(u8::is_ascii_uppercase)
            && body[1..]
                .iter()
                .all(|&c| c.is_ascii_lowercase() || matches!(c, b'.' | b'_' | b'-'));
        if lower || capitalised {
            wordy += 1;
        }
    }
    segs >= 2 && wordy * 4 >= segs * 3
}

/// Randomness and structure tests for a base62/base64/base64url token.
fn mixed_secret(hay: &[u8], a: usize, tok: &[u8]) -> Verdict {
    if typed_id(tok) || path_like(tok) {
        return Verdict::Benign;
    }
    if tok.starts_with(b"sha") && tok.iter().take(8).any(|&c| c == b'-' || c == b':') {
        return Verdict::Benign;
    }
    // SSH public keys (`AAAAB3NzaC1yc2E…`) and data URIs.
    if tok.starts_with(b"AAAA")
        && memmem::find(tok.get(..24).unwrap_or_default(), b"NzaC").is_some()
    {
        return Verdict::Benign;
    }
    if tok.len() < 24 {
        return Verdict::Plain;
    }
    let s = shape(tok);
    let random = s.upper
        && s.lower
        && s.distinct >= 12
        && (s.digit || (tok.len() >= 32 && s.transitions_pct >= 40))
        && s.transitions_pct >= 30;
    if !random || validate::is_placeholder(tok) {
        return Verdict::Plain;
    }
    let before = hay.get(a.saturating_sub(24)..a).unwrap_or_default();
    if memmem::find(before, b"base64,").is_some() || memmem::find(before, b"ssh-").is_some() {
        return Verdict::Benign;
    }
    let b64 = tok
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_'));
    if b64 && validate::base64_of_text(tok) {
        return Verdict::Benign;
    }
    Verdict::Secret
}

/// Decides whether a hex string is a credential from what surrounds it.
fn hex_context(hay: &[u8], a: usize, b: usize) -> Option<Kind> {
    if let Some(name) = nearest_name(hay, a) {
        if let Some(kind) = keyword_kind(name) {
            return Some(kind);
        }
        if benign_name(name) {
            return None;
        }
    }
    let w = window(hay, a, b, 64, 40);
    if has_any(&w, BENIGN_CUES) || has_id_word(&w) {
        return None;
    }
    if !has_any(&w, CREDENTIAL_CUES) {
        return None;
    }
    let wide = window(hay, a, b, 160, 80);
    Some(if memmem::find(&wide, b"twilio").is_some() {
        Kind::TWILIO
    } else if memmem::find(&wide, b"datadog").is_some() || memmem::find(&wide, b"dd_").is_some() {
        Kind::DATADOG_API_KEY
    } else {
        Kind::GENERIC_SECRET
    })
}

/// Hand-made secrets mixing symbols into the token (Django's `get_random_secret_key()`).
fn examine_symbolic(sink: &mut Sink<'_>, s: usize, e: usize) -> bool {
    let hay = sink.hay;
    let (a, b) = trim(hay, s, e);
    if b - a < 32 || b - a > 256 || sink.is_covered(a, b) || sink.is_suppressed(a, b) {
        return false;
    }
    let tok = hay.get(a..b).unwrap_or_default();
    let (count, distinct_symbols) = password::symbols(tok);
    let sh = shape(tok);
    let ok = count >= 3
        && distinct_symbols >= 2
        && sh.upper
        && sh.lower
        && sh.digit
        && sh.transitions_pct >= 40
        && sh.distinct >= 16;
    if ok {
        sink.push(a, b, Kind::GENERIC_SECRET);
    }
    ok
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::kind::KindSet;

    proptest::proptest! {
        /// The block-wise finder reports exactly the maximal runs of `MIN_RUN` token bytes
        /// or more, in order, whatever the block boundaries.
        #[test]
        fn long_runs_are_the_maximal_runs(
            blocks in proptest::collection::vec(proptest::prelude::any::<u64>(), 1..6),
            density in 0u32..4,
        ) {
            // Denser token bitmaps make long runs and runs across blocks likely.
            let blocks: Vec<u64> = blocks
                .iter()
                .enumerate()
                .map(|(k, &b)| (0..density).fold(b, |x, i| x | b.rotate_left(7 * i + k as u32)))
                .collect();
            let mut got = Vec::new();
            let mut runs = Runs::default();
            for (k, &t) in blocks.iter().enumerate() {
                runs.block(64 * k, t, &mut |s, e| got.push((s, e)));
            }
            let n = 64 * blocks.len();
            if let Some(start) = runs.open.take()
                && n - start >= MIN_RUN
            {
                got.push((start, n));
            }
            let is_token = |i: usize| blocks[i / 64] >> (i % 64) & 1 != 0;
            let mut want = Vec::new();
            let mut i = 0;
            while i < n {
                if !is_token(i) {
                    i += 1;
                    continue;
                }
                let s = i;
                while i < n && is_token(i) {
                    i += 1;
                }
                if i - s >= MIN_RUN {
                    want.push((s, i));
                }
            }
            proptest::prop_assert_eq!(got, want);
        }
    }

    fn found(t: &str) -> Vec<(String, Kind)> {
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        let classes = crate::classes::classify_text(t.as_bytes());
        scan(&mut s, &classes, &|_, _| false);
        s.findings()
            .iter()
            .map(|f| (t[f.start..f.end].to_string(), f.kind))
            .collect()
    }

    #[test]
    fn bare_secrets() {
        let aws = "uPsk2ZOHO5PkPqJth0CAKfQidmipfmswVj+bIxh0";
        assert_eq!(
            found(&format!("🚀🔥 {aws} 🚀")),
            vec![(aws.to_string(), Kind::AWS_SECRET_ACCESS_KEY)]
        );
        let b64 = "d+PUUfUONYRdbRheMqpgoyArpGaTZbtXHkFGgUGQPTI=";
        assert_eq!(found(&format!("{b64} is what I set")).len(), 1);
        let dj = "A#B-MVs7Zq+z5Uv-ba!rci8qI95^4=cug9%72SNXeoP^igrBoN";
        assert_eq!(
            found(&format!("here you go\n{dj}")),
            vec![(dj.to_string(), Kind::GENERIC_SECRET)]
        );
        let hex = "5634ea27c2c3c63302e56f8ca4e38e7f0d48fb5a";
        assert_eq!(found(&format!("new value → {hex}")).len(), 1);
        assert_eq!(
            found("Twilio: SKbbe1675919995ecee4abf6de7e2f067a done")[0].1,
            Kind::TWILIO
        );
    }

    #[test]
    fn benign_tokens() {
        for t in [
            "cache key 0123456789abcdef0123456789abcdef hit",
            "git checkout 0123456789abcdef0123456789abcdef01234567 && git cherry-pick 0123456",
            "{\"request_id\":\"req_011CAbCdEfGhIjKlMnOpQrSt\",\"message.id\":\"msg_01AbCdEfGhIjKlMnOpQrStUv\"}",
            "echo aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBjb25maWcgZmlsZSBmb3IgdGhlIHN0YWdpbmcgY2x1c3Rlcg== | base64 -d",
            "\"integrity\": \"sha512-Rk3x9vQ2mP7tL1wZ8yN4cB6dF0gH5jK2lM9nO3pQ7rS1tU5vW8xY2zA4bC6dE0fG==\"",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx7Yk2Pq9Lm3Nv8Rt5Wz1Xc4Vb6Nm0Qa deploy",
            "/Users/lena.mueller/Code/shop-frontend/src/components",
            "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "org.apache.commons.lang3.StringUtils.isBlank",
            "File \"/Users/lena.mueller/Code/shop-frontend/.venv/lib/python3.12/site-packages/sdk/client.py\"",
            "upgrade to getV2ClientConfig and OAuth2Provider",
            "see RFC-7519 and ISO-8601 (2025-01-01)",
        ] {
            assert!(found(t).is_empty(), "{t}: {:?}", found(t));
        }
    }
}
