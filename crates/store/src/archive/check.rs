//! The rules one segment's lines must follow, checked in order: shared by
//! [`verify`](crate::archive::verify()) over a whole archive and by the
//! writer when it reopens its last segment.
//!
//! Per line: the fixed layout parses; the seq is the one after the previous
//! entry's; `prev` is the previous entry's hash; the stored hash is the hash
//! recomputed over the exact bytes; a record's body is JSON; a seal's body is
//! a [`Seal`] naming this segment whose signature verifies. Per segment: the
//! first entry is an open seal, nothing follows a close seal, the last line
//! ends with a newline, and every segment but the last ends with a close
//! seal.

use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;

use crate::archive::format::{
    EntryKind, GENESIS, Hash, Line, Seal, SealKind, parse_line, peek_seq,
};

/// What is wrong with the first bad entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The line does not have the archive's fixed layout, or its body is not
    /// JSON, or a seal's fields do not parse.
    #[error("malformed line: {0}")]
    Malformed(String),
    /// The stored hash is not the hash of the line's bytes: the entry was
    /// modified.
    #[error("hash mismatch: the line stores {stored} but its bytes hash to {computed} (modified)")]
    HashMismatch {
        /// The stored hash, hex.
        stored: String,
        /// The recomputed hash, hex.
        computed: String,
    },
    /// `prev` is not the hash of the entry before: the entry before was
    /// replaced, or this one was moved here.
    #[error("broken link: prev {prev} is not the hash of the entry before ({expected})")]
    BrokenLink {
        /// The stored prev, hex.
        prev: String,
        /// The hash of the entry before, hex.
        expected: String,
    },
    /// Entries are missing before this one (deleted lines).
    #[error("seq gap: expected seq {expected}, found {found}: entries were deleted")]
    Missing {
        /// The seq that should be here.
        expected: u64,
        /// The seq that is here.
        found: u64,
    },
    /// The expected seq appears later in the segment: lines were reordered.
    #[error("reordered: expected seq {expected} here, found {found}; seq {expected} comes later")]
    Reordered {
        /// The seq that should be here.
        expected: u64,
        /// The seq that is here.
        found: u64,
    },
    /// A seq at or below one already seen: a line was inserted, replayed or
    /// moved back.
    #[error("seq {found} again (expected {expected}): a line was inserted, replayed or moved")]
    Repeated {
        /// The seq that should be here.
        expected: u64,
        /// The seq that is here.
        found: u64,
    },
    /// A seal's signature does not verify under the key in use.
    #[error("bad seal signature: {0}")]
    BadSignature(String),
    /// The segment is cut short.
    #[error("truncated segment: {0}")]
    Truncated(String),
    /// A segment index is missing between two files.
    #[error("missing segment: expected segment {expected}, found segment {found}")]
    MissingSegment {
        /// The index that should come next.
        expected: u64,
        /// The index that does.
        found: u64,
    },
    /// The archive starts after seq 1 but no seal records that retention
    /// deleted the entries before it.
    #[error(
        "the archive starts at seq {first_seq} but the seals record pruning only through seq {pruned_through}: older segments were deleted outside retention"
    )]
    PrunedWithoutRecord {
        /// The first seq present.
        first_seq: u64,
        /// The highest `pruned_through` any seal states.
        pruned_through: u64,
    },
    /// The segment does not start with its open seal, or an open seal is
    /// somewhere else, or a seal names another segment.
    #[error("misplaced seal: {0}")]
    MisplacedSeal(String),
    /// An entry follows the segment's close seal.
    #[error("entry after the segment's close seal")]
    EntryAfterClose,
}

/// The first bad entry: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEntry {
    /// The segment file.
    pub file: PathBuf,
    /// The line number in it, from 1.
    pub line: u64,
    /// The entry's seq when it could be read.
    pub seq: Option<u64>,
    /// What is wrong.
    pub problem: Problem,
}

impl std::fmt::Display for BadEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}", self.file.display(), self.line)?;
        if let Some(seq) = self.seq {
            write!(f, " (seq {seq})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// A seal's place in the chain, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealPoint {
    /// The seal entry's seq.
    pub seq: u64,
    /// Its chain hash, hex.
    pub hash: String,
    /// Its kind.
    pub kind: SealKind,
    /// When it was written, Unix nanoseconds.
    pub time_unix_nano: u64,
}

/// What one walked segment ended with.
#[derive(Clone, Debug)]
pub(crate) struct SegmentSummary {
    /// Its open seal's time (when the segment was created).
    pub open_time: u64,
    /// The seq of its open seal.
    pub first_seq: u64,
    /// Whether its last entry is a close seal.
    pub closed: bool,
}

/// Walks segments in order, carrying the chain across them.
pub(crate) struct Walker<'k> {
    key: &'k VerifyingKey,
    /// seq and hash of the last good entry.
    pub head: Option<(u64, Hash)>,
    /// The seq the walk started at.
    pub first_seq: Option<u64>,
    /// The highest `pruned_through` of any seal seen.
    pub pruned_through: u64,
    /// Records seen.
    pub records: u64,
    /// Seals seen.
    pub seals: u64,
    /// Records after the last seal.
    pub unsealed: u64,
    /// The last seal seen.
    pub last_seal: Option<SealPoint>,
}

fn bad(file: &Path, index: usize, seq: Option<u64>, problem: Problem) -> BadEntry {
    BadEntry {
        file: file.to_owned(),
        line: index as u64 + 1,
        seq,
        problem,
    }
}

