//! PEM blocks. A private-key block (RSA, EC, DSA, OPENSSH, PKCS#8, encrypted PKCS#8, PGP) is
//! redacted from `-----BEGIN` to the closing `-----`, whatever separates its lines: raw `\n`,
//! CRLF, indentation, JSON `\n` escapes or double-escaped `\\n`. A block with no END line (cut
//! by truncation) is redacted as far as its base64 body goes. The `private_key` value of a GCP
//! service-account JSON is reported as `gcp_service_account`. Public keys and certificates are
//! not secret; their bodies are marked so the high-entropy rule leaves them alone.

use memchr::memmem;

use crate::kind::Kind;
use crate::rules::Sink;
use crate::text::{is_b64, truncation_marker_at};

const MAX_BLOCK: usize = 64 * 1024;

/// Length of a line separator at `i`: optional CR, LF, or the same escaped once or twice
/// (`\n`, `\\n`, `\r\n` …), followed by indentation. 0 when there is none.
fn sep_len(hay: &[u8], i: usize, raw_newlines: bool) -> usize {
    let at = |k: usize| hay.get(k).copied();
    let mut j = i;
    if raw_newlines {
        if at(j) == Some(b'\r') {
            j += 1;
        }
        if at(j) == Some(b'\n') {
            j += 1;
            return j - i + indentation(hay, j);
        }
        j = i;
    }
    let mut slashes = 0;
    while at(j) == Some(b'\\') && slashes < 4 {
        j += 1;
        slashes += 1;
    }
    if slashes == 0 {
        return 0;
    }
    if at(j) == Some(b'r') {
        j += 1;
        let mut k = 0;
        while at(j) == Some(b'\\') && k < slashes {
            j += 1;
            k += 1;
        }
        if k != slashes {
            return 0;
        }
    }
    if at(j) == Some(b'n') {
        j += 1;
        return j - i + indentation(hay, j);
    }
    0
}

