//! The records file: every record as one JSON line under
//! `<data-dir>/records/`.
//!
//! Files are named `records-<unix-seconds>-<pid>-<n>.jsonl` so restarts never
//! append to a file another process may still hold, and roll over past
//! `max_file_bytes`. `flush` writes the buffer through to the OS; `fsync`
//! durability arrives with the write-ahead log.

use std::{
    fs::{self, File, OpenOptions},
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use cairn_core::{
    chain::{CHAIN_EVENT_NAME, PromptChain},
    record::Batch,
};

use crate::output::Output;

/// Writes records as JSON lines, rolling files by size.
pub struct RecordsFile {
    dir: PathBuf,
    max_file_bytes: u64,
    stem: String,
    seq: u32,
    written: u64,
    file: BufWriter<File>,
    line: Vec<u8>,
}

impl std::fmt::Debug for RecordsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordsFile")
            .field("dir", &self.dir)
            .field("seq", &self.seq)
            .finish()
    }
}

fn open(dir: &Path, stem: &str, seq: u32) -> std::io::Result<BufWriter<File>> {
    let path = dir.join(format!("{stem}-{seq}.jsonl"));
    let file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(path)?;
    Ok(BufWriter::with_capacity(256 * 1024, file))
}

impl RecordsFile {
    /// Creates `<data_dir>/records/` and opens the first file.
    pub fn create(data_dir: &Path, max_file_bytes: u64) -> std::io::Result<RecordsFile> {
        let dir = data_dir.join("records");
        fs::create_dir_all(&dir)?;
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let stem = format!("records-{secs}-{}", std::process::id());
        let file = open(&dir, &stem, 0)?;
        Ok(RecordsFile {
            dir,
            max_file_bytes,
            stem,
            seq: 0,
            written: 0,
            file,
            line: Vec::with_capacity(4096),
        })
    }

    /// The directory files are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn roll(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        self.seq += 1;
        self.file = open(&self.dir, &self.stem, self.seq)?;
        self.written = 0;
        Ok(())
    }
}

impl RecordsFile {
    /// Writes `self.line` (one JSON value, newline added), rolling first if
    /// the file would pass its size.
    fn put_line(&mut self) -> std::io::Result<()> {
        self.line.push(b'\n');
        if self.written > 0 && self.written + self.line.len() as u64 > self.max_file_bytes {
            self.roll()?;
        }
        self.file.write_all(&self.line)?;
        self.written += self.line.len() as u64;
        Ok(())
    }
}

impl Output for RecordsFile {
    fn write(&mut self, batch: &Batch) -> std::io::Result<()> {
        for record in &batch.records {
            self.line.clear();
            record.write_json(&batch.origin, &mut self.line);
            self.put_line()?;
        }
        Ok(())
    }

    /// One line per chain: `{"kind": "prompt_chain", "event":
    /// "cairn.prompt_chain", "chain": <proto3 JSON>}`.
    fn write_chains(&mut self, chains: &[PromptChain]) -> std::io::Result<()> {
        for chain in chains {
            self.line.clear();
            let line = serde_json::json!({
                "kind": "prompt_chain",
                "event": CHAIN_EVENT_NAME,
                "chain": chain,
            });
            serde_json::to_writer(&mut self.line, &line)?;
            self.put_line()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
