//! Values that are secret because of the name they are assigned to: `DB_PASSWORD=…`,
//! `"client_secret": "…"`, `os.Setenv("DD_API_KEY", "…")`, `const X_API_KEY: &str = "…"`,
//! `--password …`.
//!
//! A keyword hit (`assw`, `ecret`, `oken`, `key`, …) is widened to the whole identifier, the
//! identifier's last component decides whether it names a credential (`api_key_len` does not),
//! then the assignment operator and the value are parsed by hand. The value must not be a
//! placeholder or a code reference, and for non-password names it must look random.

use crate::json;
use crate::kind::Kind;
use crate::rules::Sink;
use crate::text::{contains_ci, is_name};
use crate::validate::{self, looks_random};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NameClass {
    Password,
    Token,
    Secret,
    Key,
}

/// Qualifiers that make `<x>_key` a data-structure key rather than a credential.
const BENIGN_KEY_QUALIFIERS: &[&[u8]] = &[
    b"cache",
    b"primary",
    b"foreign",
    b"public",
    b"pub",
    b"sort",
    b"partition",
    b"idempotency",
    b"row",
    b"hash",
    b"map",
    b"lookup",
    b"object",
    b"routing",
    b"unique",
    b"composite",
    b"surrogate",
    b"i18n",
    b"translation",
    b"group",
    b"shard",
    b"order",
    b"index",
    b"dedup",
    b"dedupe",
    b"cursor",
    b"react",
    b"list",
    b"dict",
    b"file",
    b"label",
    b"metric",
    b"column",
    b"field",
    b"search",
    b"dedupe",
    b"foreign",
    b"range",
    b"hotkey",
    b"short",
    b"keyboard",
    b"compound",
    b"natural",
    b"business",
    b"join",
    b"dataset",
];

/// Up to 12 component ranges of an identifier, split at `_ . -` and lower→upper case changes.
/// When there are more, the last slot keeps the last component: it is the one that decides.
pub(crate) fn components(name: &[u8]) -> ([(usize, usize); 12], usize) {
    let mut out = [(0usize, 0usize); 12];
    let mut n = 0;
    let mut push = |s: usize, e: usize, out: &mut [(usize, usize); 12]| {
        if e > s {
            if n < 12 {
                out[n] = (s, e);
                n += 1;
            } else {
                out[11] = (s, e);
            }
        }
    };
    let mut start = 0;
    for (i, &b) in name.iter().enumerate() {
        if matches!(b, b'_' | b'.' | b'-') {
            push(start, i, &mut out);
            start = i + 1;
        } else if b.is_ascii_uppercase() && i > start && name[i - 1].is_ascii_lowercase() {
            push(start, i, &mut out);
            start = i;
        }
    }
    push(start, name.len(), &mut out);
    (out, n)
}

