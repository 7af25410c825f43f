//! Vendor formats with a literal prefix (AWS key ids, GitHub, GitLab, Anthropic, OpenAI, Slack,
//! Stripe, Google, npm, PyPI, SendGrid, Hugging Face, Stripe webhook secrets, Google OAuth
//! access tokens, Azure account keys) and JWTs.
//!
//! The prefix is found by the shared Aho-Corasick pass. Here the token is measured from the
//! prefix (crossing shell continuations and hard wraps), a full-token regex confirms the format
//! on that bounded slice, and a validator rejects checksum failures and placeholders.

use regex::bytes::Regex;

use crate::kind::Kind;
use crate::rules::Sink;
use crate::text::{
    self, Breaks, extent, is_alnum, is_b64, is_b64url, is_word, left_boundary, truncation_marker_at,
};
use crate::validate::{self, looks_random};

/// One prefixed format.
pub(crate) struct VendorRule {
    pub kind: Kind,
    /// Full-token regex, anchored at both ends when compiled.
    pattern: &'static str,
    /// Bytes the token may contain (the extent is measured with this class).
    class: fn(u8) -> bool,
    breaks: Breaks,
    /// The token starts right after the anchor (`AccountKey=`) instead of at it.
    value_after_anchor: bool,
    check: fn(&[u8]) -> bool,
}

/// Compiled vendor rule.
pub(crate) struct Vendor {
    rule: &'static VendorRule,
    re: Regex,
}

fn b64url_dot(b: u8) -> bool {
    is_b64url(b) || b == b'.'
}

fn slack_class(b: u8) -> bool {
    is_alnum(b) || b == b'-'
}

fn whsec_class(b: u8) -> bool {
    is_b64(b) || b == b'_'
}

/// The part after a vendor prefix is not a placeholder (`ghp_xxxx…`, `sk_live_XXXX…`): varied
/// enough and not a placeholder word. The prefix already makes it a credential, so no digit
/// or case mix is required (GitLab and Hugging Face bodies can be letters only).
fn random_tail(min: usize) -> impl Fn(&[u8]) -> bool {
    move |t: &[u8]| {
        let body = t
            .iter()
            .position(|&b| b == b'_' || b == b'-')
            .map_or(t, |i| &t[i + 1..]);
        body.len() >= min
            && !validate::is_placeholder(body)
            && validate::shape(body).distinct >= (body.len() / 2).min(10)
    }
}

fn check_any(_: &[u8]) -> bool {
    true
}

fn check_github(t: &[u8]) -> bool {
    let body = t.get(4..).unwrap_or_default();
    validate::github_checksum(body) || looks_random(body, 30)
}

fn check_random16(t: &[u8]) -> bool {
    random_tail(16)(t)
}

fn check_stripe(t: &[u8]) -> bool {
    // `sk_live_` + body
    looks_random(t.get(8..).unwrap_or_default(), 16)
}

fn check_openai(t: &[u8]) -> bool {
    if t.starts_with(b"sk-ant-") {
        return false;
    }
    let has_marker = memchr::memmem::find(t, b"T3BlbkFJ").is_some();
    let project = [&b"sk-proj-"[..], b"sk-svcacct-", b"sk-admin-", b"sk-None-"]
        .iter()
        .any(|p| t.starts_with(p));
    let body = t.get(3..).unwrap_or_default();
    (has_marker && looks_random(body, 20))
        || (project && looks_random(body, 24))
        || (body.len() >= 32 && validate::all_alnum(body) && looks_random(body, 32))
}

fn check_slack(t: &[u8]) -> bool {
    let digits = t.iter().filter(|b| b.is_ascii_digit()).count();
    digits >= 8
        && t.len() >= 24
        && !validate::is_placeholder(t)
        && validate::shape(t).distinct >= 10
}

fn check_sendgrid(t: &[u8]) -> bool {
    looks_random(t.get(3..).unwrap_or_default(), 30)
}

fn check_azure(t: &[u8]) -> bool {
    looks_random(t, 40)
}

