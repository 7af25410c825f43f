//! Strict readers for what a syslog receiver got: an RFC 5424 message
//! (field lengths, version `1`, RFC 3339 timestamp, structured data with
//! exactly the three escapes) and an ArcSight CEF line (header escaping vs
//! extension escaping, severity range). They refuse what a lax receiver
//! would let through, so a sink that passes them produces valid messages.

/// One SD-ELEMENT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdElement {
    /// `cairn@32473`.
    pub id: String,
    /// Parameters in order, values unescaped.
    pub params: Vec<(String, String)>,
}

/// One RFC 5424 message; `None` for a NILVALUE (`-`) field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rfc5424 {
    /// PRIVAL.
    pub pri: u8,
    /// PRIVAL / 8.
    pub facility: u8,
    /// PRIVAL % 8.
    pub severity: u8,
    /// TIMESTAMP as written.
    pub timestamp: Option<String>,
    /// HOSTNAME.
    pub hostname: Option<String>,
    /// APP-NAME.
    pub app_name: Option<String>,
    /// PROCID.
    pub procid: Option<String>,
    /// MSGID.
    pub msgid: Option<String>,
    /// STRUCTURED-DATA (empty for `-`).
    pub sd: Vec<SdElement>,
    /// Whether MSG started with the UTF-8 BOM.
    pub bom: bool,
    /// MSG after the BOM (lossy UTF-8 when there was no BOM).
    pub msg: Option<String>,
}

impl Rfc5424 {
    /// A parameter of an SD element.
    pub fn param(&self, sd_id: &str, name: &str) -> Option<&str> {
        self.sd
            .iter()
            .find(|e| e.id == sd_id)?
            .params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected {:?} {what} at byte {}",
                c as char, self.i
            ))
        }
    }

    /// A header field: 1..=max printable US-ASCII up to the next space.
    fn field(&mut self, name: &str, max: usize) -> Result<Option<String>, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == b' ' {
                break;
            }
            if !(33..=126).contains(&c) {
                return Err(format!("{name}: byte {c:#x} is not printable US-ASCII"));
            }
            self.i += 1;
        }
        let s = &self.b[start..self.i];
        if s.is_empty() || s.len() > max {
            return Err(format!("{name}: length {} not in 1..={max}", s.len()));
        }
        self.expect(b' ', &format!("after {name}"))?;
        let s = String::from_utf8_lossy(s).into_owned();
        Ok((s != "-").then_some(s))
    }

    /// SD-NAME: 1..=32 printable US-ASCII except `=`, space, `]`, `"`.
    fn sd_name(&mut self, what: &str) -> Result<String, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if !(33..=126).contains(&c) || matches!(c, b'=' | b']' | b'"') {
                break;
            }
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || n > 32 {
            return Err(format!("{what}: length {n} not in 1..=32 at byte {start}"));
        }
        Ok(String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }

    fn param_value(&mut self) -> Result<String, String> {
        self.expect(b'"', "opening a PARAM-VALUE")?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err("unterminated PARAM-VALUE".into()),
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\' | b']')) => {
                            out.push(c);
                            self.i += 1;
                        }
                        // Any other backslash is a literal backslash.
                        _ => out.push(b'\\'),
                    }
                }
                Some(b']') => {
                    return Err(format!("unescaped ']' in PARAM-VALUE at byte {}", self.i));
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| "PARAM-VALUE is not UTF-8".into())
    }
}

fn digits(s: &[u8], range: std::ops::RangeInclusive<u32>) -> bool {
    s.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse::<u32>().ok())
            .is_some_and(|v| range.contains(&v))
}

/// Checks an RFC 5424 TIMESTAMP: `YYYY-MM-DDTHH:MM:SS[.1-6 digits](Z|±hh:mm)`,
/// upper-case `T` and `Z`, no leap second.
pub fn check_timestamp(t: &str) -> Result<(), String> {
    let b = t.as_bytes();
    let bad = || Err(format!("bad RFC 5424 timestamp {t:?}"));
    if b.len() < 20
        || !digits(&b[0..4], 0..=9999)
        || b[4] != b'-'
        || !digits(&b[5..7], 1..=12)
        || b[7] != b'-'
        || !digits(&b[8..10], 1..=31)
        || b[10] != b'T'
        || !digits(&b[11..13], 0..=23)
        || b[13] != b':'
        || !digits(&b[14..16], 0..=59)
        || b[16] != b':'
        || !digits(&b[17..19], 0..=59)
    {
        return bad();
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=6).contains(&n) {
            return bad();
        }
        rest = &rest[1 + n..];
    }
    let ok = rest == b"Z"
        || (rest.len() == 6
            && matches!(rest[0], b'+' | b'-')
            && digits(&rest[1..3], 0..=23)
            && rest[3] == b':'
            && digits(&rest[4..6], 0..=59));
    if ok { Ok(()) } else { bad() }
}

