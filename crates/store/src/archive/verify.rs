//! `cairn verify`: walks every segment of an archive in order and either
//! returns a report or names the first bad entry (file, line, seq) and what
//! is wrong with it.
//!
//! Which key the seals are checked under, in order of trust:
//!
//! 1. the key passed in (`--pubkey`), from a copy kept out of band (printed
//!    by `cairn archive pubkey` when the gateway was set up and stored where
//!    whoever can write the data dir cannot). This is the trustworthy mode:
//!    it proves the seals were made by the holder of that private key.
//! 2. `archive.pub` in the archive directory, written by the gateway.
//! 3. the key named in the first segment's open seal.
//!
//! 2 and 3 live beside the data they vouch for: whoever can rewrite the
//! archive can rewrite them too, with a key of their own, and sign a whole
//! new history. Without `--pubkey` a passing verify proves the archive is
//! consistent with itself, not who wrote it; [`VerifyReport::key_source`]
//! says which mode was used.

use std::{
    fs,
    path::{Path, PathBuf},
};

use ed25519_dalek::VerifyingKey;

use crate::archive::{
    check::{BadEntry, Problem, SealPoint, Walker},
    format::{Seal, parse_line},
    key::{KeyError, parse_public_key, public_key_string},
    segments::{self, SegmentFile},
};

/// The public-key file the writer keeps in the archive directory.
pub const PUBKEY_FILE: &str = "archive.pub";

/// Where the key the seals were checked under came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Passed in by the caller (`--pubkey`): the trustworthy mode.
    Given,
    /// Read from `archive.pub` beside the segments.
    KeyFile(PathBuf),
    /// Taken from the first segment's open seal.
    Embedded,
}

/// What a passing verify saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Segment files walked.
    pub segments: u64,
    /// The index of the first segment present.
    pub first_segment: u64,
    /// The index of the last.
    pub last_segment: u64,
    /// Records (entries that are not seals).
    pub records: u64,
    /// Seals, all of which verified.
    pub seals: u64,
    /// The first seq present (1 unless retention pruned older segments).
    pub first_seq: u64,
    /// The last seq.
    pub last_seq: u64,
    /// The chain hash of the last entry, hex: compare with a copy kept
    /// elsewhere to detect truncation of the tail.
    pub head: String,
    /// The last seal: everything up to it is signed.
    pub last_seal: Option<SealPoint>,
    /// Records after the last seal: hash-linked but not yet signed, so
    /// they prove nothing about who wrote them and their removal cannot be
    /// seen.
    pub unsealed_records: u64,
    /// Entries up to this seq were deleted by retention (0: none).
    pub pruned_through: u64,
    /// The key the seals were checked under, base64.
    pub public_key: String,
    /// Where that key came from.
    pub key_source: KeySource,
}

/// Why verify failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The first bad entry.
    #[error("{0}")]
    Bad(Box<BadEntry>),
    /// A file could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The directory holds no segment.
    #[error("{}: no archive segments (segment-*.jsonl)", .0.display())]
    Empty(PathBuf),
    /// The key file beside the archive is unreadable.
    #[error("{0}")]
    Key(#[from] KeyError),
}

impl VerifyError {
    /// The first bad entry, when that is what failed.
    pub fn bad_entry(&self) -> Option<&BadEntry> {
        match self {
            VerifyError::Bad(b) => Some(b),
            _ => None,
        }
    }
}

impl From<BadEntry> for VerifyError {
    fn from(b: BadEntry) -> VerifyError {
        VerifyError::Bad(Box::new(b))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VerifyError + '_ {
    move |source| VerifyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Picks the key (see the module docs).
fn resolve_key(
    dir: &Path,
    given: Option<&VerifyingKey>,
    first: &SegmentFile,
) -> Result<(VerifyingKey, KeySource), VerifyError> {
    if let Some(key) = given {
        return Ok((*key, KeySource::Given));
    }
    let file = dir.join(PUBKEY_FILE);
    if file.exists() {
        let text = fs::read_to_string(&file).map_err(io(&file))?;
        return Ok((parse_public_key(&text)?, KeySource::KeyFile(file)));
    }
    let malformed = |why: String| BadEntry {
        file: first.path.clone(),
        line: 1,
        seq: None,
        problem: Problem::Malformed(why),
    };
    let line = segments::first_line(&first.path, 64 * 1024)
        .map_err(io(&first.path))?
        .ok_or_else(|| malformed("no complete first line to take the key from".into()))?;
    let parsed = parse_line(&line).map_err(&malformed)?;
    let seal: Seal = serde_json::from_slice(parsed.body)
        .map_err(|e| malformed(format!("the first line is not a seal: {e}")))?;
    Ok((parse_public_key(&seal.key)?, KeySource::Embedded))
}

/// Verifies the archive in `dir`, checking seals under `pubkey` or, when
/// `None`, the key found beside the archive (see the module docs).
pub fn verify(dir: &Path, pubkey: Option<&VerifyingKey>) -> Result<VerifyReport, VerifyError> {
    let files = segments::list(dir).map_err(io(dir))?;
    let (Some(first), Some(last)) = (files.first(), files.last()) else {
        return Err(VerifyError::Empty(dir.to_owned()));
    };
    let (key, key_source) = resolve_key(dir, pubkey, first)?;
    let mut walker = Walker::new(&key);
    let mut expected = first.index;
    for (n, seg) in files.iter().enumerate() {
        if seg.index != expected {
            return Err(BadEntry {
                file: seg.path.clone(),
                line: 1,
                seq: walker.head.map(|(seq, _)| seq + 1),
                problem: Problem::MissingSegment {
                    expected,
                    found: seg.index,
                },
            }
            .into());
        }
        let bytes = fs::read(&seg.path).map_err(io(&seg.path))?;
        walker.segment(seg.index, &seg.path, &bytes, n + 1 == files.len())?;
        expected = seg.index + 1;
    }
    let first_seq = walker.first_seq.unwrap_or(0);
    if first_seq > 1 && walker.pruned_through < first_seq - 1 {
        return Err(BadEntry {
            file: first.path.clone(),
            line: 1,
            seq: Some(first_seq),
            problem: Problem::PrunedWithoutRecord {
                first_seq,
                pruned_through: walker.pruned_through,
            },
        }
        .into());
    }
    let (last_seq, head) = walker.head.unwrap_or((0, [0; 32]));
    Ok(VerifyReport {
        segments: files.len() as u64,
        first_segment: first.index,
        last_segment: last.index,
        records: walker.records,
        seals: walker.seals,
        first_seq,
        last_seq,
        head: hex::encode(head),
        last_seal: walker.last_seal,
        unsealed_records: walker.unsealed,
        pruned_through: walker.pruned_through,
        public_key: public_key_string(&key),
        key_source,
    })
}
