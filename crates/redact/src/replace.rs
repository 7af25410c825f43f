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
        if let Some(last) = out.last_mut()
            && r.start < last.end
        {
            last.end = last.end.max(r.end);
            if more_specific(r.kind, last.kind) {
                last.kind = r.kind;
            }
            continue;
        }
        out.push(Finding {
            start: r.start,
            end: r.end,
            kind: r.kind,
        });
    }
    out
}

/// Where each finding's replacement landed in the output: `out` is the byte range in the
/// rendered text, `orig` the range it replaced in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    pub out: (usize, usize),
    pub orig: (usize, usize),
}

/// Maps an offset of the rendered text back to the input: inside a replacement it maps to the
/// replaced region's start (or end, for an exclusive end offset), elsewhere it is shifted by
/// the replacements before it.
pub(crate) fn map_back(regions: &[Region], pos: usize, is_end: bool) -> usize {
    let k = if is_end {
        regions.partition_point(|r| r.out.0 < pos)
    } else {
        regions.partition_point(|r| r.out.0 <= pos)
    };
    match k.checked_sub(1).and_then(|i| regions.get(i)) {
        None => pos,
        Some(r) => {
            let inside = if is_end {
                pos > r.out.0 && pos <= r.out.1
            } else {
                pos < r.out.1
            };
            match (inside, is_end) {
                (true, true) => r.orig.1,
                (true, false) => r.orig.0,
                _ => pos - r.out.1 + r.orig.1,
            }
        }
    }
}

/// Writes `text` with every finding replaced, and where each replacement landed.
pub(crate) fn render_mapped<'n>(
    text: &str,
    findings: &[Finding],
    name: impl Fn(Kind) -> &'n str,
) -> Result<(String, Vec<Region>), Unscannable> {
    let mut regions = Vec::with_capacity(findings.len());
    let out = render_inner(text, findings, name, Some(&mut regions))?;
    Ok((out, regions))
}

/// Writes `text` with every finding replaced by `[REDACTED:<name>]`.
#[cfg(test)]
pub(crate) fn render<'n>(
    text: &str,
    findings: &[Finding],
    name: impl Fn(Kind) -> &'n str,
) -> Result<String, Unscannable> {
    render_inner(text, findings, name, None)
}

fn render_inner<'n>(
    text: &str,
    findings: &[Finding],
    name: impl Fn(Kind) -> &'n str,
    mut regions: Option<&mut Vec<Region>>,
) -> Result<String, Unscannable> {
    let hay = text.as_bytes();
    let extra: usize = findings.len() * 24;
    let mut out = String::with_capacity(text.len() + extra);
    let mut pos = 0;
    for f in findings {
        out.push_str(text.get(pos..f.start).ok_or(Unscannable::Internal)?);
        let out_start = out.len();
        let label = name(f.kind);
        // Quotes split a region: the span is assumed to start inside a string, each unescaped
        // quote toggles that, and bytes outside strings (`,` `:` spaces) are JSON structure
        // that is kept verbatim.
        let mut piece = f.start;
        let mut inside = true;
        for k in f.start..f.end {
            if hay.get(k) == Some(&b'"') && json::backslashes_before(hay, k).is_multiple_of(2) {
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
        if let Some(r) = regions.as_deref_mut() {
            r.push(Region {
                out: (out_start, out.len()),
                orig: (f.start, f.end),
            });
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
    fn maps_output_offsets_back() {
        let t = "ab SECRET cd";
        let f = [Finding {
            start: 3,
            end: 9,
            kind: Kind::EMAIL,
        }];
        let (out, regions) = render_mapped(t, &f, |_| "email").unwrap();
        assert_eq!(out, "ab [REDACTED:email] cd");
        assert_eq!(map_back(&regions, 1, false), 1);
        assert_eq!(map_back(&regions, 3, false), 3);
        assert_eq!(map_back(&regions, 10, false), 3);
        assert_eq!(map_back(&regions, 19, true), 9);
        assert_eq!(map_back(&regions, 21, true), 11);
        assert_eq!(map_back(&regions, 20, false), 10);
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
