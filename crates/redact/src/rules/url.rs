//! URLs that carry credentials: the password of `scheme://user:password@host` (database URLs,
//! `git clone https://user:token@…`, broker URLs) and whole Slack incoming-webhook URLs. Both
//! handle JSON-escaped slashes (`https:\/\/…`).

use regex::bytes::Regex;

use crate::kind::Kind;
use crate::rules::Sink;
use crate::text::{Breaks, extent, is_alnum, left_boundary};
use crate::validate;

/// Checks whether the `@` at `at` ends the userinfo of `scheme://user:password@host` and
/// reports the password. Driven by the `@` byte scan (an `@` is rarer than `://`).
pub(crate) fn basic_auth_at(sink: &mut Sink<'_>, at: usize) -> bool {
    let hay = sink.hay;
    // Back over the userinfo to the `//` that starts the authority.
    let mut k = at;
    while k > 0 && at - k < 384 {
        let b = hay[k - 1];
        if b <= b' ' || matches!(b, b'/' | b'@' | b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\') {
            break;
        }
        k -= 1;
    }
    let before = hay.get(..k).unwrap_or_default();
    let colon = if before.ends_with(b"://") {
        k - 3
    } else if before.ends_with(b":\\/\\/") {
        k - 5
    } else {
        return false;
    };
    // Scheme: letters, digits, `+ . -`, starting with a letter.
    let mut s = colon;
    while s > 0
        && colon - s < 32
        && hay
            .get(s - 1)
            .is_some_and(|&b| is_alnum(b) || matches!(b, b'+' | b'.' | b'-'))
    {
        s -= 1;
    }
    if colon - s < 2
        || !hay.get(s).is_some_and(u8::is_ascii_alphabetic)
        || !left_boundary(hay, s, is_alnum)
    {
        return false;
    }
    let userinfo = hay.get(k..at).unwrap_or_default();
    let Some(sep) = userinfo.iter().position(|&b| b == b':') else {
        return false;
    };
    let pw_start = k + sep + 1;
    let pw = hay.get(pw_start..at).unwrap_or_default();
    // Something host-like must follow the '@'.
    if pw.is_empty()
        || !hay
            .get(at + 1)
            .is_some_and(|&b| is_alnum(b) || b == b'[' || b == b'_')
    {
        return false;
    }
    if validate::is_placeholder(pw)
        || matches!(
            pw.to_ascii_lowercase().as_slice(),
            b"pass" | b"pw" | b"pwd" | b"x" | b"xxx"
        )
    {
        return false;
    }
    sink.push(pw_start, at, Kind::BASIC_AUTH_URL);
    true
}

fn url_class(b: u8) -> bool {
    is_alnum(b) || matches!(b, b':' | b'/' | b'.' | b'_' | b'-')
}

/// Compiled Slack webhook rule.
pub(crate) struct SlackWebhook {
    re: Regex,
}

impl SlackWebhook {
    pub(crate) fn compile() -> Result<SlackWebhook, regex::Error> {
        let re = Regex::new(
            r"^(?:https?:)?//hooks\.slack\.com/services/T[A-Z0-9_]{6,}/B[A-Z0-9_]{6,}/[A-Za-z0-9]{16,}",
        )?;
        Ok(SlackWebhook { re })
    }

    /// Handles an anchor hit on `hooks.slack.com` at `p`.
    pub(crate) fn apply(&self, sink: &mut Sink<'_>, p: usize) {
        let hay = sink.hay;
        let before = hay.get(..p).unwrap_or_default();
        let start = [
            &b"https://"[..],
            b"http://",
            b"https:\\/\\/",
            b"http:\\/\\/",
            b"//",
            b"\\/\\/",
        ]
        .iter()
        .find(|pre| before.ends_with(pre))
        .map_or(p, |pre| p - pre.len());
        let ext = extent(hay, start, url_class, 512, Breaks::None);
        if let Some(m) = self.re.find(&ext.joined) {
            sink.push(start, ext.orig_end(m.end()), Kind::SLACK_WEBHOOK_URL);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::kind::KindSet;

    fn auth(t: &str) -> Vec<&str> {
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        for at in t.match_indices('@').map(|(i, _)| i) {
            basic_auth_at(&mut s, at);
        }
        s.findings().iter().map(|f| &t[f.start..f.end]).collect()
    }

    #[test]
    fn basic_auth_forms() {
        assert_eq!(
            auth("postgres://app:Tulip-Harbor42@db:5432/app"),
            vec!["Tulip-Harbor42"]
        );
        assert_eq!(
            auth("redis://:s3cr3tPW@redis-cache:6379/0"),
            vec!["s3cr3tPW"]
        );
        assert_eq!(
            auth(r#"{"u":"https:\/\/bot:tok3nValue@git.example.com\/x"}"#),
            vec!["tok3nValue"]
        );
        assert!(auth("https://api.example.com:8443/v1@x").is_empty());
        assert!(auth("postgres://user:${DB_PASSWORD}@db/app").is_empty());
        assert!(auth("file:///tmp/wheel").is_empty());
    }

    #[test]
    fn slack_webhook_plain_and_escaped() {
        let w = SlackWebhook::compile().unwrap();
        for t in [
            "curl https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx now",
            r#"{"u":"https:\/\/hooks.slack.com\/services\/T0123ABCD\/B0456EFGH\/abcdefghijklmnopqrstuvwx"}"#,
        ] {
            let mut s = Sink::new(t.as_bytes(), KindSet::new());
            w.apply(&mut s, t.find("hooks").unwrap());
            let f = s.findings();
            assert_eq!(f.len(), 1);
            assert!(t[f[0].start..f[0].end].starts_with("https:"));
            assert!(t[f[0].start..f[0].end].ends_with("uvwx"));
        }
    }
}
