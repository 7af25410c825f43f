//! Merging raw findings and writing the redacted text.
//!
//! Spans are first widened so none starts or ends inside a JSON escape or a UTF-8 character,
//! then sorted and merged when they overlap; the merged region takes the most specific kind
//! (highest rank, ties broken by kind id, so the choice is deterministic). The replacement
//! `[REDACTED:<kind>]` never contains quotes or backslashes, and an unescaped `"` inside a
//! region is kept in place (the region is replaced piecewise around it), so a JSON document
//! stays a JSON document.

use crate::json;
use crate::kind::Kind;
use crate::outcome::{Finding, Unscannable};
use crate::rules::Raw;

/// True when `a` should label a merged region instead of `b`.
fn more_specific(a: Kind, b: Kind) -> bool {
    a.rank() > b.rank() || (a.rank() == b.rank() && a < b)
}

/// Widens, sorts and merges raw findings.
pub(crate) fn merge(hay: &[u8], mut raw: Vec<Raw>) -> Vec<Finding> {
    for r in raw.iter_mut() {
        let (s, e) = json::widen_span(hay, r.start, r.end);
        r.start = s;
        r.end = e;
    }
    raw.sort_unstable_by_key(|r| (r.start, r.end, r.kind));
    let mut out: Vec<Finding> = Vec::with_capacity(raw.len());
    for r in raw {
        if r.start >= r.end {
            continue;
        }
        if let Some(last) = out.last_mut() {
            if r.start < last.end {
                last.end = last.end.max(r.end);
                if more_specific(r.kind, last.kind) {
                    last.kind = r.kind;
                }
                continue;
            }
        }
        out.push(Finding {
            start: r.start,
            end: r.end,
            kind: r.kind,
        });
    }
    out
}

/// Writes `text` with every finding replaced by `[REDACTED:<name>]`.
pub(crate) fn render<'n>(
    text: &str,
    findings: &[Finding],
    name: impl Fn(Kind) -> &'n str,
) -> Result<String, Unscannable> {
    let hay = text.as_bytes();
    let extra: usize = findings.len() * 24;
    let mut out = String::with_capacity(text.len() + extra);
    let mut pos = 0;
    for f in findings {
        out.push_str(text.get(pos..f.start).ok_or(Unscannable::Internal)?);
        let label = name(f.kind);
        // Quotes split a region: the span is assumed to start inside a string, each unescaped
        // quote toggles that, and bytes outside strings (`,` `:` spaces) are JSON structure
        // that is kept verbatim.
        let mut piece = f.start;
        let mut inside = true;
        for k in f.start..f.end {
            if hay.get(k) == Some(&b'"') && json::backslashes_before(hay, k) % 2 == 0 {
                if inside {
                    if k > piece {
                        push_marker(&mut out, label);
                    }
                } else {
                    out.push_str(text.get(piece..k).ok_or(Unscannable::Internal)?);
                }
                out.push('"');
                piece = k + 1;
                inside = !inside;
            }
        }
        if f.end > piece {
            if inside {
                push_marker(&mut out, label);
            } else {
                out.push_str(text.get(piece..f.end).ok_or(Unscannable::Internal)?);
            }
        }
        pos = f.end;
    }
    out.push_str(text.get(pos..).ok_or(Unscannable::Internal)?);
    Ok(out)
}

fn push_marker(out: &mut String, label: &str) {
    out.push_str("[REDACTED:");
    out.push_str(label);
    out.push(']');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn merge_picks_most_specific() {
        let hay = b"0123456789abcdefghij";
        let raw = vec![
            Raw {
                start: 2,
                end: 8,
                kind: Kind::BEARER_TOKEN,
            },
            Raw {
                start: 4,
                end: 12,
                kind: Kind::GITHUB_TOKEN,
            },
            Raw {
                start: 12,
                end: 14,
                kind: Kind::EMAIL,
            },
        ];
        let m = merge(hay, raw);
        assert_eq!(
            m,
            vec![
                Finding {
                    start: 2,
                    end: 12,
                    kind: Kind::GITHUB_TOKEN
                },
                Finding {
                    start: 12,
                    end: 14,
                    kind: Kind::EMAIL
                },
            ]
        );
    }

    #[test]
    fn render_keeps_structural_quotes() {
        let t = r#"{"a":"x","b":"y"}"#;
        let f = [Finding {
            start: 6,
            end: 15,
            kind: Kind::GENERIC_SECRET,
        }];
        let out = render(t, &f, |k| k.builtin_name().unwrap_or("custom")).unwrap();
        assert_eq!(
            out,
            r#"{"a":"[REDACTED:generic_secret]","[REDACTED:generic_secret]":"[REDACTED:generic_secret]"}"#
        );
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    }
}