fn ends_with_ci(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Classifies a credential-like name and picks the kind for its value.
fn classify(name: &[u8]) -> Option<(NameClass, Kind)> {
    let (comps, n) = components(name);
    let comp = |k: usize| {
        comps
            .get(k)
            .and_then(|&(s, e)| name.get(s..e))
            .unwrap_or_default()
    };
    let last = comp(n.checked_sub(1)?);
    let prev = n.checked_sub(2).map(comp);
    let class = if ends_with_ci(last, b"password")
        || ends_with_ci(last, b"passwd")
        || ends_with_ci(last, b"pwd")
        || last.eq_ignore_ascii_case(b"pass")
        || last.eq_ignore_ascii_case(b"passphrase")
        || last.eq_ignore_ascii_case(b"passwort")
    {
        NameClass::Password
    } else if ends_with_ci(last, b"token") {
        NameClass::Token
    } else if ends_with_ci(last, b"secret") {
        NameClass::Secret
    } else if last.eq_ignore_ascii_case(b"key") {
        if prev.is_some_and(|p| {
            BENIGN_KEY_QUALIFIERS
                .iter()
                .any(|q| p.eq_ignore_ascii_case(q))
        }) {
            return None;
        }
        NameClass::Key
    } else if [
        &b"apikey"[..],
        b"accesskey",
        b"secretkey",
        b"appkey",
        b"authkey",
        b"signingkey",
        b"masterkey",
    ]
    .iter()
    .any(|s| ends_with_ci(last, s))
    {
        NameClass::Key
    } else {
        return None;
    };
    let has = |w: &[u8]| (0..n).any(|k| comp(k).eq_ignore_ascii_case(w));
    let kind = match class {
        NameClass::Password => Kind::PASSWORD_ASSIGNMENT,
        _ if has(b"twilio") => Kind::TWILIO,
        _ if has(b"dd") || has(b"datadog") => Kind::DATADOG_API_KEY,
        _ if has(b"aws")
            || (has(b"secret") && has(b"access"))
            || contains_ci(name, b"secretaccesskey") =>
        {
            Kind::AWS_SECRET_ACCESS_KEY
        }
        NameClass::Token => Kind::BEARER_TOKEN,
        NameClass::Secret | NameClass::Key => Kind::GENERIC_SECRET,
    };
    Some((class, kind))
}

/// The kind a value assigned to `name` gets, or `None` when `name` is not credential-like.
pub(crate) fn classify_name(name: &[u8]) -> Option<Kind> {
    let start = name
        .iter()
        .take_while(|&&b| matches!(b, b'-' | b'.'))
        .count();
    classify(name.get(start..).unwrap_or_default()).map(|c| c.1)
}

/// Parses what follows a name ending at `ne` (started at `ns`): closing quote, operator,
/// spaces. Returns where the value starts.
fn after_name(hay: &[u8], ns: usize, ne: usize, flag: bool) -> Option<usize> {
    let at = |k: usize| hay.get(k).copied();
    let mut i = ne;
    let open = ns.checked_sub(1).and_then(&at);
    let escaped_open = ns >= 2 && open == Some(b'"') && json::is_escape_start(hay, ns - 2);
    let mut quoted_name = false;
    if escaped_open && hay.get(i..).is_some_and(|r| r.starts_with(b"\\\"")) {
        i += 2;
        quoted_name = true;
    } else if let Some(q @ (b'"' | b'\'' | b'`')) = open
        && at(i) == Some(q)
    {
        i += 1;
        quoted_name = true;
    }
    if quoted_name && at(i) == Some(b']') {
        i += 1;
    }
    let spaces_from = i;
    while matches!(at(i), Some(b' ' | b'\t')) && i - spaces_from < 4 {
        i += 1;
    }
    match at(i) {
        Some(b'=') => match at(i + 1) {
            Some(b'=') => return None,
            Some(b'>') => i += 2,
            _ => i += 1,
        },
        Some(b':') => match at(i + 1) {
            Some(b':') => return None,
            Some(b'=') => i += 2,
            _ => {
                i += 1;
                i = skip_type_annotation(hay, i).unwrap_or(i);
            }
        },
        Some(b'?') if at(i + 1) == Some(b'?') => i += 2,
        Some(b'|') if at(i + 1) == Some(b'|') => i += 2,
        Some(b',') if quoted_name => i += 1,
        Some(_) if flag && i > spaces_from => {}
        _ => return None,
    }
    let from = i;
    while matches!(at(i), Some(b' ' | b'\t')) && i - from < 8 {
        i += 1;
    }
    Some(i)
}

/// `: &str =`, `: String =`, `: &'static str =` after a name; returns the offset after `=`.
fn skip_type_annotation(hay: &[u8], mut i: usize) -> Option<usize> {
    let at = |k: usize| hay.get(k).copied();
    while at(i) == Some(b' ') {
        i += 1;
    }
    // A string type, as Rust, TypeScript or Go spell it: `&str`, `&'static str`, `String`,
    // `string`, `Option<&str>`. Not free text: "token: x id=…" is no annotation.
    let rest = hay.get(i..).unwrap_or_default();
    let ty = [
        &b"&'static str"[..],
        b"&str",
        b"String",
        b"string",
        b"str",
        b"Option<&str>",
        b"Option<String>",
    ]
    .into_iter()
    .find(|t| rest.starts_with(t))?;
    i += ty.len();
    while at(i) == Some(b' ') {
        i += 1;
    }
    (at(i) == Some(b'=') && at(i + 1) != Some(b'=')).then_some(i + 1)
}

/// The value starting at `i`: quoted (`"…"`, `'…'`, `` `…` ``, `\"…\"`) or bare. Returns the
/// span and whether it was quoted.
pub(crate) fn value_at(hay: &[u8], i: usize) -> Option<(usize, usize, bool)> {
    let at = |k: usize| hay.get(k).copied();
    match at(i)? {
        q @ (b'"' | b'\'' | b'`') => {
            // The closing quote within 1024 bytes, not on a later line; in `"…"` a backslash
            // escapes the byte after it. `memchr` jumps between the bytes that matter.
            let s = i + 1;
            let lim = (s + 1024).min(hay.len());
            let mut j = s;
            while let Some(k) = hay
                .get(j..lim)
                .and_then(|r| memchr::memchr3(q, b'\\', b'\n', r))
            {
                let at = j + k;
                match hay[at] {
                    b'\n' => return None,
                    b if b == q => return Some((s, at, true)),
                    _ if q == b'"' => j = at + 2,
                    _ => j = at + 1,
                }
            }
            None
        }
        b'\\' if at(i + 1) == Some(b'"') && json::is_escape_start(hay, i) => {
            let s = i + 2;
            let mut j = s;
            while j + 1 < hay.len() && j - s < 1024 {
                if hay[j] == b'\\' {
                    if hay[j + 1] == b'"' {
                        return Some((s, j, true));
                    }
                    j += 2;
                    continue;
                }
                if hay[j] == b'\n' {
                    return None;
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            let mut depth = 0i32;
            while j < hay.len() && j - i < 512 {
                let b = hay[j];
                match b {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => {
                        depth -= 1;
                        if depth < 0 {
                            break;
                        }
                    }
                    b'&' if hay.get(j + 1).is_some_and(|&c| c.is_ascii_alphabetic()) => break,
                    _ => {}
                }
                if b <= b' ' || matches!(b, b'"' | b'\'' | b'`' | b',' | b';' | b'\\' | b'<' | b'>')
                {
                    break;
                }
                j += 1;
            }
            (j > i).then_some((i, j, false))
        }
    }
}

/// True for a bare value that is code rather than a literal: `getpass.getpass()`,
/// `os.environ["X"]`, `process.env.DB_PASS`, `STRIPE_SECRET_KEY`.
pub(crate) fn is_code_reference(v: &[u8]) -> bool {
    // A call or an index on an identifier path: `getpass.getpass()`, `os.environ["X"]`. A
    // parenthesis inside random text (`…f^cLT65d3l(9Rte…`) is not code.
    if let Some(k) = v.iter().position(|b| matches!(b, b'(' | b'[')) {
        let head = v.get(..k).unwrap_or_default();
        let ident_path = head
            .first()
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'$')
            && head
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'.'));
        if ident_path || head.is_empty() {
            return true;
        }
    }
    let ident_path = v.split(|&b| b == b'.').all(|seg| {
        seg.first()
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'$')
            && seg
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
    });
    let dotted = v.contains(&b'.');
    let upper_snake = v.contains(&b'_') && v.iter().all(|&b| b.is_ascii_uppercase() || b == b'_');
    (ident_path && dotted) || upper_snake
}

