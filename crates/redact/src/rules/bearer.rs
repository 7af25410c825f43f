//! Credentials introduced by a scheme or a flag rather than a name: `Authorization: Bearer …`
//! and the `-p` password flag of database and registry CLIs (`mysql -pSECRET`,
//! `docker login -u bot -p SECRET`).

use crate::kind::Kind;
use crate::rules::Sink;
use crate::rules::keyword::{is_code_reference, value_at};
use crate::text::{Breaks, contains_ci, extent, is_alnum, is_token, left_boundary};
use crate::validate::{self, looks_random};

fn bearer_class(b: u8) -> bool {
    is_token(b) || b == b'='
}

/// Handles an anchor hit on `earer` (of `Bearer`/`bearer`/`BEARER`) at `p`.
pub(crate) fn bearer(sink: &mut Sink<'_>, p: usize) {
    let hay = sink.hay;
    let Some(s) = p.checked_sub(1) else { return };
    if !matches!(hay.get(s), Some(b'B' | b'b')) || !left_boundary(hay, s, is_alnum) {
        return;
    }
    let mut i = p + 5;
    if hay.get(i) != Some(&b' ') {
        return;
    }
    while hay.get(i) == Some(&b' ') && i < p + 8 {
        i += 1;
    }
    let ext = extent(hay, i, bearer_class, 4096, Breaks::None);
    let mut n = ext.joined.len();
    while n > 0 && ext.joined.get(n - 1) == Some(&b'.') {
        n -= 1;
    }
    let tok = ext.joined.get(..n).unwrap_or_default();
    if tok.len() >= 16 && looks_random(tok, 16) {
        sink.push(i, ext.orig_end(n), Kind::BEARER_TOKEN);
    }
}

/// Handles an anchor hit on `mysql` / `login` ending at `from`: checks every ` -p` flag on the
/// rest of the command line.
pub(crate) fn password_flag(sink: &mut Sink<'_>, from: usize) {
    let hay = sink.hay;
    let limit = hay.len().min(from + 512);
    let rest = hay.get(from..limit).unwrap_or_default();
    let line_len = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let line = rest.get(..line_len).unwrap_or_default();
    for off in memchr::memmem::find_iter(line, b" -p") {
        dash_p(sink, from + off);
    }
}

/// A ` -p` flag at `p` (the space): `mysql -u root -pSECRET`, `docker login -u bot -p SECRET`.
fn dash_p(sink: &mut Sink<'_>, p: usize) {
    let hay = sink.hay;
    let line_start = hay[..p]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |k| k + 1)
        .max(p.saturating_sub(256));
    let before = hay.get(line_start..p).unwrap_or_default();
    let has_user = contains_ci(before, b" -u") || contains_ci(before, b"--user");
    let vi = p + 3;
    let (start, db_cli) = match hay.get(vi) {
        Some(b' ') => (vi + 1, false),
        Some(&b) if b > b' ' && b != b'-' => (vi, true),
        _ => return,
    };
    let cli_ok = if db_cli {
        has_user || contains_ci(before, b"mysql") || contains_ci(before, b"mariadb")
    } else {
        has_user
    };
    if !cli_ok {
        return;
    }
    let Some((vs, ve, _)) = value_at(hay, start) else {
        return;
    };
    let Some(v) = hay.get(vs..ve) else { return };
    let port_like = v
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b':' | b'.'));
    if v.len() < 4
        || port_like
        || v.first() == Some(&b'-')
        || validate::is_placeholder(v)
        || is_code_reference(v)
    {
        return;
    }
    sink.push(vs, ve, Kind::PASSWORD_ASSIGNMENT);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::kind::KindSet;

    #[test]
    fn bearer_and_dash_p() {
        let t = "curl -H 'Authorization: Bearer AxPmRvytbFYCCWgW4U7jfMMpBTHFXa1XAXEP89qp' x";
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        bearer(&mut s, t.find("earer").unwrap());
        assert_eq!(s.findings().len(), 1);
        let t = "www-authenticate: Bearer error=\"invalid_token\"";
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        bearer(&mut s, t.find("earer").unwrap());
        assert!(s.findings().is_empty());
        let t = "mysql -h db -u root -pHarbor-Maple30 orders";
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        password_flag(&mut s, 5);
        assert_eq!(
            &t[s.findings()[0].start..s.findings()[0].end],
            "Harbor-Maple30"
        );
        let t = "mysql; mkdir -p build && docker run -p 8080:8080 img";
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        password_flag(&mut s, 5);
        assert!(s.findings().is_empty());
    }
}
