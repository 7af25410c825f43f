//! Batch mode for `cairn redact --jsonl`: one `{"id": …, "text": …}` per line in, one
//! `{"id": …, "text": <redacted>}` per line out, ids passed through untouched whatever their
//! JSON type. A line that cannot be read as such a record is not echoed back: it is written as
//! `{"id": null, "text": "[DROPPED:unscannable]"}` (keeping the id when it could be read), so
//! one bad line neither stops the batch nor leaks.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Redactor;
use crate::outcome::{Outcome, UNSCANNABLE_REPLACEMENT};

/// Counters for a batch run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Non-empty input lines.
    pub records: u64,
    /// Records whose text was changed by redaction.
    pub redacted: u64,
    /// Records dropped because their text could not be scanned (too large, internal error).
    pub unscannable: u64,
    /// Lines that were not a JSON object with a string `text` (dropped as well).
    pub malformed: u64,
    /// Redacted regions, by kind name.
    pub by_kind: BTreeMap<String, u64>,
}

/// Output options for [`redact_jsonl_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JsonlOptions {
    /// Also write `"spans": [{"start", "end", "kind"}]` (byte offsets into the input text).
    pub spans: bool,
}

#[derive(Deserialize)]
struct InLine {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    text: Value,
}

#[derive(Serialize)]
struct OutSpan<'a> {
    start: usize,
    end: usize,
    kind: &'a str,
}

#[derive(Serialize)]
struct OutLine<'a> {
    id: &'a Value,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    spans: Option<Vec<OutSpan<'a>>>,
}

/// Redacts a JSONL stream of `{"id", "text"}` records.
pub fn redact_jsonl(
    reader: impl BufRead,
    writer: impl Write,
    redactor: &Redactor,
) -> Result<Stats, io::Error> {
    redact_jsonl_with(reader, writer, redactor, JsonlOptions::default())
}

/// [`redact_jsonl`] with output options.
pub fn redact_jsonl_with(
    mut reader: impl BufRead,
    mut writer: impl Write,
    redactor: &Redactor,
    options: JsonlOptions,
) -> Result<Stats, io::Error> {
    let mut stats = Stats::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let trimmed = trim_line(&line);
        if trimmed.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        stats.records += 1;
        let parsed: Option<InLine> = serde_json::from_slice(trimmed).ok();
        let (id, text) = match parsed {
            Some(InLine {
                id,
                text: Value::String(t),
            }) => (id, Some(t)),
            Some(InLine { id, .. }) => (id, None),
            None => (Value::Null, None),
        };
        let Some(text) = text else {
            stats.malformed += 1;
            write_line(
                &mut writer,
                &OutLine {
                    id: &id,
                    text: UNSCANNABLE_REPLACEMENT,
                    spans: options.spans.then(Vec::new),
                },
            )?;
            continue;
        };
        let outcome = redactor.redact(&text);
        if let Outcome::Unscannable(_) = outcome {
            stats.unscannable += 1;
        } else if outcome.is_modified() {
            stats.redacted += 1;
        }
        for f in outcome.findings() {
            *stats
                .by_kind
                .entry(redactor.kind_name(f.kind).to_string())
                .or_insert(0) += 1;
        }
        let spans = options.spans.then(|| {
            outcome
                .findings()
                .iter()
                .map(|f| OutSpan {
                    start: f.start,
                    end: f.end,
                    kind: redactor.kind_name(f.kind),
                })
                .collect()
        });
        write_line(
            &mut writer,
            &OutLine {
                id: &id,
                text: outcome.text(),
                spans,
            },
        )?;
    }
    writer.flush()?;
    Ok(stats)
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn write_line(writer: &mut impl Write, out: &OutLine<'_>) -> io::Result<()> {
    serde_json::to_writer(&mut *writer, out).map_err(io::Error::other)?;
    writer.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn round_trip_keeps_ids_and_drops_bad_lines() {
        let r = crate::RedactorConfig::default().build().unwrap();
        let input = concat!(
            "{\"id\": 7, \"text\": \"key AKIAABCDEFGHIJKLMNOP\"}\n",
            "\n",
            "{\"id\": {\"a\": [1]}, \"text\": \"nothing here\"}\r\n",
            "not json\n",
            "{\"id\": \"x\", \"text\": 12}\n",
        );
        let mut out = Vec::new();
        let stats = redact_jsonl(input.as_bytes(), &mut out, &r).unwrap();
        let lines: Vec<Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["id"], 7);
        assert_eq!(lines[0]["text"], "key [REDACTED:aws_access_key_id]");
        assert_eq!(lines[1]["id"]["a"][0], 1);
        assert_eq!(lines[1]["text"], "nothing here");
        assert_eq!(lines[2]["text"], UNSCANNABLE_REPLACEMENT);
        assert_eq!(lines[3]["id"], "x");
        assert_eq!(lines[3]["text"], UNSCANNABLE_REPLACEMENT);
        assert_eq!((stats.records, stats.redacted, stats.malformed), (4, 1, 2));
        assert_eq!(stats.by_kind.get("aws_access_key_id"), Some(&1));
    }
}