pub(crate) static AWS_KEY_ID: VendorRule = VendorRule {
    kind: Kind::AWS_ACCESS_KEY_ID,
    pattern: "(?:AKIA|ASIA)[A-Z2-7]{16}",
    class: is_alnum,
    breaks: Breaks::None,
    value_after_anchor: false,
    check: check_any,
};
pub(crate) static GITHUB: VendorRule = VendorRule {
    kind: Kind::GITHUB_TOKEN,
    pattern: "gh[pousr]_[A-Za-z0-9]{36}",
    class: is_word,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_github,
};
pub(crate) static GITHUB_PAT: VendorRule = VendorRule {
    kind: Kind::GITHUB_TOKEN,
    pattern: "github_pat_[A-Za-z0-9_]{30,255}",
    class: is_word,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_random16,
};
pub(crate) static GITLAB: VendorRule = VendorRule {
    kind: Kind::GITLAB_TOKEN,
    pattern: "gl(?:pat|dt|ptt|rt|oas)-[A-Za-z0-9_.-]{20,}",
    class: b64url_dot,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_random16,
};
pub(crate) static ANTHROPIC: VendorRule = VendorRule {
    kind: Kind::ANTHROPIC_API_KEY,
    pattern: "sk-ant-[a-z]{3,8}[0-9]{2}-[A-Za-z0-9_-]{20,}",
    class: is_b64url,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_random16,
};
pub(crate) static OPENAI: VendorRule = VendorRule {
    kind: Kind::OPENAI_API_KEY,
    pattern: "sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{20,}",
    class: is_b64url,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_openai,
};
pub(crate) static SLACK: VendorRule = VendorRule {
    kind: Kind::SLACK_TOKEN,
    pattern: "(?:xox[a-z]|xapp)-[0-9A-Za-z-]{10,}",
    class: slack_class,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_slack,
};
pub(crate) static STRIPE: VendorRule = VendorRule {
    kind: Kind::STRIPE_KEY,
    pattern: "[srp]k_(?:live|test)_[0-9A-Za-z]{16,}",
    class: is_word,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_stripe,
};
pub(crate) static GOOGLE: VendorRule = VendorRule {
    kind: Kind::GOOGLE_API_KEY,
    pattern: "AIza[0-9A-Za-z_-]{35}",
    class: is_b64url,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_any,
};
pub(crate) static NPM: VendorRule = VendorRule {
    kind: Kind::NPM_TOKEN,
    pattern: "npm_[A-Za-z0-9]{36}",
    class: is_word,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_random16,
};
pub(crate) static PYPI: VendorRule = VendorRule {
    kind: Kind::PYPI_TOKEN,
    pattern: "pypi-AgE[A-Za-z0-9_-]{30,}",
    class: is_b64url,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_any,
};
pub(crate) static SENDGRID: VendorRule = VendorRule {
    kind: Kind::SENDGRID_API_KEY,
    pattern: r"SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}",
    class: b64url_dot,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_sendgrid,
};
pub(crate) static HUGGINGFACE: VendorRule = VendorRule {
    kind: Kind::HUGGINGFACE_TOKEN,
    pattern: "hf_[A-Za-z0-9]{30,40}",
    class: is_word,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_random16,
};
pub(crate) static WHSEC: VendorRule = VendorRule {
    kind: Kind::GENERIC_SECRET,
    pattern: "whsec_[A-Za-z0-9+/=]{20,}",
    class: whsec_class,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_random16,
};
pub(crate) static GOOGLE_OAUTH: VendorRule = VendorRule {
    kind: Kind::BEARER_TOKEN,
    pattern: r"ya29\.[A-Za-z0-9_-]{20,}",
    class: b64url_dot,
    breaks: Breaks::Soft,
    value_after_anchor: false,
    check: check_random16,
};
pub(crate) static AZURE_KEY: VendorRule = VendorRule {
    kind: Kind::AZURE_STORAGE_CONNECTION_STRING,
    pattern: "[A-Za-z0-9+/]{40,}={0,2}",
    class: is_b64,
    breaks: Breaks::None,
    value_after_anchor: true,
    check: check_azure,
};

impl Vendor {
    pub(crate) fn compile(rule: &'static VendorRule) -> Result<Vendor, regex::Error> {
        Ok(Vendor {
            rule,
            re: Regex::new(&format!("^(?:{})$", rule.pattern))?,
        })
    }

    /// Tries the rule for an anchor found at `[p, anchor_end)`; true when it matched.
    pub(crate) fn apply(&self, sink: &mut Sink<'_>, p: usize, anchor_end: usize) -> bool {
        let hay = sink.hay;
        let r = self.rule;
        let start = if r.value_after_anchor { anchor_end } else { p };
        if !r.value_after_anchor && !left_boundary(hay, start, is_alnum) {
            return false;
        }
        let ext = extent(hay, start, r.class, 8192, r.breaks);
        let mut n = ext.joined.len();
        while n > 0 && ext.joined.get(n - 1) == Some(&b'.') {
            n -= 1;
        }
        let tok = ext.joined.get(..n).unwrap_or_default();
        if !self.re.is_match(tok) || !(r.check)(tok) {
            return false;
        }
        sink.push(start, ext.orig_end(n), r.kind);
        true
    }
}

