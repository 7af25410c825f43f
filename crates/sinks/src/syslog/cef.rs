//! One [`AuditItem`] → one ArcSight CEF line (contract §7.3):
//!
//! ```text
//! CEF:0|Anthropic|<product>|<version>|<event name>|<name>|<severity>|<extension>
//! ```
//!
//! Header fields and extension values are escaped differently: in the
//! header the pipe and the backslash take a backslash (a newline cannot be
//! written there, so CR and LF become spaces); in extension values `=` and
//! the backslash take a backslash, a newline is written `\n` and a carriage
//! return `\r`, and a pipe stays as it is. Keys are fixed names and never
//! escaped. Values are cut to CEF's documented lengths before escaping.

use std::fmt::Write as _;

use super::encode::number;
use crate::item::{AuditItem, Severity};

/// CEF's Name field: at most 512 characters.
pub const NAME_MAX: usize = 512;
/// `msg` and `request`: at most 1,023 characters.
pub const MSG_MAX: usize = 1023;
/// `act`: at most 63 characters.
pub const ACT_MAX: usize = 63;
/// `csN`, `flexStringN`: at most 4,000 characters (flexString: 1,023).
pub const CS_MAX: usize = 4000;

/// CEF severity (0–10): 3 Low for normal activity, 6 Medium for denials,
/// 8 High for errors.
pub fn severity(s: Severity) -> u8 {
    match s {
        Severity::Info => 3,
        Severity::Warning => 6,
        Severity::Error => 8,
    }
}