/// Handles a keyword anchor hit at `[hit_start, hit_end)`.
pub(crate) fn keyword(sink: &mut Sink<'_>, hit_start: usize, hit_end: usize) {
    let hay = sink.hay;
    let mut ns = hit_start;
    while ns > 0
        && hit_start - ns < 64
        && is_name(hay[ns - 1])
        && json::escape_ending_at(hay, ns).is_none()
    {
        ns -= 1;
    }
    let mut ne = hit_end.min(hay.len());
    while ne < hay.len() && ne - hit_end < 64 && is_name(hay[ne]) {
        ne += 1;
    }
    if (ns, ne) == sink.last_name {
        return;
    }
    sink.last_name = (ns, ne);
    let mut name_s = ns;
    let mut flag = false;
    while name_s < ne && hay[name_s] == b'-' {
        name_s += 1;
        flag = true;
    }
    while name_s < ne && hay[name_s] == b'.' {
        name_s += 1;
    }
    let mut name_e = ne;
    while name_e > name_s && matches!(hay[name_e - 1], b'.' | b'-') {
        name_e -= 1;
    }
    let Some(name) = hay.get(name_s..name_e) else {
        return;
    };
    // The operator check is the cheaper one and rejects most hits ("token" in prose).
    let Some(vi) = after_name(hay, ns, name_e, flag) else {
        return;
    };
    let Some((class, mut kind)) = classify(name) else {
        return;
    };
    if !sink.wants(kind) && !sink.wants(Kind::GENERIC_SECRET) {
        return;
    }
    let Some((vs, ve, quoted)) = value_at(hay, vi) else {
        return;
    };
    let Some(v) = hay.get(vs..ve) else { return };
    // Cheapest test first; all of them must pass.
    let ok = match class {
        NameClass::Password => v.len() >= 6 && v.len() <= 256,
        _ => looks_random(v, 16),
    };
    if !ok || validate::is_placeholder(v) || (!quoted && is_code_reference(v)) {
        return;
    }
    if kind == Kind::GENERIC_SECRET && class == NameClass::Key && is_datadog_config(hay, ns) {
        kind = Kind::DATADOG_API_KEY;
    }
    sink.push(vs, ve, kind);
}

