//! The dead-letter file: what a sink can never deliver, with why.
//!
//! One JSON line per record under `<data_dir>/dead-letter/<sink>.jsonl`:
//! `{"time_unix_nano": "...", "sink": "...", "reason": "...", "record": ...}`.
//! Records are already redacted (redaction runs before anything is queued),
//! reasons never hold record content. Each write is flushed and synced
//! before it returns, because a dead letter is the last copy.

use std::{
    fs::{File, OpenOptions},
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

/// Appends undeliverable records for one sink.
#[derive(Debug)]
pub struct DeadLetters {
    sink: String,
    path: PathBuf,
    file: BufWriter<File>,
    written: u64,
}

impl DeadLetters {
    /// Opens (creating) `<data_dir>/dead-letter/<sink>.jsonl` for appending.
    pub fn open(data_dir: &Path, sink: &str) -> std::io::Result<DeadLetters> {
        let dir = data_dir.join("dead-letter");
        std::fs::create_dir_all(&dir)?;
        let safe: String = sink
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{safe}.jsonl"));
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(DeadLetters {
            sink: sink.to_owned(),
            path,
            file: BufWriter::new(file),
            written: 0,
        })
    }

    /// Writes `records` with `reason`, then flushes and syncs.
    pub fn write(
        &mut self,
        reason: &str,
        now_unix_nano: u64,
        records: &[serde_json::Value],
    ) -> std::io::Result<()> {
        for record in records {
            let line = serde_json::json!({
                "time_unix_nano": now_unix_nano.to_string(),
                "sink": self.sink,
                "reason": reason,
                "record": record,
            });
            serde_json::to_writer(&mut self.file, &line)?;
            self.file.write_all(b"\n")?;
        }
        self.file.flush()?;
        self.file.get_ref().sync_data()?;
        self.written += records.len() as u64;
        Ok(())
    }

    /// Records written since opening.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dead_letters_append_with_their_reason_across_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = DeadLetters::open(dir.path(), "splunk/main").unwrap();
        d.write(
            "HTTP 400",
            7,
            &[serde_json::json!({"a": 1}), serde_json::json!({"a": 2})],
        )
        .unwrap();
        assert_eq!(d.written(), 2);
        drop(d);
        let mut d = DeadLetters::open(dir.path(), "splunk/main").unwrap();
        d.write("HTTP 413", 8, &[serde_json::json!({"a": 3})])
            .unwrap();
        assert_eq!(d.path(), dir.path().join("dead-letter/splunk_main.jsonl"));
        let text = std::fs::read_to_string(d.path()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["reason"], "HTTP 400");
        assert_eq!(lines[0]["sink"], "splunk/main");
        assert_eq!(lines[0]["time_unix_nano"], "7");
        assert_eq!(lines[2]["record"]["a"], 3);
        assert_eq!(lines[2]["reason"], "HTTP 413");
    }
}
