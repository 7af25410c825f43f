//! Opening an archive: rebuilding the writer's state from disk, cutting a
//! torn last line into `quarantine/`, and refusing a damaged last segment or
//! another key. See the parent module for the invariants.

use std::{
    fs::{self, OpenOptions},
    io::{BufWriter, Write},
};

use super::{Archive, ArchiveError, Closed, State, io_at};
use crate::archive::{
    check::Walker,
    format::{GENESIS, Seal, SealKind, parse_line},
    segments::{self, SegmentFile, sync_dir},
    verify::PUBKEY_FILE,
};

/// The open seal of a segment: (first seq, open time, key).
fn open_seal(seg: &SegmentFile) -> Option<(u64, Seal)> {
    let line = segments::first_line(&seg.path, 64 * 1024).ok()??;
    let parsed = parse_line(&line).ok()?;
    let seal: Seal = serde_json::from_slice(parsed.body).ok()?;
    (seal.kind == SealKind::Open).then_some((parsed.seq, seal))
}

impl Archive {
    /// Builds the state from disk: see the module docs.
    pub(super) fn load(&mut self) -> Result<State, ArchiveError> {
        fs::create_dir_all(&self.dir).map_err(io_at(&self.dir))?;
        let mut files = segments::list(&self.dir).map_err(io_at(&self.dir))?;
        if let Some(last) = files.last()
            && let Some((_, seal)) = open_seal(last)
            && seal.key != self.public_key
        {
            return Err(ArchiveError::KeyMismatch {
                segment: last.path.clone(),
                archive_key: seal.key,
                key: self.public_key.clone(),
            });
        }
        self.write_pubkey()?;
        let now = self.clock.now_unix_nano();
        let (last, bytes) = loop {
            let Some(last) = files.last().cloned() else {
                let st = self.start_segment(1, 0, GENESIS, 0, Vec::new(), now)?;
                return Ok(st);
            };
            let mut bytes = fs::read(&last.path).map_err(io_at(&last.path))?;
            let good = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            if good < bytes.len() {
                self.quarantine(&last, &bytes, good, now)?;
                bytes.truncate(good);
            }
            if bytes.is_empty() {
                // A segment whose open seal never made it: nothing in it.
                fs::remove_file(&last.path).map_err(io_at(&last.path))?;
                sync_dir(&self.dir).map_err(io_at(&self.dir))?;
                files.pop();
                continue;
            }
            break (last, bytes);
        };
        let verifying = self.key.verifying_key();
        let mut walker = Walker::new(&verifying);
        let summary = walker
            .segment(last.index, &last.path, &bytes, true)
            .map_err(|b| ArchiveError::Damaged(Box::new(b)))?;
        let opens: Vec<Option<(u64, Seal)>> = files.iter().map(open_seal).collect();
        let closed: Vec<Closed> = files
            .iter()
            .take(files.len().saturating_sub(1))
            .enumerate()
            .map(|(i, seg)| Closed {
                path: seg.path.clone(),
                first_seq: opens.get(i).and_then(|o| o.as_ref().map(|(seq, _)| *seq)),
                closed_at: opens
                    .get(i + 1)
                    .and_then(|o| o.as_ref().map(|(_, s)| s.time_unix_nano)),
            })
            .collect();
        let (seq, head) = walker.head.unwrap_or((0, GENESIS));
        if summary.closed {
            // Rotated cleanly, then stopped before (or while) starting the
            // next segment: start it now.
            let mut closed = closed;
            closed.push(Closed {
                path: last.path.clone(),
                first_seq: Some(summary.first_seq),
                closed_at: walker.last_seal.as_ref().map(|s| s.time_unix_nano),
            });
            let pruned = walker.pruned_through;
            let mut st = self.start_segment(last.index + 1, seq, head, pruned, closed, now)?;
            self.prune(&mut st, now)?;
            return Ok(st);
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&last.path)
            .map_err(io_at(&last.path))?;
        let mut st = State {
            file: BufWriter::with_capacity(256 * 1024, file),
            index: last.index,
            path: last.path.clone(),
            bytes: bytes.len() as u64,
            created: summary.open_time,
            first_seq: summary.first_seq,
            seq,
            head,
            pruned_through: walker.pruned_through,
            since_seal: walker.unsealed,
            last_seal_time: walker.last_seal.as_ref().map_or(0, |s| s.time_unix_nano),
            closed,
            unsynced: false,
            dropped: 0,
        };
        self.prune(&mut st, now)?;
        Ok(st)
    }

    /// Writes `archive.pub` when it is absent or names another key.
    fn write_pubkey(&self) -> Result<(), ArchiveError> {
        let path = self.dir.join(PUBKEY_FILE);
        let want = format!("{}\n", self.public_key);
        if fs::read_to_string(&path).ok().as_deref() == Some(want.as_str()) {
            return Ok(());
        }
        let tmp = self.dir.join(format!("{PUBKEY_FILE}.tmp"));
        fs::write(&tmp, want.as_bytes()).map_err(io_at(&tmp))?;
        fs::rename(&tmp, &path).map_err(io_at(&path))?;
        sync_dir(&self.dir).map_err(io_at(&self.dir))
    }

    /// Copies the torn tail `bytes[good..]` of `seg` to `quarantine/`,
    /// syncs it, then cuts it from the segment.
    fn quarantine(
        &mut self,
        seg: &SegmentFile,
        bytes: &[u8],
        good: usize,
        now: u64,
    ) -> Result<(), ArchiveError> {
        let qdir = self.dir.join("quarantine");
        fs::create_dir_all(&qdir).map_err(io_at(&qdir))?;
        let name = seg
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("segment");
        let mut n = 0u32;
        let (path, mut file) = loop {
            let path = qdir.join(format!("{name}.torn-{now}-{n}"));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(f) => break (path, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(io_at(&path)(e)),
            }
        };
        let torn = bytes.get(good..).unwrap_or(&[]);
        file.write_all(torn).map_err(io_at(&path))?;
        file.sync_all().map_err(io_at(&path))?;
        sync_dir(&qdir).map_err(io_at(&qdir))?;
        sync_dir(&self.dir).map_err(io_at(&self.dir))?;
        let seg_file = OpenOptions::new()
            .write(true)
            .open(&seg.path)
            .map_err(io_at(&seg.path))?;
        seg_file.set_len(good as u64).map_err(io_at(&seg.path))?;
        seg_file.sync_all().map_err(io_at(&seg.path))?;
        self.quarantined += 1;
        tracing::warn!(
            segment = %seg.path.display(),
            quarantine = %path.display(),
            bytes = torn.len(),
            "the archive's last line was torn (a crash mid-write); moved it to quarantine and continued from the last complete entry"
        );
        Ok(())
    }
}
