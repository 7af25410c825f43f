//! Segment files: their names, listing them in chain order, and the
//! directory fsync that makes a create, rename or delete durable.
//!
//! A segment is `segment-<index>.jsonl` with the index zero-padded to ten
//! digits (wider when it outgrows them). Only names in exactly that form are
//! segments; the archive's other files (`archive.pub`, `quarantine/`) and
//! anything else in the directory are ignored by the writer, the verifier
//! and the exporter alike.

use std::{
    fs,
    io::{self, BufRead, BufReader, Read},
    path::{Path, PathBuf},
};

/// One segment file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentFile {
    /// Its index: 1 for the first segment ever written, then +1 per rotation.
    pub index: u64,
    /// Its path.
    pub path: PathBuf,
}

/// The file name of segment `index`.
pub fn segment_name(index: u64) -> String {
    format!("segment-{index:010}.jsonl")
}

fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("segment-")?.strip_suffix(".jsonl")?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let index: u64 = digits.parse().ok()?;
    (segment_name(index) == name).then_some(index)
}

/// The segments in `dir`, by index.
pub fn list(dir: &Path) -> io::Result<Vec<SegmentFile>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(index) = name.to_str().and_then(parse_name)
            && entry.file_type()?.is_file()
        {
            out.push(SegmentFile {
                index,
                path: entry.path(),
            });
        }
    }
    out.sort_by_key(|s| s.index);
    Ok(out)
}

/// The first line of a file (without its newline), at most `limit` bytes;
/// `None` when the file has no complete first line.
pub fn first_line(path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let mut reader = BufReader::new(fs::File::open(path)?).take(limit);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    Ok(line.pop().filter(|b| *b == b'\n').map(|_| line))
}

/// Makes the directory entry changes in `dir` durable (no-op off Unix).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn names_are_canonical() {
        assert_eq!(segment_name(7), "segment-0000000007.jsonl");
        assert_eq!(parse_name("segment-0000000007.jsonl"), Some(7));
        assert_eq!(parse_name("segment-7.jsonl"), None);
        assert_eq!(parse_name("segment-0000000007.jsonl.bak"), None);
        assert_eq!(parse_name("segment-+000000007.jsonl"), None);
        let big = segment_name(12_345_678_901);
        assert_eq!(parse_name(&big), Some(12_345_678_901));
    }
}
