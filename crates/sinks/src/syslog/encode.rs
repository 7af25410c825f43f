//! One [`AuditItem`] → one RFC 5424 message (contract §7.1), without
//! transport framing (the client adds the octet count).
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME cairn PROCID MSGID [cairn@PEN k="v" …] BOM summary [detail JSON]
//! ```
//!
//! In CEF format the structured data is `-` and the message is the CEF
//! line of [`super::cef`] (no BOM: CEF parsers expect `CEF:` right after
//! the header, and RFC 5424 allows a message without one).
//!
//! A message over the size limit is cut at the end of MSG, never inside
//! the header or structured data; a cut RFC 5424 message says so with
//! `truncated="true"`. A message whose header and structured data alone
//! are over the limit cannot be sent intact and is refused (dead-lettered).

use std::{borrow::Cow, fmt::Write as _};

use serde::Deserialize;

use super::{cef, config::printable};
use crate::{detail::Detail, item::AuditItem, sink::EncodeError};

/// What the message carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Fields as RFC 5424 structured data, a summary as the message.
    #[default]
    Rfc5424,
    /// An ArcSight CEF line as the message.
    Cef,
}

/// APP-NAME of every message.
pub const APP_NAME: &str = "cairn";
/// The UTF-8 byte order mark RFC 5424 puts before a UTF-8 MSG.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Builds messages with the sink's settings.
#[derive(Clone, Debug)]
pub struct Encoder {
    format: Format,
    facility: u8,
    hostname: String,
    pub(super) procid: String,
    sd_id: String,
    include_detail: bool,
    max_bytes: usize,
}

/// A header field: printable US-ASCII only (anything else becomes `_`), at
/// most `max` characters, `-` (NILVALUE) when empty.
pub fn header_field(s: &str, max: usize) -> Cow<'_, str> {
    if printable(s, max) {
        return Cow::Borrowed(s);
    }
    let clean: String = s
        .chars()
        .take(max)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if clean.is_empty() {
        Cow::Borrowed("-")
    } else {
        Cow::Owned(clean)
    }
}

/// This machine's host name (Linux's `/proc/sys/kernel/hostname`, then
/// `/etc/hostname`, then `$HOSTNAME`), made a valid HOSTNAME field.
pub fn machine_hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    header_field(raw.trim(), 255).into_owned()
}