/// Start of the base64url token that ends at `end` (scanning back at most `max` bytes), if it
/// starts at a word boundary.
pub(crate) fn token_start(hay: &[u8], end: usize, max: usize) -> Option<usize> {
    let mut s = end;
    while s > 0
        && end - s < max
        && is_b64url(hay[s - 1])
        && crate::json::escape_ending_at(hay, s).is_none()
    {
        s -= 1;
    }
    (s < end && left_boundary(hay, s, is_alnum)).then_some(s)
}

/// JWT (`header.payload.signature`, base64url, header starting `eyJ`). Also a JWT whose tail
/// was cut by Claude Code's truncation: the surviving header and payload prefix still leak.
pub(crate) fn jwt(sink: &mut Sink<'_>, p: usize) {
    let hay = sink.hay;
    if !left_boundary(hay, p, is_alnum) {
        return;
    }
    let ext = extent(hay, p, b64url_dot, 16384, Breaks::Soft);
    let truncated = truncation_marker_at(hay, ext.end);
    let mut n = ext.joined.len();
    if !truncated {
        while n > 0 && ext.joined.get(n - 1) == Some(&b'.') {
            n -= 1;
        }
    }
    let tok = ext.joined.get(..n).unwrap_or_default();
    let mut parts = tok.split(|&b| b == b'.');
    let header = parts.next().unwrap_or_default();
    let payload = parts.next();
    let rest: usize = parts.map(<[u8]>::len).sum();
    if header.len() < 16 || !header_is_json(header) {
        return;
    }
    let ok = match payload {
        // Header only: a leak only when the rest was cut off.
        None => truncated,
        Some(pl) => {
            (pl.starts_with(b"eyJ")
                && pl.len() >= 10
                && (rest > 0 || tok.ends_with(b".") || pl.len() >= 20))
                || truncated
        }
    };
    if ok {
        sink.push(p, ext.orig_end(n), Kind::JWT);
    }
}

fn header_is_json(h: &[u8]) -> bool {
    // Decode only a prefix that is a multiple of 4: a truncated header still decodes.
    let cut = h.len() - h.len() % 4;
    match validate::base64_decode(h.get(..cut).unwrap_or_default()) {
        Some(raw) => {
            raw.starts_with(b"{\"")
                && (text::contains_ci(&raw, b"alg")
                    || text::contains_ci(&raw, b"typ")
                    || raw.len() < 24)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::kind::KindSet;

    fn run(rule: &'static VendorRule, t: &str, p: usize, anchor_len: usize) -> Vec<(usize, usize)> {
        let v = Vendor::compile(rule).unwrap();
        let mut sink = Sink::new(t.as_bytes(), KindSet::new());
        v.apply(&mut sink, p, p + anchor_len);
        sink.findings().iter().map(|f| (f.start, f.end)).collect()
    }

    #[test]
    fn aws_exact_length_and_boundary() {
        let t = "id=AKIAABCDEFGHIJKLMNOP:x";
        assert_eq!(run(&AWS_KEY_ID, t, 3, 4), vec![(3, 23)]);
        assert!(run(&AWS_KEY_ID, "id=AKIAABCDEFGHIJKLMNO x", 3, 4).is_empty());
        assert!(run(&AWS_KEY_ID, "id=AKIAABCDEFGHIJKLMNOPQ x", 3, 4).is_empty());
        assert!(run(&AWS_KEY_ID, "xAKIAABCDEFGHIJKLMNOP", 1, 4).is_empty());
    }

    #[test]
    fn stripe_placeholder_rejected() {
        assert!(run(&STRIPE, "sk_live_XXXXXXXXXXXXXXXXXXXXXXXX", 0, 8).is_empty());
        assert_eq!(
            run(&STRIPE, "sk_live_4eC39HqLyjWDarjtT1zdp7dc.", 0, 8),
            vec![(0, 32)]
        );
    }

    #[test]
    fn jwt_forms() {
        let h = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
        let full =
            format!("{h}.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U");
        let mut s = Sink::new(full.as_bytes(), KindSet::new());
        jwt(&mut s, 0);
        assert_eq!(s.findings().len(), 1);
        let only = format!("header only: {h}");
        let mut s = Sink::new(only.as_bytes(), KindSet::new());
        jwt(&mut s, 13);
        assert!(s.findings().is_empty());
        let cut = format!("{{\"c\":\"T={h}.eyJzd…[900 chars]\"}}");
        let mut s = Sink::new(cut.as_bytes(), KindSet::new());
        jwt(&mut s, cut.find("eyJ").unwrap());
        assert_eq!(s.findings().len(), 1);
    }
}
