//! `cairn archive export`: the records of an archive that match a filter,
//! as JSON lines, oldest first.
//!
//! Each output line is
//!
//! ```text
//! {"seq":..,"prev":"<hex>","hash":"<hex>","segment":"segment-….jsonl",
//!  "time":"<RFC 3339>","session.id":..,"prompt.id":..,"user.id":..,
//!  "user.email":..,"user.account_uuid":..,"kind":..,"event":..,"record":{…}}
//! ```
//!
//! `record` is the archived body byte for byte, so with `prev` and `seq`
//! anyone can recompute `hash` and find the line in the archive. The fields
//! before it are copies for `jq` and spreadsheets (`null` when the record
//! has none). `time` is the event's own time (`time_unix_nano`, else
//! `event.timestamp`), a span's start, a metric's first point, a chain's
//! first event, else when cairn received it.
//!
//! Export reads lines as they are and does not verify them: run
//! [`verify`](crate::archive::verify()) first. Lines it cannot parse are
//! skipped with a warning; seals are not exported.

use std::{
    fs::File,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
};

use serde::Serialize;
use serde_json::{Value, value::RawValue};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::archive::{
    format::{EntryKind, parse_line},
    segments,
};

/// Which records to export. Every set field must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Records at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Records before this time.
    pub until: Option<OffsetDateTime>,
    /// `user.email` (ignoring ASCII case), `user.id` or `user.account_uuid`.
    pub user: Option<String>,
    /// `session.id`.
    pub session: Option<String>,
}

impl Filter {
    /// Parses an RFC 3339 time such as `2025-06-01T09:00:00Z`.
    pub fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
        OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map_err(|e| format!("{text:?} is not an RFC 3339 time: {e}"))
    }
}

/// Why export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// An archive file could not be read.
    #[error("{}: {source}", .path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Writing the output failed.
    #[error("writing the export: {0}")]
    Write(std::io::Error),
}

/// What export surfaces from one record.
#[derive(Debug, Default)]
struct Facts<'v> {
    time: Option<u64>,
    session: Option<&'v str>,
    prompt: Option<&'v str>,
    user_id: Option<&'v str>,
    email: Option<&'v str>,
    account_uuid: Option<&'v str>,
    kind: Option<&'v str>,
    event: Option<&'v str>,
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// A Unix-nanosecond time written as a string (the records file's form and
/// proto3 JSON's for 64-bit integers) or a number; 0 counts as absent.
fn nanos_at(v: &Value, path: &[&str]) -> Option<u64> {
    let v = path.iter().try_fold(v, |v, k| v.get(k))?;
    let n = match v {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_u64()?,
        _ => return None,
    };
    (n > 0).then_some(n)
}

fn rfc3339_at(v: &Value, path: &[&str]) -> Option<u64> {
    cairn_core::chain::parse_rfc3339(str_at(v, path)?)
}

fn facts(v: &Value) -> Facts<'_> {
    let kind = str_at(v, &["kind"]);
    if kind == Some("prompt_chain") {
        let c = v.get("chain").unwrap_or(&Value::Null);
        return Facts {
            time: nanos_at(c, &["when", "firstUnixNano"])
                .or_else(|| rfc3339_at(c, &["when", "firstTime"])),
            session: str_at(c, &["sessionId"]),
            prompt: str_at(c, &["promptId"]),
            user_id: str_at(c, &["who", "userId"]),
            email: str_at(c, &["who", "email"]),
            account_uuid: str_at(c, &["who", "accountUuid"]),
            kind,
            event: str_at(v, &["event"]),
        };
    }
    let own_time = match kind {
        Some("event") => {
            nanos_at(v, &["time_unix_nano"]).or_else(|| rfc3339_at(v, &["header", "timestamp"]))
        }
        Some("span") => nanos_at(v, &["start_time_unix_nano"]),
        Some("metric") => v
            .get("points")
            .and_then(|p| p.get(0))
            .and_then(|p| nanos_at(p, &["time_unix_nano"])),
        _ => None,
    };
    Facts {
        time: own_time.or_else(|| nanos_at(v, &["received_unix_nano"])),
        session: str_at(v, &["identity", "session_id"]),
        prompt: str_at(v, &["header", "prompt_id"])
            .or_else(|| str_at(v, &["attributes", "prompt.id"])),
        user_id: str_at(v, &["identity", "user_id"]),
        email: str_at(v, &["identity", "email"]),
        account_uuid: str_at(v, &["identity", "account_uuid"]),
        kind,
        event: str_at(v, &["event"])
            .or_else(|| str_at(v, &["span"]))
            .or_else(|| str_at(v, &["metric"])),
    }
}