/// Parses one RFC 5424 message strictly (no trailing newline).
pub fn parse_rfc5424(bytes: &[u8]) -> Result<Rfc5424, String> {
    let mut c = Cursor { b: bytes, i: 0 };
    c.expect(b'<', "starting PRI")?;
    let start = c.i;
    while c.peek().is_some_and(|d| d.is_ascii_digit()) {
        c.i += 1;
    }
    let pri_text = &bytes[start..c.i];
    if pri_text.is_empty()
        || pri_text.len() > 3
        || (pri_text.len() > 1 && pri_text[0] == b'0')
        || !digits(pri_text, 0..=191)
    {
        return Err(format!("bad PRI {:?}", String::from_utf8_lossy(pri_text)));
    }
    let pri: u8 = String::from_utf8_lossy(pri_text)
        .parse()
        .map_err(|_| "bad PRI")?;
    c.expect(b'>', "ending PRI")?;
    c.expect(b'1', "(VERSION 1)")?;
    c.expect(b' ', "after VERSION")?;
    let timestamp = c.field("TIMESTAMP", 32)?;
    if let Some(t) = &timestamp {
        check_timestamp(t)?;
    }
    let hostname = c.field("HOSTNAME", 255)?;
    let app_name = c.field("APP-NAME", 48)?;
    let procid = c.field("PROCID", 128)?;
    let msgid = c.field("MSGID", 32)?;
    let mut sd = Vec::new();
    if c.peek() == Some(b'-') {
        c.i += 1;
    } else {
        while c.peek() == Some(b'[') {
            c.i += 1;
            let id = c.sd_name("SD-ID")?;
            let mut params = Vec::new();
            while c.peek() == Some(b' ') {
                c.i += 1;
                let name = c.sd_name("PARAM-NAME")?;
                c.expect(b'=', "after PARAM-NAME")?;
                params.push((name, c.param_value()?));
            }
            c.expect(b']', "closing an SD-ELEMENT")?;
            sd.push(SdElement { id, params });
        }
        if sd.is_empty() {
            return Err(format!("STRUCTURED-DATA missing at byte {}", c.i));
        }
    }
    let (bom, msg) = match c.peek() {
        None => (false, None),
        Some(b' ') => {
            let rest = &bytes[c.i + 1..];
            match rest.strip_prefix(b"\xEF\xBB\xBF".as_slice()) {
                Some(text) => (
                    true,
                    Some(
                        String::from_utf8(text.to_vec())
                            .map_err(|_| "MSG after BOM is not UTF-8")?,
                    ),
                ),
                None => (false, Some(String::from_utf8_lossy(rest).into_owned())),
            }
        }
        Some(other) => {
            return Err(format!(
                "unexpected {:?} after STRUCTURED-DATA",
                other as char
            ));
        }
    };
    Ok(Rfc5424 {
        pri,
        facility: pri / 8,
        severity: pri % 8,
        timestamp,
        hostname,
        app_name,
        procid,
        msgid,
        sd,
        bom,
        msg,
    })
}

/// One CEF line, unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cef {
    /// `0` or `1`.
    pub version: String,
    /// Device Vendor.
    pub vendor: String,
    /// Device Product.
    pub product: String,
    /// Device Version.
    pub device_version: String,
    /// Device Event Class ID.
    pub class_id: String,
    /// Name.
    pub name: String,
    /// Severity as written (`0`–`10` or a word).
    pub severity: String,
    /// Extension pairs in order.
    pub extension: Vec<(String, String)>,
}