fn chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Appends a header field: `\` → `\\`, `|` → `\|`, CR and LF → space.
pub fn escape_header(value: &str, out: &mut String) {
    let mut run = 0;
    for (i, c) in value.match_indices(['\\', '|', '\r', '\n']) {
        out.push_str(&value[run..i]);
        out.push_str(match c {
            "\\" => "\\\\",
            "|" => "\\|",
            _ => " ",
        });
        run = i + 1;
    }
    out.push_str(&value[run..]);
}

/// Appends an extension value: `\` → `\\`, `=` → `\=`, LF → `\n`, CR → `\r`.
pub fn escape_value(value: &str, out: &mut String) {
    let mut run = 0;
    for (i, c) in value.match_indices(['\\', '=', '\n', '\r']) {
        out.push_str(&value[run..i]);
        out.push_str(match c {
            "\\" => "\\\\",
            "=" => "\\=",
            "\n" => "\\n",
            _ => "\\r",
        });
        run = i + 1;
    }
    out.push_str(&value[run..]);
}

/// Builds an extension: `key=value` pairs, kept apart until [`fit`] joins
/// them with one space.
#[derive(Default)]
struct Extension(Vec<String>);

impl Extension {
    fn pair(&mut self, key: &str, value: &str) {
        let mut p = String::with_capacity(key.len() + 1 + value.len());
        p.push_str(key);
        p.push('=');
        escape_value(value, &mut p);
        self.0.push(p);
    }

    fn opt(&mut self, key: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.pair(key, chars(v, max));
        }
    }

    fn labelled(&mut self, key: &str, label: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.pair(&format!("{key}Label"), label);
            self.pair(key, chars(v, max));
        }
    }
}

/// The CEF header up to and including the pipe before the extension, and
/// the extension's `key=value` pairs (escaped, not yet joined). `dvchost`
/// is the host cairn reports as (the syslog HOSTNAME).
pub fn line(item: &AuditItem, dvchost: &str) -> (String, Vec<String>) {
    let mut head = String::with_capacity(128);
    head.push_str("CEF:0|Anthropic|");
    escape_header(item.product, &mut head);
    head.push('|');
    escape_header(item.version.as_deref().unwrap_or(""), &mut head);
    head.push('|');
    escape_header(&item.name, &mut head);
    head.push('|');
    escape_header(chars(&item.name.replace('_', " "), NAME_MAX), &mut head);
    let _ = write!(head, "|{}|", severity(item.severity));

    let mut ext = Extension::default();
    ext.pair("rt", &item.unix_millis().to_string());
    ext.pair("externalId", &item.record_id);
    ext.pair("cat", item.kind.as_str());
    ext.opt("act", Some(&item.action), ACT_MAX);
    ext.pair("outcome", item.outcome.as_str());
    ext.opt("suser", item.user(), CS_MAX);
    ext.opt(
        "suid",
        item.user_id.as_deref().or(item.account_uuid.as_deref()),
        CS_MAX,
    );
    ext.opt("shost", item.host.as_deref(), CS_MAX);
    ext.opt("dvchost", Some(dvchost).filter(|h| *h != "-"), CS_MAX);
    ext.pair("app", item.app);
    ext.labelled("cs1", "tool", item.tool.as_deref(), CS_MAX);
    ext.labelled("cs2", "model", item.model.as_deref(), CS_MAX);
    ext.labelled("cs3", "session", item.session_id.as_deref(), CS_MAX);
    ext.labelled("cs4", "prompt", item.prompt_id.as_deref(), CS_MAX);
    ext.labelled("cs5", "org", item.organization_id.as_deref(), CS_MAX);
    ext.labelled("cs6", "cost_center", item.cost_center.as_deref(), CS_MAX);
    ext.labelled("cfp1", "cost_usd", number(item.cost_usd).as_deref(), CS_MAX);
    ext.labelled(
        "cfp2",
        "duration_ms",
        number(item.duration_ms).as_deref(),
        CS_MAX,
    );
    ext.labelled("flexString1", "tenant", item.tenant.as_deref(), MSG_MAX);
    ext.labelled("flexString2", "trace_id", item.trace_id.as_deref(), MSG_MAX);
    // Last, so a cut at the size limit loses the summary before any field.
    ext.opt("msg", Some(&item.message), MSG_MAX);
    (head, ext.0)
}

/// Joins extension pairs into at most `budget` bytes: whole pairs while they
/// fit, then the first one that does not, cut inside its value (on a
/// character boundary, never inside an escape) if its key still fits. The
/// result always parses as an extension.
pub fn fit(pairs: &[String], budget: usize) -> String {
    let mut out = String::with_capacity(budget.min(4096));
    for pair in pairs {
        let sep = usize::from(!out.is_empty());
        if out.len() + sep + pair.len() <= budget {
            if sep == 1 {
                out.push(' ');
            }
            out.push_str(pair);
            continue;
        }
        let room = budget.saturating_sub(out.len() + sep);
        let key_len = pair.find('=').map_or(pair.len(), |i| i + 1);
        if room >= key_len {
            let cut = super::encode::cut(pair, room);
            let trailing = cut[key_len..]
                .bytes()
                .rev()
                .take_while(|b| *b == b'\\')
                .count();
            if sep == 1 {
                out.push(' ');
            }
            out.push_str(&cut[..cut.len() - trailing % 2]);
        }
        break;
    }
    out
}

#[cfg(test)]
mod escape_tests {
    //! The escapers copy clean runs whole; these hold them to the
    //! character-by-character rules in their docs.
    use proptest::prelude::*;

    fn by_char(value: &str, rule: impl Fn(char) -> Option<&'static str>) -> String {
        value.chars().fold(String::new(), |mut out, c| {
            match rule(c) {
                Some(r) => out.push_str(r),
                None => out.push(c),
            }
            out
        })
    }

    proptest! {
        #[test]
        fn escapers_follow_their_rules(s in "[a-z=|\\\\\\]\"\r\né😀 ]{0,24}") {
            let mut got = String::new();
            super::escape_header(&s, &mut got);
            prop_assert_eq!(got, by_char(&s, |c| match c {
                '\\' => Some("\\\\"),
                '|' => Some("\\|"),
                '\r' | '\n' => Some(" "),
                _ => None,
            }));
            let mut got = String::new();
            super::escape_value(&s, &mut got);
            prop_assert_eq!(got, by_char(&s, |c| match c {
                '\\' => Some("\\\\"),
                '=' => Some("\\="),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                _ => None,
            }));
            let mut got = String::new();
            crate::syslog::encode::escape_param(&s, &mut got);
            prop_assert_eq!(got, by_char(&s, |c| match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                ']' => Some("\\]"),
                _ => None,
            }));
        }
    }
}
