//! WAL tests: real files in a tempdir (`files`), and the model-based crash
//! test on [`SimFs`](super::SimFs) (`model`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod files;
mod model;

use std::path::Path;

use super::{Durability, Lsn, Reader, Wal, WalConfig};

/// A config with small segments.
fn config(segment_bytes: u64, budget_bytes: u64) -> WalConfig {
    WalConfig {
        segment_bytes,
        budget_bytes,
        durability: Durability::Fsync,
    }
}

/// A payload that says which frame it is.
fn payload(i: usize, len: usize) -> Vec<u8> {
    let mut p = format!("frame-{i}-").into_bytes();
    p.resize(len.max(p.len()), b'a' + (i % 26) as u8);
    p
}

/// Appends and commits each payload alone; returns their LSNs.
fn put(wal: &mut Wal, payloads: &[Vec<u8>]) -> Vec<Lsn> {
    payloads
        .iter()
        .map(|p| {
            let lsn = wal.append(p).unwrap();
            wal.commit().unwrap();
            lsn
        })
        .collect()
}

/// Everything the reader can read now.
fn drain(r: &mut Reader) -> Vec<(Lsn, Vec<u8>)> {
    let mut all = Vec::new();
    loop {
        let got = r.read(7, 1 << 20).unwrap();
        if got.is_empty() {
            return all;
        }
        all.extend(got);
    }
}

/// Segment files in `dir`, sorted.
fn segments(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("wal-"))
        .collect();
    names.sort();
    names
}