impl<'k> Walker<'k> {
    /// A walk that checks seals under `key`.
    pub fn new(key: &'k VerifyingKey) -> Walker<'k> {
        Walker {
            key,
            head: None,
            first_seq: None,
            pruned_through: 0,
            records: 0,
            seals: 0,
            unsealed: 0,
            last_seal: None,
        }
    }

    /// Checks segment `index` held in `bytes`; `last` says whether it is
    /// the archive's last segment (the only one allowed to lack a close).
    pub fn segment(
        &mut self,
        index: u64,
        file: &Path,
        bytes: &[u8],
        last: bool,
    ) -> Result<SegmentSummary, BadEntry> {
        if bytes.is_empty() {
            let problem = Problem::Truncated("the segment is empty (no open seal)".into());
            return Err(bad(file, 0, None, problem));
        }
        let mut pieces: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        // After the final newline `split` yields an empty piece; anything
        // else there is a line that was cut.
        let torn = pieces.pop().filter(|p| !p.is_empty());
        let mut summary = SegmentSummary {
            open_time: 0,
            first_seq: 0,
            closed: false,
        };
        for (i, raw) in pieces.iter().enumerate() {
            if summary.closed {
                return Err(bad(file, i, peek_seq(raw), Problem::EntryAfterClose));
            }
            let line =
                parse_line(raw).map_err(|e| bad(file, i, peek_seq(raw), Problem::Malformed(e)))?;
            let later = pieces.get(i + 1..).unwrap_or(&[]);
            self.link(&line, later)
                .map_err(|p| bad(file, i, Some(line.seq), p))?;
            match line.kind {
                EntryKind::Record => {
                    if i == 0 {
                        let p = Problem::MisplacedSeal(
                            "the segment does not start with its open seal".into(),
                        );
                        return Err(bad(file, i, Some(line.seq), p));
                    }
                    serde_json::from_slice::<serde::de::IgnoredAny>(line.body).map_err(|e| {
                        bad(
                            file,
                            i,
                            Some(line.seq),
                            Problem::Malformed(format!("record is not JSON: {e}")),
                        )
                    })?;
                    self.records += 1;
                    self.unsealed += 1;
                }
                EntryKind::Seal => {
                    let seal = self
                        .seal(index, i, &line)
                        .map_err(|p| bad(file, i, Some(line.seq), p))?;
                    if i == 0 {
                        summary.open_time = seal.time_unix_nano;
                        summary.first_seq = line.seq;
                    }
                    summary.closed = seal.kind == SealKind::Close;
                }
            }
            self.head = Some((line.seq, line.hash));
        }
        if let Some(piece) = torn {
            let p = Problem::Truncated(
                "the last line has no newline: the segment was cut mid-line".into(),
            );
            return Err(bad(file, pieces.len(), peek_seq(piece), p));
        }
        if !last && !summary.closed {
            let next = self.head.map(|(seq, _)| seq + 1);
            let p = Problem::Truncated(format!(
                "the segment ends after line {} without its close seal, but a later segment follows",
                pieces.len()
            ));
            return Err(bad(file, pieces.len(), next, p));
        }
        Ok(summary)
    }

    /// Checks seq, prev and hash of `line` against the chain so far.
    fn link(&mut self, line: &Line<'_>, later: &[&[u8]]) -> Result<(), Problem> {
        match self.head {
            None => {
                // The first entry of the walk: its seal's signature (checked
                // next) vouches for where it continues from.
                if line.seq == 0 || (line.seq == 1 && line.prev != GENESIS) {
                    return Err(Problem::BrokenLink {
                        prev: hex::encode(line.prev),
                        expected: hex::encode(GENESIS),
                    });
                }
                self.first_seq = Some(line.seq);
            }
            Some((seq, hash)) => {
                let expected = seq + 1;
                if line.seq > expected {
                    let comes_later = later.iter().any(|l| peek_seq(l) == Some(expected));
                    return Err(if comes_later {
                        Problem::Reordered {
                            expected,
                            found: line.seq,
                        }
                    } else {
                        Problem::Missing {
                            expected,
                            found: line.seq,
                        }
                    });
                }
                if line.seq < expected {
                    return Err(Problem::Repeated {
                        expected,
                        found: line.seq,
                    });
                }
                if line.prev != hash {
                    return Err(Problem::BrokenLink {
                        prev: hex::encode(line.prev),
                        expected: hex::encode(hash),
                    });
                }
            }
        }
        let computed = line.computed_hash();
        if computed != line.hash {
            return Err(Problem::HashMismatch {
                stored: hex::encode(line.hash),
                computed: hex::encode(computed),
            });
        }
        Ok(())
    }

    /// Parses and checks a seal at position `i` of segment `index`.
    fn seal(&mut self, index: u64, i: usize, line: &Line<'_>) -> Result<Seal, Problem> {
        let seal: Seal = serde_json::from_slice(line.body)
            .map_err(|e| Problem::Malformed(format!("seal: {e}")))?;
        if (i == 0) != (seal.kind == SealKind::Open) {
            return Err(Problem::MisplacedSeal(if i == 0 {
                "the segment does not start with its open seal".into()
            } else {
                "an open seal inside a segment".into()
            }));
        }
        if seal.segment != index {
            return Err(Problem::MisplacedSeal(format!(
                "the seal belongs to segment {}, not {index}",
                seal.segment
            )));
        }
        seal.verify(line.seq, line.prev, self.key)
            .map_err(Problem::BadSignature)?;
        self.seals += 1;
        self.unsealed = 0;
        self.pruned_through = self.pruned_through.max(seal.pruned_through);
        self.last_seal = Some(SealPoint {
            seq: line.seq,
            hash: hex::encode(line.hash),
            kind: seal.kind,
            time_unix_nano: seal.time_unix_nano,
        });
        Ok(seal)
    }
}
