//! Everything around an `@` (found by memchr): the password of `scheme://user:pass@host`
//! ([`crate::rules::url`]) and e-mail addresses, grown outwards and checked (local part,
//! dotted domain, alphabetic top-level domain; not `/@scope/pkg`, `git@host:repo`).

use crate::json;
use crate::kind::Kind;
use crate::rules::{Sink, url};
use crate::text::is_alnum;

/// Local-part bytes of an e-mail address.
fn is_local(b: u8) -> bool {
    is_alnum(b) || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// Scans every `@`: the end of a URL's `user:password`, or the middle of an e-mail address.
pub(crate) fn scan_at_signs(sink: &mut Sink<'_>) {
    let hay = sink.hay;
    let mut last_end = 0;
    let emails = sink.wants(Kind::EMAIL);
    for at in memchr::memchr_iter(b'@', hay) {
        if url::basic_auth_at(sink, at) || !emails || at < last_end {
            continue;
        }
        let mut ls = at;
        while ls > 0
            && at - ls < 64
            && is_local(hay[ls - 1])
            && json::escape_ending_at(hay, ls).is_none()
        {
            ls -= 1;
        }
        // A finding next to the address is a boundary, as its marker will be.
        let after_finding = match sink.last_end_within(ls, at) {
            Some(end) => {
                ls = end;
                true
            }
            None => false,
        };
        while ls < at && hay[ls] == b'.' {
            ls += 1;
        }
        if ls == at || hay[at - 1] == b'.' {
            continue;
        }
        // `scheme://user:pass@host` and `/@scope/pkg` are not addresses.
        if let Some(&p) = ls
            .checked_sub(1)
            .and_then(|k| hay.get(k))
            .filter(|_| !after_finding)
        {
            let mailto = hay.get(..ls).is_some_and(|h| h.ends_with(b"mailto:"));
            if (p == b':' && !mailto) || p == b'/' {
                continue;
            }
        }
        let ds = at + 1;
        let mut de = ds;
        while de < hay.len()
            && de - ds < 253
            && (is_alnum(hay[de]) || matches!(hay[de], b'-' | b'.'))
        {
            de += 1;
        }
        while de > ds && matches!(hay[de - 1], b'.' | b'-') {
            de -= 1;
        }
        let scanned = hay.get(ds..de).unwrap_or_default();
        let Some(dot) = scanned.iter().rposition(|&b| b == b'.') else {
            continue;
        };
        // The top-level domain is letters only; whatever is glued after it
        // (`a@b.com-----BEGIN`) is not part of the address.
        let tld_len = scanned[dot + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        de = ds + dot + 1 + tld_len;
        let domain = &scanned[..dot + 1 + tld_len];
        let tld = &domain[dot + 1..];
        if tld.len() < 2
            || tld.len() > 24
            || !tld.iter().all(u8::is_ascii_alphabetic)
            || domain.windows(2).any(|w| w == b"..")
            || domain.first() == Some(&b'.')
        {
            continue;
        }
        // `git@github.com:org/repo.git` is an SSH remote, not a mailbox.
        if hay.get(de) == Some(&b':')
            && hay
                .get(de + 1)
                .is_some_and(|&b| is_alnum(b) || matches!(b, b'/' | b'~'))
        {
            continue;
        }
        sink.push(ls, de, Kind::EMAIL);
        last_end = de;
    }
}
