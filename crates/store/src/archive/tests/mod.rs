//! Archive tests on real files in temporary directories: the writer, the
//! verifier against each kind of tampering, export, and a property test of
//! single-byte flips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod export;
mod props;
mod tamper;
mod writer;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use cairn_core::clock::ManualClock;
use ed25519_dalek::VerifyingKey;
use serde_json::json;

use crate::archive::{
    Archive, ArchiveConfig, ArchiveKey, BadEntry, Problem, VerifyError,
    format::{EntryKind, Hash, encode_line, parse_line},
    segments::segment_name,
    verify,
};

/// 2025-06-15T16:00:00Z.
pub(super) const T0: u64 = 1_750_003_200_000_000_000;
pub(super) const SEC: u64 = 1_000_000_000;

pub(super) fn key() -> ArchiveKey {
    ArchiveKey::from_seed(&[7; 32])
}

pub(super) fn pubkey() -> VerifyingKey {
    key().verifying_key()
}

/// Checkpoints every 5 records; no time-based rotation or checkpoints.
pub(super) fn config() -> ArchiveConfig {
    ArchiveConfig {
        max_segment_bytes: 1 << 30,
        max_segment_age: None,
        retention: None,
        checkpoint_records: 5,
        checkpoint_interval: Duration::from_secs(3600),
    }
}

pub(super) struct Fx {
    pub tmp: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
}

impl Fx {
    pub fn new() -> Fx {
        Fx {
            tmp: tempfile::tempdir().unwrap(),
            clock: Arc::new(ManualClock::new(T0)),
        }
    }
    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("archive")
    }
    pub fn open(&self, config: ArchiveConfig) -> Archive {
        Archive::open(&self.dir(), key(), config, self.clock.clone()).unwrap()
    }
    pub fn seg(&self, index: u64) -> PathBuf {
        self.dir().join(segment_name(index))
    }
    /// An archive of `n` records in one segment, closed.
    pub fn written(n: u64) -> Fx {
        let fx = Fx::new();
        let mut a = fx.open(config());
        for i in 0..n {
            a.append(&rec(i)).unwrap();
        }
        a.close().unwrap();
        fx
    }
    pub fn verify(&self) -> Result<crate::archive::VerifyReport, VerifyError> {
        verify(&self.dir(), Some(&pubkey()))
    }
    /// The first bad entry verify reports; fails the test if it passes.
    pub fn bad(&self) -> BadEntry {
        match self.verify() {
            Ok(r) => panic!("verify passed a damaged archive: {r:?}"),
            Err(VerifyError::Bad(b)) => *b,
            Err(e) => panic!("verify failed without naming an entry: {e}"),
        }
    }
}

pub(super) fn rec(i: u64) -> serde_json::Value {
    json!({"kind": "event", "event": "user_prompt", "n": i, "text": format!("record number {i}")})
}

pub(super) fn lines(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let mut v: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    assert_eq!(v.pop(), Some(Vec::new()), "segment must end with a newline");
    v
}

pub(super) fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    std::fs::write(path, out).unwrap();
}

/// What an attacker without the key can do after changing a line: recompute
/// every hash and prev from line `from` (0-based) on, keeping bodies (and so
/// seal signatures) as they are.
pub(super) fn rechain(lines: &mut [Vec<u8>], from: usize) {
    let first = parse_line(&lines[from]).unwrap();
    let mut prev: Hash = first.prev;
    for (seq, l) in (first.seq..).zip(lines.iter_mut().skip(from)) {
        let p = parse_line(l).unwrap();
        let kind: EntryKind = p.kind;
        let body = p.body.to_vec();
        let mut out = Vec::new();
        prev = encode_line(&mut out, seq, &prev, kind, &body);
        out.pop();
        *l = out;
    }
}

pub(super) fn assert_bad(b: &BadEntry, file: &Path, line: u64, seq: Option<u64>) {
    assert_eq!(
        (b.file.as_path(), b.line, b.seq),
        (file, line, seq),
        "wrong entry named: {b}"
    );
}

pub(super) fn is_problem(b: &BadEntry, f: impl Fn(&Problem) -> bool) {
    assert!(f(&b.problem), "unexpected problem: {b}");
}