/// `api_key:` in a `datadog.yaml` or next to other Datadog settings.
fn is_datadog_config(hay: &[u8], at: usize) -> bool {
    let from = at.saturating_sub(256);
    let to = (at + 256).min(hay.len());
    contains_ci(hay.get(from..to).unwrap_or_default(), b"datadog")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::kind::KindSet;

    fn kw(t: &str, word: &str) -> Vec<(String, Kind)> {
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        let mut from = 0;
        while let Some(off) = t[from..].find(word) {
            let p = from + off;
            keyword(&mut s, p, p + word.len());
            from = p + 1;
        }
        s.findings()
            .iter()
            .map(|f| (t[f.start..f.end].to_string(), f.kind))
            .collect()
    }

    #[test]
    fn names() {
        assert_eq!(
            classify(b"DB_PASSWORD").map(|c| c.0),
            Some(NameClass::Password)
        );
        assert_eq!(
            classify(b"PGPASSWORD").map(|c| c.0),
            Some(NameClass::Password)
        );
        assert_eq!(
            classify(b"ADMIN_PASS").map(|c| c.0),
            Some(NameClass::Password)
        );
        assert_eq!(
            classify(b"ddAppKey").map(|c| c.1),
            Some(Kind::DATADOG_API_KEY)
        );
        assert_eq!(
            classify(b"process.env.TWILIO_AUTH_TOKEN").map(|c| c.1),
            Some(Kind::TWILIO)
        );
        assert_eq!(
            classify(b"SecretAccessKey").map(|c| c.1),
            Some(Kind::AWS_SECRET_ACCESS_KEY)
        );
        assert_eq!(classify(b"x-api-key").map(|c| c.0), Some(NameClass::Key));
        for benign in [
            "password_hash",
            "api_key_len",
            "tokenExpiry",
            "cache_key",
            "input_tokens",
            "bypass",
            "secretKeyRef",
        ] {
            assert!(classify(benign.as_bytes()).is_none(), "{benign}");
        }
    }

    #[test]
    fn assignment_forms() {
        let v = "Tulip-Harbor-Violet42";
        for t in [
            format!("DB_PASSWORD={v} next"),
            format!("password: {v}\n"),
            format!("{{\"password\": \"{v}\"}}"),
            format!("{{\\\"password\\\": \\\"{v}\\\"}}"),
            format!("docker login --password {v} registry"),
            format!("--password='{v}'"),
        ] {
            let mut got = kw(&t, "assw");
            got.extend(kw(&t, "ASSW"));
            assert_eq!(got, vec![(v.to_string(), Kind::PASSWORD_ASSIGNMENT)], "{t}");
        }
        let hex = "45ef13816b49ef51e1199184a7451150";
        let t = format!("const ddAppKey = process.env.DD_APP_KEY ?? '{hex}';");
        assert_eq!(
            kw(&t, "KEY"),
            vec![(hex.to_string(), Kind::DATADOG_API_KEY)]
        );
        let t = format!("os.Setenv(\"TWILIO_AUTH_TOKEN\", \"{hex}\")");
        assert_eq!(kw(&t, "TOKEN"), vec![(hex.to_string(), Kind::TWILIO)]);
        let t = format!("const X_API_KEY: &str = \"{hex}\";");
        assert_eq!(kw(&t, "KEY").len(), 1);
    }

    #[test]
    fn negatives() {
        for t in [
            "password = getpass.getpass()",
            "DB_PASSWORD=${DB_PASSWORD}",
            "password: <REDACTED>",
            "PASSWORD=",
            "if password_hash == bcrypt.hash(password, salt): login(user)",
            "api_key = os.environ[\"OPENAI_API_KEY\"]",
            "key: STRIPE_SECRET_KEY",
            "client_secret: REPLACE_ME",
            "password: ${{ secrets.DB_PASSWORD }}",
            "vault kv get -field=password secret/data/postgres",
            "token = \"\"",
            "password=[REDACTED:password_assignment]",
            "WARN token: not fast version at id=32ab9f4f-7e9d-482f-b9b3-c12d6ff357d3 dur=2393ms",
        ] {
            for w in ["assw", "ecret", "oken", "key", "KEY"] {
                assert!(kw(t, w).is_empty(), "{t} / {w}");
            }
        }
    }
}