/// RFC 3339 in UTC with microseconds (`2026-01-05T10:00:00.123456Z`), or
/// `-` when the time is unknown.
pub fn timestamp(unix_nano: u64) -> String {
    let t = match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_nano)) {
        Ok(t) if unix_nano != 0 => t,
        _ => return "-".into(),
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Appends `value` as a PARAM-VALUE body: exactly `"`, `\` and `]` get a
/// backslash (RFC 5424 §6.3.3).
pub fn escape_param(value: &str, out: &mut String) {
    // Clean runs are copied whole; each special character starts the next
    // run after its backslash.
    let mut run = 0;
    for (i, _) in value.match_indices(['"', '\\', ']']) {
        out.push_str(&value[run..i]);
        out.push('\\');
        run = i;
    }
    out.push_str(&value[run..]);
}

/// A finite number in plain decimal (no exponent), or nothing.
pub(crate) fn number(v: Option<f64>) -> Option<String> {
    v.filter(|v| v.is_finite()).map(|v| v.to_string())
}

/// The structured-data parameters of an item, in a fixed order (the
/// dedupe key first).
fn sd_params<'a>(item: &'a AuditItem) -> Vec<(&'static str, Cow<'a, str>)> {
    let mut p: Vec<(&'static str, Cow<'a, str>)> = vec![
        ("record_id", Cow::Borrowed(item.record_id.as_str())),
        ("kind", Cow::Borrowed(item.kind.as_str())),
    ];
    let mut opt = |name: &'static str, v: Option<&'a str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            p.push((name, Cow::Borrowed(v)));
        }
    };
    opt("user", item.user());
    opt("user_id", item.user_id.as_deref());
    opt("account_uuid", item.account_uuid.as_deref());
    opt("org", item.organization_id.as_deref());
    opt("act", Some(&item.action));
    opt("outcome", Some(item.outcome.as_str()));
    opt("src", item.host.as_deref());
    opt("app", Some(item.app));
    opt("version", item.version.as_deref());
    opt("tenant", item.tenant.as_deref());
    opt("session_id", item.session_id.as_deref());
    opt("prompt_id", item.prompt_id.as_deref());
    opt("tool", item.tool.as_deref());
    opt("model", item.model.as_deref());
    opt("cost_center", item.cost_center.as_deref());
    opt("trace_id", item.trace_id.as_deref());
    if let Some(v) = number(item.cost_usd) {
        p.push(("cost_usd", Cow::Owned(v)));
    }
    if let Some(v) = number(item.duration_ms) {
        p.push(("duration_ms", Cow::Owned(v)));
    }
    p
}

/// The longest prefix of `s` that fits in `budget` bytes and ends on a
/// character boundary.
pub(crate) fn cut(s: &str, budget: usize) -> &str {
    if s.len() <= budget {
        return s;
    }
    let mut end = budget;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The longest prefix of UTF-8 `bytes` that fits in `budget` bytes and
/// ends on a character boundary (as [`cut`] on the same text).
fn cut_bytes(bytes: &[u8], budget: usize) -> &[u8] {
    if bytes.len() <= budget {
        return bytes;
    }
    let mut end = budget;
    // A continuation byte (0b10xx_xxxx) is inside a character.
    while end > 0 && bytes[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    &bytes[..end]
}

impl Encoder {
    /// An encoder; `hostname` is made a valid HOSTNAME field here.
    pub fn new(
        format: Format,
        facility: u8,
        hostname: &str,
        enterprise_number: u32,
        include_detail: bool,
        max_bytes: usize,
    ) -> Encoder {
        Encoder {
            format,
            facility: facility.min(23),
            hostname: header_field(hostname, 255).into_owned(),
            procid: std::process::id().to_string(),
            sd_id: format!("cairn@{enterprise_number}"),
            include_detail,
            max_bytes,
        }
    }

    /// The HOSTNAME this encoder writes.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The size limit of one message.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    fn header(&self, item: &AuditItem) -> String {
        format!(
            "<{}>1 {} {} {APP_NAME} {} {} ",
            u16::from(self.facility) * 8 + u16::from(item.severity.syslog()),
            timestamp(item.time_unix_nano),
            self.hostname,
            self.procid,
            header_field(&item.name, 32),
        )
    }

    fn structured_data(&self, params: &[(&'static str, Cow<'_, str>)]) -> String {
        let mut sd = String::with_capacity(256);
        sd.push('[');
        sd.push_str(&self.sd_id);
        for (name, value) in params {
            let _ = write!(sd, " {name}=\"");
            escape_param(value, &mut sd);
            sd.push('"');
        }
        sd.push(']');
        sd
    }

    fn too_large(&self, fixed: usize) -> EncodeError {
        EncodeError(format!(
            "the syslog header and structured data take {fixed} bytes, over the {}-byte message limit",
            self.max_bytes
        ))
    }

    /// Appends the message for `item` to `out`.
    pub fn encode(&self, item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_with(item, Detail::Tree(&item.detail), out)
    }

    /// Appends the message for `item`, its detail (when included) from
    /// `detail`.
    pub fn encode_with(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let header = self.header(item);
        match self.format {
            Format::Rfc5424 => {
                let mut tail = Vec::with_capacity(item.message.len());
                tail.extend_from_slice(item.message.as_bytes());
                if self.include_detail {
                    tail.push(b' ');
                    detail.write(&mut tail);
                }
                let mut params = sd_params(item);
                let mut sd = self.structured_data(&params);
                let mut fixed = header.len() + sd.len() + 1 + BOM.len();
                if fixed + tail.len() > self.max_bytes {
                    params.push(("truncated", Cow::Borrowed("true")));
                    sd = self.structured_data(&params);
                    fixed = header.len() + sd.len() + 1 + BOM.len();
                }
                let budget = self
                    .max_bytes
                    .checked_sub(fixed)
                    .ok_or_else(|| self.too_large(fixed))?;
                out.reserve(fixed + tail.len().min(budget));
                out.extend_from_slice(header.as_bytes());
                out.extend_from_slice(sd.as_bytes());
                out.push(b' ');
                out.extend_from_slice(BOM);
                out.extend_from_slice(cut_bytes(&tail, budget));
            }
            Format::Cef => {
                let (cef_header, pairs) = cef::line(item, &self.hostname);
                let fixed = header.len() + 2 + cef_header.len();
                let budget = self
                    .max_bytes
                    .checked_sub(fixed)
                    .ok_or_else(|| self.too_large(fixed))?;
                out.extend_from_slice(header.as_bytes());
                out.extend_from_slice(b"- ");
                out.extend_from_slice(cef_header.as_bytes());
                out.extend_from_slice(cef::fit(&pairs, budget).as_bytes());
            }
        }
        Ok(())
    }
}