fn indentation(hay: &[u8], j: usize) -> usize {
    hay.get(j..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

/// Handles an anchor hit on `-----BEGIN` at `p`.
pub(crate) fn pem(sink: &mut Sink<'_>, p: usize) {
    let hay = sink.hay;
    if p < sink.pem_end || !hay.get(p..).is_some_and(|r| r.starts_with(b"-----BEGIN ")) {
        return;
    }
    let label_start = p + 11;
    let Some(label_len) = memmem::find(
        hay.get(label_start..(label_start + 48).min(hay.len()))
            .unwrap_or_default(),
        b"-----",
    ) else {
        return;
    };
    let label = hay
        .get(label_start..label_start + label_len)
        .unwrap_or_default();
    if label.is_empty()
        || !label
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
    {
        return;
    }
    let header_end = label_start + label_len + 5;
    let private = memmem::find(label, b"PRIVATE KEY").is_some();
    let window = hay
        .get(header_end..(header_end + MAX_BLOCK).min(hay.len()))
        .unwrap_or_default();
    // A BEGIN before the END means this block was cut and another one follows.
    let next_begin = memmem::find(window, b"-----BEGIN ");
    let end_line = memmem::find(window, b"-----END ").filter(|&e| next_begin.is_none_or(|b| e < b));
    let (body_end, block_end) = match end_line {
        Some(off) => {
            let m = header_end + off;
            let close = hay
                .get(m + 9..(m + 9 + 48).min(hay.len()))
                .and_then(|r| memmem::find(r, b"-----"));
            match close {
                Some(c) => (m, m + 9 + c + 5),
                None => return,
            }
        }
        None => {
            let b = truncated_body_end(hay, header_end);
            (b, b)
        }
    };
    if !private {
        sink.suppress(p, block_end);
        sink.pem_end = block_end;
        return;
    }
    let body = hay.get(header_end..body_end).unwrap_or_default();
    let b64 = count_body_bytes(body);
    let truncated = end_line.is_none();
    if b64 < 16 && !(truncated && b64 >= 4 && truncation_marker_at(hay, body_end)) {
        return;
    }
    let mut end = block_end;
    let kind = if in_gcp_private_key(hay, p) {
        // The span is the whole JSON string value: swallow the escaped newline(s) before the
        // closing quote so no escape is cut.
        while end < hay.len() {
            let s = sep_len(hay, end, false);
            if s == 0 {
                break;
            }
            end += s;
        }
        Kind::GCP_SERVICE_ACCOUNT
    } else {
        Kind::PRIVATE_KEY
    };
    sink.push(p, end, kind);
    sink.pem_end = end;
}

/// Base64 bytes in a body, not counting the letter after a backslash (`\n`, `\\n`) nor
/// anything inside brackets: a `[REDACTED:…]` marker left by an earlier pass is not key
/// material.
fn count_body_bytes(body: &[u8]) -> usize {
    let mut n = 0;
    let mut escaped = false;
    let mut bracket = false;
    for &b in body {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'[' {
            bracket = true;
        } else if b == b']' {
            bracket = false;
        } else if is_b64(b) && !bracket {
            n += 1;
        }
    }
    n
}

/// End of the body of a block with no END line: whole lines of base64 (after optional
/// `Proc-Type:` / `DEK-Info:` headers), the last one possibly cut short.
fn truncated_body_end(hay: &[u8], header_end: usize) -> usize {
    let mut i = header_end;
    let mut end = header_end;
    let mut line_no = 0;
    let limit = hay.len().min(header_end + MAX_BLOCK);
    loop {
        let s = sep_len(hay, i, true);
        if s == 0 {
            break;
        }
        i += s;
        line_no += 1;
        let start = i;
        while i < limit && is_b64(hay[i]) {
            i += 1;
        }
        let run_end = i;
        if line_no <= 3 && hay.get(i) == Some(&b':') {
            // An encrypted-PEM header line: `Proc-Type: 4,ENCRYPTED`, `DEK-Info: AES-128-CBC,…`.
            while i < limit && !matches!(hay[i], b'\n' | b'\\' | b'"') {
                i += 1;
            }
            end = i;
            continue;
        }
        if run_end == start {
            break;
        }
        end = run_end;
        if sep_len(hay, i, true) == 0 {
            // The line does not end in a separator: a cut-off last line, or prose glued on.
            break;
        }
    }
    end
}

/// True when the block at `p` is the value of a `"private_key"` JSON member (possibly inside
/// an escaped JSON string: `\"private_key\": \"`).
fn in_gcp_private_key(hay: &[u8], p: usize) -> bool {
    let from = p.saturating_sub(48);
    let before = hay.get(from..p).unwrap_or_default();
    match memmem::rfind(before, b"private_key") {
        Some(k) => before
            .get(k + 11..)
            .unwrap_or_default()
            .iter()
            .all(|b| matches!(b, b'"' | b'\\' | b':' | b' ' | b'\t')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::kind::KindSet;

    fn run(t: &str) -> Vec<(usize, usize, Kind)> {
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        if let Some(p) = t.find("-----BEGIN") {
            pem(&mut s, p);
        }
        s.findings()
            .iter()
            .map(|f| (f.start, f.end, f.kind))
            .collect()
    }

    const BODY: &str = "MIIEowIBAAKCAQEAx4UbaDzY5xjW3a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r";

    #[test]
    fn raw_crlf_escaped_and_indented() {
        for nl in ["\n", "\r\n", "\\n", "\\\\n", "\n    "] {
            let t = format!(
                "key: -----BEGIN RSA PRIVATE KEY-----{nl}{BODY}{nl}{BODY}{nl}-----END RSA PRIVATE KEY----- tail"
            );
            let f = run(&t);
            assert_eq!(f.len(), 1, "{nl:?}");
            assert_eq!(
                &t[f[0].0..f[0].1],
                t.trim_start_matches("key: ").trim_end_matches(" tail")
            );
        }
    }

    #[test]
    fn truncated_block() {
        let t = format!(
            "{{\"content\":\"-----BEGIN PRIVATE KEY-----\\n{BODY}\\nMIIBCg…[300 chars]\"}}"
        );
        let f = run(&t);
        assert_eq!(f.len(), 1);
        assert!(t[f[0].1..].starts_with('…'));
        let t = "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----";
        assert!(run(t).is_empty());
    }

    #[test]
    fn gcp_value_includes_trailing_escape() {
        let t = format!(
            r#"{{"private_key": "-----BEGIN PRIVATE KEY-----\n{BODY}\n-----END PRIVATE KEY-----\n", "x": 1}}"#
        );
        let f = run(&t);
        assert_eq!(f[0].2, Kind::GCP_SERVICE_ACCOUNT);
        assert!(t[..f[0].1].ends_with("-----\\n"));
    }

    #[test]
    fn public_key_is_suppressed_not_reported() {
        let t = format!("-----BEGIN PUBLIC KEY-----\n{BODY}\n-----END PUBLIC KEY-----");
        let mut s = Sink::new(t.as_bytes(), KindSet::new());
        pem(&mut s, 0);
        assert!(s.findings().is_empty());
        assert!(s.is_suppressed(30, 40));
    }
}