impl Cef {
    /// An extension value by key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.extension
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of the custom field (`csN`, `cfpN`, `flexStringN`…) whose
    /// label is `label`.
    pub fn labelled(&self, label: &str) -> Option<&str> {
        let (key, _) = self
            .extension
            .iter()
            .find(|(k, v)| k.ends_with("Label") && v == label)?;
        self.get(key.strip_suffix("Label")?)
    }
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `s` starts with `key=` (a key is never escaped, so its `=` is
/// the separator).
fn starts_with_key(s: &str) -> bool {
    let n = s.chars().take_while(|c| is_key_char(*c)).count();
    n > 0 && s[n..].starts_with('=')
}

/// Parses a CEF line strictly: header fields allow only `\\` and `\|`
/// escapes, extension values only `\\`, `\=`, `\n` and `\r`; a raw `=` in a
/// value, a raw CR or LF anywhere, or a severity outside 0–10 is an error.
pub fn parse_cef(line: &str) -> Result<Cef, String> {
    if line.contains(['\n', '\r']) {
        return Err("raw CR or LF in a CEF line".into());
    }
    let rest = line.strip_prefix("CEF:").ok_or("no CEF: prefix")?;
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = rest.char_indices();
    let mut ext_start = None;
    while let Some((i, ch)) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some((_, c @ ('\\' | '|'))) => cur.push(c),
                other => return Err(format!("bad header escape \\{other:?}")),
            },
            '|' => {
                fields.push(std::mem::take(&mut cur));
                if fields.len() == 7 {
                    ext_start = Some(i + 1);
                    break;
                }
            }
            c => cur.push(c),
        }
    }
    let ext_start = ext_start.ok_or("fewer than 7 header fields")?;
    let severity = fields[6].clone();
    let words = ["Unknown", "Low", "Medium", "High", "Very-High"];
    if !words.contains(&severity.as_str()) && !digits(severity.as_bytes(), 0..=10) {
        return Err(format!("severity {severity:?} not in 0..=10"));
    }
    let mut extension = Vec::new();
    let ext = &rest[ext_start..];
    let mut pos = 0;
    while pos < ext.len() {
        let key: String = ext[pos..].chars().take_while(|c| is_key_char(*c)).collect();
        if key.is_empty() || !ext[pos + key.len()..].starts_with('=') {
            return Err(format!("expected key= at extension byte {pos}"));
        }
        pos += key.len() + 1;
        let mut value = String::new();
        let mut it = ext[pos..].char_indices();
        let mut end = ext.len();
        while let Some((j, ch)) = it.next() {
            match ch {
                '\\' => match it.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '=')) => value.push('='),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 'r')) => value.push('\r'),
                    other => return Err(format!("bad extension escape \\{other:?} in {key}")),
                },
                '=' => return Err(format!("unescaped '=' in the value of {key}")),
                ' ' if starts_with_key(&ext[pos + j + 1..]) => {
                    end = pos + j + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        extension.push((key, value));
        pos = end;
    }
    let mut f = fields.into_iter();
    let mut next = || f.next().unwrap_or_default();
    Ok(Cef {
        version: next(),
        vendor: next(),
        product: next(),
        device_version: next(),
        class_id: next(),
        name: next(),
        severity: next(),
        extension,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "<110>1 2026-01-05T10:00:00.123Z gw-1 cairn 4242 tool_use \
        [cairn@32473 user=\"a@example.com\" cmd=\"echo \\\"x\\\" \\\\ \\]\" odd=\"a\\b\"] \u{feff}Bash command allowed";

    #[test]
    fn the_contract_example_parses_with_the_three_escapes_undone() {
        let m = parse_rfc5424(GOOD.as_bytes()).unwrap();
        assert_eq!((m.pri, m.facility, m.severity), (110, 13, 6));
        assert_eq!(m.timestamp.as_deref(), Some("2026-01-05T10:00:00.123Z"));
        assert_eq!(m.msgid.as_deref(), Some("tool_use"));
        assert_eq!(m.param("cairn@32473", "cmd"), Some("echo \"x\" \\ ]"));
        assert_eq!(
            m.param("cairn@32473", "odd"),
            Some("a\\b"),
            "other backslashes stay"
        );
        assert!(m.bom);
        assert_eq!(m.msg.as_deref(), Some("Bash command allowed"));
        let nil = parse_rfc5424(b"<0>1 - - - - - -").unwrap();
        assert_eq!((nil.pri, nil.timestamp, nil.msg), (0, None, None));
    }

    #[test]
    fn malformed_messages_are_refused() {
        let bad: &[&str] = &[
            "<010>1 - - - - - -",
            "<192>1 - - - - - -",
            "<13>2 - - - - - -",
            "<13>1 2026-01-05t10:00:00Z - - - - -",
            "<13>1 2026-01-05T10:00:00.1234567Z - - - - -",
            "<13>1 2026-01-05T10:00:60Z - - - - -",
            "<13>1 2026-01-05T10:00:00 - - - - -",
            "<13>1 - - - - 123456789012345678901234567890123 -",
            "<13>1 - h\u{e9} - - - -",
            "<13>1 - - - - - [a b=\"]\"]",
            "<13>1 - - - - - [a b=\"x]",
            "<13>1 - - - - - [a=b c=\"x\"]",
            "<13>1 - - - - - [a]x",
            "<13>1 - - - - - msg without sd",
        ];
        for b in bad {
            assert!(parse_rfc5424(b.as_bytes()).is_err(), "accepted {b:?}");
        }
    }

    #[test]
    fn cef_header_and_extension_escapes_are_read_strictly() {
        let c = parse_cef(
            "CEF:0|Anthropic|Claude Code|2.1\\|0|tool_use|Tool executed|3|rt=1 \
             msg=path a\\=b with pipe | kept\\nx  cs1Label=tool cs1=Ba\\\\sh",
        )
        .unwrap();
        assert_eq!(c.device_version, "2.1|0");
        assert_eq!(c.get("msg"), Some("path a=b with pipe | kept\nx "));
        assert_eq!(c.labelled("tool"), Some("Ba\\sh"));
        for bad in [
            "CEF:0|a|b|c|d|e|11|rt=1",
            "CEF:0|a|b|c|d|e|3|msg=a=b",
            "CEF:0|a|b|c|d|e|3|msg=a\nb",
            "CEF:0|a|b|c|d|e|3|msg=a\\qb",
            "CEF:0|a\\=|b|c|d|e|3|rt=1",
            "CEF:0|a|b|c|d|e|3",
            "CEF:0|a|b|c|d|e|3| rt=1",
        ] {
            assert!(parse_cef(bad).is_err(), "accepted {bad:?}");
        }
    }
}
