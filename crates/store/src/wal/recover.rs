//! Recovery at open: find the segments, delete those every consumer is past,
//! check every frame of the rest, and quarantine what is damaged.
//!
//! - A frame cut short at the end of the last segment is a torn tail (a
//!   crash during a commit that never returned). A frame that fails its
//!   checksum, or whose length runs past the end, anywhere else is corrupt.
//! - Either way the bytes from that frame to the end of its segment are
//!   copied to `quarantine/<segment>-<offset>.bin` (synced), then cut from
//!   the segment. Everything after a bad frame in its segment goes too:
//!   frames are found only by following lengths, and a length that cannot
//!   be trusted leaves no trustworthy way to find the next frame. The next
//!   segment starts at its own known position, so the scan goes on there.
//! - Cutting the last segment leaves positions that were once used; the
//!   writer continues in a fresh segment past them, so an LSN is never
//!   given to two different frames.
//!
//! Nothing here fails on damage: only an I/O error stops the open.

use std::{collections::BTreeMap, path::Path};

use super::{
    Lsn, WalError,
    frame::{FrameReader, Next, parse_segment_name, segment_name},
    fs::Filesystem,
    io_at,
    shared::{Counters, bump},
};

/// The quarantine directory inside the WAL directory.
pub(crate) const QUARANTINE: &str = "quarantine";

/// What is on disk after recovery.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Segment base -> bytes of whole, checked frames.
    pub(crate) segments: BTreeMap<u64, u64>,
    /// Where the next frame must go: past the head, past anything cut and
    /// past every consumer's cursor. If it is not the end of the last
    /// segment, the writer starts a new segment there.
    pub(crate) next: u64,
}

/// Scans `dir`. `min_acked` is the smallest consumer cursor (`None`: no
/// consumer, delete nothing) and `max_acked` the largest.
pub(crate) fn recover(
    fs: &dyn Filesystem,
    dir: &Path,
    min_acked: Option<Lsn>,
    max_acked: Lsn,
    counters: &Counters,
) -> Result<Recovered, WalError> {
    let mut bases: Vec<u64> = fs
        .list(dir)
        .map_err(io_at(dir))?
        .iter()
        .filter_map(|n| parse_segment_name(n))
        .collect();
    bases.sort_unstable();

    let mut segments = BTreeMap::new();
    let mut deleted = false;
    let mut next = 0;
    for (i, &base) in bases.iter().enumerate() {
        let path = dir.join(segment_name(base));
        let next_base = bases.get(i + 1).copied();
        if let (Some(nb), Some(min)) = (next_base, min_acked)
            && nb <= min.0
        {
            fs.remove(&path).map_err(io_at(&path))?;
            bump(&counters.segments_deleted, 1);
            deleted = true;
            continue;
        }
        let file = fs.open_read(&path).map_err(io_at(&path))?;
        let len = file.size().map_err(io_at(&path))?;
        let mut frames = FrameReader::at(0);
        let (good, damage) = loop {
            match frames.next(&*file, len).map_err(io_at(&path))? {
                Next::Frame { .. } => {}
                Next::End => break (len, None),
                Next::Incomplete if next_base.is_none() => break (frames.pos(), Some(true)),
                Next::Incomplete | Next::Corrupt => break (frames.pos(), Some(false)),
            }
        };
        drop(file);
        if let Some(torn) = damage {
            quarantine(fs, dir, base, good, len)?;
            bump(&counters.quarantined_bytes, len - good);
            if torn {
                bump(&counters.torn_tails, 1);
            } else {
                bump(&counters.corrupt_frames, 1);
            }
            tracing::warn!(
                segment = %path.display(),
                offset = good,
                bytes = len - good,
                torn,
                "WAL: damaged frame quarantined with the rest of its segment"
            );
        }
        segments.insert(base, good);
        next = next.max(base + len);
    }
    if deleted {
        fs.sync_dir(dir).map_err(io_at(dir))?;
    }
    let head = segments
        .last_key_value()
        .map_or(0, |(base, len)| base + len);
    Ok(Recovered {
        segments,
        next: next.max(head).max(max_acked.0),
    })
}

/// Copies `[from, to)` of segment `base` to the quarantine directory, syncs
/// it, then cuts the segment at `from`.
fn quarantine(
    fs: &dyn Filesystem,
    dir: &Path,
    base: u64,
    from: u64,
    to: u64,
) -> Result<(), WalError> {
    let seg = dir.join(segment_name(base));
    let file = fs.open_read(&seg).map_err(io_at(&seg))?;
    let size = usize::try_from(to - from).map_err(|e| WalError::Io {
        path: seg.clone(),
        source: std::io::Error::other(e),
    })?;
    let mut bytes = vec![0; size];
    let mut got = 0;
    while got < size {
        let n = file
            .read_at(&mut bytes[got..], from + got as u64)
            .map_err(io_at(&seg))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    bytes.truncate(got);
    drop(file);

    let qdir = dir.join(QUARANTINE);
    let qpath = qdir.join(format!("{}-{from}.bin", segment_name(base)));
    let mut q = fs.create(&qpath).map_err(io_at(&qpath))?;
    q.write_all(&bytes).map_err(io_at(&qpath))?;
    q.sync_data().map_err(io_at(&qpath))?;
    drop(q);
    fs.sync_dir(&qdir).map_err(io_at(&qdir))?;
    fs.truncate(&seg, from).map_err(io_at(&seg))?;
    Ok(())
}
