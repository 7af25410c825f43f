//! The decode error type, and the cheap JSON-path breadcrumbs that go into it.
//!
//! Decoding records where it was only when something fails: each visitor that
//! sees an error come up from a field or an array element pushes that key or
//! index onto a thread-local list on its way out. The happy path never touches
//! it. The decode entry points clear the list before parsing and turn it into a
//! path like `resourceSpans[0].scopeSpans[0].spans[3].traceId` afterwards.

use std::cell::RefCell;
use std::fmt::Write as _;

/// Most breadcrumbs kept for one error (the innermost ones win).
const MAX_SEGMENTS: usize = 160;

/// One step of a JSON path.
#[derive(Clone, Copy)]
enum Segment {
    Key(&'static str),
    Index(usize),
}

thread_local! {
    static PATH: RefCell<Vec<Segment>> = const { RefCell::new(Vec::new()) };
}

fn push(segment: Segment) {
    PATH.with(|path| {
        if let Ok(mut path) = path.try_borrow_mut()
            && path.len() < MAX_SEGMENTS
        {
            path.push(segment);
        }
    });
}

/// Notes that the error being returned came from the value of `key`.
#[cold]
pub(crate) fn push_key(key: &'static str) {
    push(Segment::Key(key));
}

/// Notes that the error being returned came from array element `index`.
#[cold]
pub(crate) fn push_index(index: usize) {
    push(Segment::Index(index));
}

/// Forgets breadcrumbs left by an earlier decode on this thread.
pub(crate) fn clear_path() {
    PATH.with(|path| {
        if let Ok(mut path) = path.try_borrow_mut() {
            path.clear();
        }
    });
}

/// Takes the breadcrumbs (pushed innermost first) as a dotted path, outermost first.
fn take_path() -> String {
    PATH.with(|path| {
        let Ok(mut path) = path.try_borrow_mut() else {
            return String::new();
        };
        let mut out = String::new();
        for segment in path.iter().rev() {
            match segment {
                Segment::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Segment::Index(index) => {
                    let _ = write!(out, "[{index}]");
                }
            }
        }
        path.clear();
        out
    })
}

/// What kind of problem stopped decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The bytes are not well-formed JSON (or not UTF-8).
    Syntax,
    /// The input ended in the middle of a value.
    Eof,
    /// Well-formed JSON that does not fit the OTLP/JSON mapping: a wrong type,
    /// bad hex id, out-of-range integer, unknown enum name, too deep nesting...
    Data,
}

/// Why an OTLP/JSON body could not be decoded.
///
/// The message carries the position reported by `serde_json` and, where the
/// error happened inside the OTLP structure, the JSON path to the bad value.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid OTLP/JSON at line {line} column {column}{}: {message}", path_suffix(.path))]
pub struct DecodeError {
    kind: DecodeErrorKind,
    line: usize,
    column: usize,
    path: String,
    message: String,
}

fn path_suffix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" ({path})")
    }
}

impl DecodeError {
    /// Builds the public error from serde_json's, collecting the breadcrumbs.
    pub(crate) fn from_json(err: &serde_json::Error) -> Self {
        let kind = match err.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                DecodeErrorKind::Syntax
            }
            serde_json::error::Category::Eof => DecodeErrorKind::Eof,
            serde_json::error::Category::Data => DecodeErrorKind::Data,
        };
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        Self {
            kind,
            line,
            column,
            path: take_path(),
            message,
        }
    }

    /// The error for input that is not UTF-8 from byte `offset` on.
    pub(crate) fn invalid_utf8(bytes: &[u8], offset: usize) -> Self {
        let before = bytes.get(..offset).unwrap_or(bytes);
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        Self {
            kind: DecodeErrorKind::Syntax,
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            column: offset - line_start + 1,
            path: String::new(),
            message: "invalid UTF-8".to_owned(),
        }
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// 1-based line of the input where the problem was noticed (0 if unknown).
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column of the input where the problem was noticed (0 if unknown).
    pub fn column(&self) -> usize {
        self.column
    }

    /// JSON path to the offending value, e.g. `resourceLogs[0].scopeLogs[0].logRecords[2].traceId`;
    /// empty when the problem is at the top level or outside any known field.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The problem itself, without position or path.
    pub fn message(&self) -> &str {
        &self.message
    }
}