fn to_nanos(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos()
}

impl Filter {
    fn matches(&self, f: &Facts<'_>) -> bool {
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = f.time.map(i128::from) else {
                return false;
            };
            if self.since.is_some_and(|s| t < to_nanos(s))
                || self.until.is_some_and(|u| t >= to_nanos(u))
            {
                return false;
            }
        }
        if let Some(user) = &self.user {
            let hit = f.user_id == Some(user.as_str())
                || f.account_uuid == Some(user.as_str())
                || f.email.is_some_and(|e| e.eq_ignore_ascii_case(user));
            if !hit {
                return false;
            }
        }
        if let Some(session) = &self.session
            && f.session != Some(session.as_str())
        {
            return false;
        }
        true
    }
}

#[derive(Serialize)]
struct Exported<'a> {
    seq: u64,
    prev: String,
    hash: String,
    segment: &'a str,
    time: Option<String>,
    #[serde(rename = "session.id")]
    session_id: Option<&'a str>,
    #[serde(rename = "prompt.id")]
    prompt_id: Option<&'a str>,
    #[serde(rename = "user.id")]
    user_id: Option<&'a str>,
    #[serde(rename = "user.email")]
    user_email: Option<&'a str>,
    #[serde(rename = "user.account_uuid")]
    account_uuid: Option<&'a str>,
    kind: Option<&'a str>,
    event: Option<&'a str>,
    record: &'a RawValue,
}

fn rfc3339(nanos: u64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// Writes the records of the archive in `dir` that match `filter` to `out`
/// as JSON lines (see the module docs) and returns how many.
pub fn export(dir: &Path, filter: &Filter, out: &mut impl Write) -> Result<u64, ExportError> {
    let read_err = |path: &Path| {
        let path = path.to_owned();
        move |source| ExportError::Read { path, source }
    };
    let mut exported = 0u64;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut raw = Vec::with_capacity(64 * 1024);
    for seg in segments::list(dir).map_err(read_err(dir))? {
        let name = seg.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let mut reader = BufReader::new(File::open(&seg.path).map_err(read_err(&seg.path))?);
        let mut line_no = 0u64;
        loop {
            raw.clear();
            if reader
                .read_until(b'\n', &mut raw)
                .map_err(read_err(&seg.path))?
                == 0
            {
                break;
            }
            line_no += 1;
            let text = raw.strip_suffix(b"\n").unwrap_or(&raw);
            let line = match parse_line(text) {
                Ok(l) if l.kind == EntryKind::Seal => continue,
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(segment = %seg.path.display(), line = line_no, error = %e, "export skipped a line it cannot read");
                    continue;
                }
            };
            let parsed = serde_json::from_slice::<&RawValue>(line.body)
                .and_then(|r| Ok((r, serde_json::from_str::<Value>(r.get())?)));
            let (record, value) = match parsed {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(segment = %seg.path.display(), line = line_no, error = %e, "export skipped a record that is not JSON");
                    continue;
                }
            };
            let f = facts(&value);
            if !filter.matches(&f) {
                continue;
            }
            let row = Exported {
                seq: line.seq,
                prev: hex::encode(line.prev),
                hash: hex::encode(line.hash),
                segment: name,
                time: f.time.and_then(rfc3339),
                session_id: f.session,
                prompt_id: f.prompt,
                user_id: f.user_id,
                user_email: f.email,
                account_uuid: f.account_uuid,
                kind: f.kind,
                event: f.event,
                record,
            };
            buf.clear();
            serde_json::to_writer(&mut buf, &row).map_err(|e| ExportError::Write(e.into()))?;
            buf.push(b'\n');
            out.write_all(&buf).map_err(ExportError::Write)?;
            exported += 1;
        }
    }
    out.flush().map_err(ExportError::Write)?;
    Ok(exported)
}
