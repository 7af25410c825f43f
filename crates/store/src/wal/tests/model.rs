//! Model-based crash test on [`SimFs`]: random appends, commits, reads,
//! acks, commits and acks cut short by I/O faults, bytes flipped at rest,
//! crashes (unsynced bytes lost or torn and garbled) and restarts, checked
//! against a model of what must, may and must not be read.
//!
//! After every operation and every crash + reopen:
//! - a consumer reads every committed frame after its ack, in order,
//!   exactly as written, and never a frame that was not committed, was
//!   damaged, or holds the wrong bytes: every frame read is checked against
//!   the payload appended at that LSN, and reaching the head with a
//!   committed frame unread fails;
//! - frames of a commit cut short by a fault may come back (whole) or not;
//!   an ack cut short leaves the old cursor or the new one;
//! - opening never fails, whatever the crash left;
//! - segments deleted while running do not come back after a crash;
//! - a flipped byte is counted as exactly one quarantined frame;
//! - bytes in use (segment files + buffered frames) stay within the budget,
//!   `Full` is answered only when the frame would not fit, and once every
//!   consumer has acked everything the log shrinks back to nothing.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    sync::Arc,
};

use proptest::prelude::*;

use crate::wal::{
    Durability, Filesystem, Lsn, Reader, SimFs, Wal, WalConfig, WalError, frame::parse_segment_name,
};

const BUDGET: u64 = 2048;
const NAMES: [&str; 2] = ["a", "b"];

fn cfg(durability: Durability) -> WalConfig {
    WalConfig {
        durability,
        ..super::config(256, BUDGET)
    }
}

#[derive(Clone, Debug)]
enum Op {
    Append(usize),
    Commit,
    /// Commit with the n-th filesystem operation failing, then crash.
    CommitFault(u64, u64),
    Read(usize, usize),
    /// Ack the `pick`-th frame read and not yet acked.
    Ack(usize, usize),
    /// Ack with the n-th filesystem operation failing, then crash.
    AckFault(usize, usize, u64, u64),
    /// Flip a bit in a committed frame, then restart.
    Damage(usize, usize),
    Crash(u64),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0usize..300).prop_map(Op::Append),
        4 => Just(Op::Commit),
        1 => (0u64..6, any::<u64>()).prop_map(|(n, s)| Op::CommitFault(n, s)),
        5 => (0usize..2, 1usize..8).prop_map(|(c, n)| Op::Read(c, n)),
        4 => (0usize..2, any::<usize>()).prop_map(|(c, p)| Op::Ack(c, p)),
        1 => (0usize..2, any::<usize>(), 0u64..6, any::<u64>())
            .prop_map(|(c, p, n, s)| Op::AckFault(c, p, n, s)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(f, b)| Op::Damage(f, b)),
        1 => any::<u64>().prop_map(Op::Crash),
        1 => Just(Op::Restart),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Committed: must be read by every consumer not past it.
    Must,
    /// Its commit failed: may be read, whole, or not at all.
    Maybe,
    /// Quarantined or lost: must never be read.
    Never,
}

#[derive(Debug)]
struct Frame {
    payload: Vec<u8>,
    kind: Kind,
}

struct World {
    durability: Durability,
    fs: SimFs,
    dir: PathBuf,
    wal: Option<Wal>,
    readers: Vec<Reader>,
    frames: BTreeMap<u64, Frame>,
    pending: Vec<u64>,
    acked: [u64; 2],
    /// An ack whose call failed: the cursor may hold it.
    ack_maybe: [Option<u64>; 2],
    /// Where each reader's next read starts.
    pos: [u64; 2],
    /// Frames read and not yet acked, per consumer.
    unacked: [Vec<u64>; 2],
    /// Segments deleted while running (with their directory synced).
    deleted: BTreeSet<u64>,
    /// Damage injected since the last open (None: anything may be counted,
    /// after a fault).
    damage: Option<u64>,
    /// Quarantined frames counted over all opens.
    quarantined: u64,
    serial: usize,
}

impl World {
    fn new(durability: Durability) -> World {
        let fs = SimFs::new();
        let dir = PathBuf::from("/wal");
        let mut wal = Wal::open_with(&dir, cfg(durability), Arc::new(fs.clone())).unwrap();
        let readers = NAMES.iter().map(|n| wal.register(n).unwrap()).collect();
        World {
            durability,
            fs,
            dir,
            wal: Some(wal),
            readers,
            frames: BTreeMap::new(),
            pending: Vec::new(),
            acked: [0; 2],
            ack_maybe: [None; 2],
            pos: [0; 2],
            unacked: [Vec::new(), Vec::new()],
            deleted: BTreeSet::new(),
            damage: Some(0),
            quarantined: 0,
            serial: 0,
        }
    }

    fn wal(&mut self) -> &mut Wal {
        self.wal.as_mut().unwrap()
    }

    fn segments(&self) -> BTreeMap<u64, u64> {
        let names = self.fs.list(&self.dir).unwrap();
        names
            .iter()
            .filter_map(|n| parse_segment_name(n).map(|b| (b, n)))
            .map(|(b, n)| (b, self.fs.read_all(&self.dir.join(n)).unwrap().len() as u64))
            .collect()
    }

    fn min_acked(&self) -> u64 {
        self.acked[0].min(self.acked[1])
    }

    fn append(&mut self, len: usize) {
        self.serial += 1;
        let mut payload = format!("{}:", self.serial).into_bytes();
        payload.resize(len.max(payload.len()), (self.serial % 251) as u8);
        let pending_bytes: u64 = self
            .pending
            .iter()
            .map(|l| 8 + self.frames[l].payload.len() as u64)
            .sum();
        match self.wal().append(&payload) {
            Ok(lsn) => {
                assert!(self.frames.keys().all(|&l| l < lsn.0), "LSNs increase");
                self.pending.push(lsn.0);
                self.frames.insert(
                    lsn.0,
                    Frame {
                        payload,
                        kind: Kind::Never,
                    },
                );
            }
            Err(WalError::Full { used, budget }) => {
                assert_eq!(budget, BUDGET);
                // The payload, not the requested `len`: a short request still
                // carries its `serial:` prefix.
                assert!(
                    used <= BUDGET && used + 8 + payload.len() as u64 > BUDGET,
                    "{used}"
                );
                let head = self.wal().head().0;
                let caught_up = self.acked.iter().all(|&a| a >= head);
                assert!(
                    !(caught_up && pending_bytes == 0),
                    "Full with every consumer caught up and nothing buffered"
                );
            }
            Err(e) => panic!("append: {e}"),
        }
    }

    fn settle_pending(&mut self, kind: Kind) {
        for l in std::mem::take(&mut self.pending) {
            if let Some(f) = self.frames.get_mut(&l) {
                f.kind = kind;
            }
        }
    }

    fn commit(&mut self) {
        let last = self.pending.last().copied();
        let head = self.wal().commit().unwrap();
        if let Some(last) = last {
            assert_eq!(head.0, last);
        }
        self.settle_pending(self.committed());
    }

    /// What a successful commit promises.
    fn committed(&self) -> Kind {
        match self.durability {
            Durability::Fsync => Kind::Must,
            // Survives a restart, not a crash: the model cannot tell which.
            Durability::Buffered => Kind::Maybe,
        }
    }

    fn commit_fault(&mut self, n: u64, seed: u64) {
        self.fs.fail_after(n);
        let result = self.wal().commit();
        self.fs.clear_faults();
        self.settle_pending(if result.is_ok() {
            self.committed()
        } else {
            Kind::Maybe
        });
        self.restart(Some(seed), true);
    }

    fn read(&mut self, c: usize, max: usize) {
        let got = self.readers[c].read(max, 1 << 20).unwrap();
        for (lsn, payload) in &got {
            let prev = self.pos[c];
            assert!(lsn.0 > prev, "{} read {lsn} after {prev}", NAMES[c]);
            if let Some((skipped, _)) = self
                .frames
                .range(prev + 1..lsn.0)
                .find(|(_, f)| f.kind == Kind::Must)
            {
                panic!("{} skipped committed frame {skipped}", NAMES[c]);
            }
            let f = self
                .frames
                .get(&lsn.0)
                .unwrap_or_else(|| panic!("no frame ends at {lsn}"));
            assert_ne!(
                f.kind,
                Kind::Never,
                "{} read a lost frame at {lsn}",
                NAMES[c]
            );
            assert_eq!(&f.payload, payload, "wrong bytes at {lsn}");
            self.pos[c] = lsn.0;
            self.unacked[c].push(lsn.0);
        }
        if got.len() < max {
            // At the head: nothing committed may be left unread.
            let pos = self.pos[c];
            let left = self
                .frames
                .range(pos + 1..)
                .find(|(_, f)| f.kind == Kind::Must);
            assert!(
                left.is_none(),
                "{} stopped before committed {left:?}",
                NAMES[c]
            );
        }
    }

    fn pick_ack(&mut self, c: usize, pick: usize) -> Option<u64> {
        let n = self.unacked[c].len();
        (n > 0).then(|| self.unacked[c][pick % n])
    }

    fn ack(&mut self, c: usize, pick: usize) {
        if let Some(lsn) = self.pick_ack(c, pick) {
            self.readers[c].ack(Lsn(lsn)).unwrap();
            self.acked[c] = lsn;
            self.unacked[c].retain(|&l| l > lsn);
        }
    }

    fn ack_fault(&mut self, c: usize, pick: usize, n: u64, seed: u64) {
        let Some(lsn) = self.pick_ack(c, pick) else {
            return;
        };
        self.fs.fail_after(n);
        let result = self.readers[c].ack(Lsn(lsn));
        self.fs.clear_faults();
        match result {
            Ok(()) => self.acked[c] = lsn,
            Err(_) => self.ack_maybe[c] = Some(lsn),
        }
        self.restart(Some(seed), true);
    }

    fn damage(&mut self, pick: usize, byte: usize) {
        let min = self.min_acked();
        let candidates: Vec<u64> = self
            .frames
            .range(min + 1..)
            .filter(|(_, f)| f.kind == Kind::Must)
            .map(|(&l, _)| l)
            .collect();
        if candidates.is_empty() {
            return;
        }
        let lsn = candidates[pick % candidates.len()];
        let size = 8 + self.frames[&lsn].payload.len() as u64;
        let start = lsn - size;
        let segments = self.segments();
        let (&base, _) = segments.range(..=start).next_back().unwrap();
        let next_base = segments
            .range(base + 1..)
            .next()
            .map_or(u64::MAX, |(&b, _)| b);
        let offset = start - base + byte as u64 % size;
        let path = self.dir.join(crate::wal::frame::segment_name(base));
        self.fs.corrupt(&path, offset, 1 << (byte % 8)).unwrap();
        // The frame and the rest of its segment go to quarantine.
        for (_, f) in self.frames.range_mut(start + 1..=next_base) {
            f.kind = Kind::Never;
        }
        self.damage = self.damage.map(|d| d + 1);
        self.restart(None, false);
    }

    /// Drops everything (the process dies), crashes the disk if `seed`,
    /// reopens and checks what came back.
    fn restart(&mut self, seed: Option<u64>, faulted: bool) {
        let before = self.segments();
        self.readers.clear();
        self.wal = None;
        // Frames never committed never reached the disk: their positions
        // are free again.
        for l in std::mem::take(&mut self.pending) {
            self.frames.remove(&l);
        }
        if let Some(seed) = seed {
            self.fs.crash(seed);
        }
        let after = self.segments();
        for base in after.keys() {
            assert!(
                !self.deleted.contains(base),
                "deleted segment {base} came back"
            );
        }
        if faulted || (seed.is_some() && self.durability == Durability::Buffered) {
            self.damage = None;
        } else if seed.is_some() {
            // With nothing unsynced, a crash changes nothing.
            assert_eq!(before, after, "a crash lost synced data");
        }
        let mut wal = Wal::open_with(&self.dir, cfg(self.durability), Arc::new(self.fs.clone()))
            .unwrap_or_else(|e| panic!("reopen failed: {e}"));
        let quarantined = wal.stats().quarantined_frames();
        if let Some(expected) = self.damage {
            assert_eq!(quarantined, expected, "quarantined frames");
        }
        self.quarantined += quarantined;
        self.damage = Some(0);
        // Past the head nothing survived; those positions are free again.
        let head = wal.head().0;
        let gone = self.frames.split_off(&(head + 1));
        if let Some((l, _)) = gone.iter().find(|(_, f)| f.kind == Kind::Must) {
            panic!("committed frame {l} is past the head {head}");
        }
        self.readers = NAMES.iter().map(|n| wal.register(n).unwrap()).collect();
        for (c, name) in NAMES.iter().enumerate() {
            let acked = self.readers[c].acked().0;
            let maybe = self.ack_maybe[c].take();
            assert!(
                acked == self.acked[c] || Some(acked) == maybe,
                "{name} cursor {acked}, expected {} or {maybe:?}",
                self.acked[c]
            );
            self.acked[c] = acked;
            self.pos[c] = acked;
            self.unacked[c].clear();
        }
        self.wal = Some(wal);
    }

    fn step(&mut self, op: &Op) {
        let before: BTreeSet<u64> = self.segments().into_keys().collect();
        let mut faulted = false;
        match *op {
            Op::Append(len) => self.append(len),
            Op::Commit => self.commit(),
            Op::CommitFault(n, seed) => {
                faulted = true;
                self.commit_fault(n, seed);
            }
            Op::Read(c, n) => self.read(c, n),
            Op::Ack(c, pick) => self.ack(c, pick),
            Op::AckFault(c, pick, n, seed) => {
                faulted = true;
                self.ack_fault(c, pick, n, seed);
            }
            Op::Damage(pick, byte) => self.damage(pick, byte),
            Op::Crash(seed) => self.restart(Some(seed), false),
            Op::Restart => self.restart(None, false),
        }
        let now = self.segments();
        if !faulted {
            self.deleted
                .extend(before.iter().filter(|b| !now.contains_key(b)));
        }
        let pending: u64 = self
            .pending
            .iter()
            .map(|l| 8 + self.frames[l].payload.len() as u64)
            .sum();
        let used = self.wal().stats().bytes_used;
        assert_eq!(used, now.values().sum::<u64>() + pending, "bytes in use");
        assert!(used <= BUDGET);
    }

    /// Every consumer reads and acks everything: the log shrinks to nothing.
    fn finish(&mut self) {
        self.commit();
        for c in 0..2 {
            self.read(c, usize::MAX);
            let head = self.wal().head();
            if self.acked[c] < head.0 {
                self.readers[c].ack(head).unwrap();
                self.acked[c] = head.0;
            }
        }
        self.wal().reclaim().unwrap();
        assert_eq!(self.wal().stats().bytes_used, 0);
        assert_eq!(
            self.segments().len(),
            1,
            "only the empty segment being written"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn crashes_lose_nothing_committed(ops in proptest::collection::vec(op(), 1..80)) {
        let mut world = World::new(Durability::Fsync);
        for op in &ops {
            world.step(op);
        }
        world.finish();
        let files = world.fs.list(&world.dir.join("quarantine")).unwrap().len() as u64;
        prop_assert_eq!(files, world.quarantined, "one quarantine file per damaged frame counted");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// `Buffered` promises less (a crash may take committed frames), but
    /// still: opening never fails, and nothing damaged, misplaced or never
    /// committed is ever read.
    #[test]
    fn buffered_crashes_never_return_garbage(ops in proptest::collection::vec(op(), 1..80)) {
        let mut world = World::new(Durability::Buffered);
        for op in &ops {
            world.step(op);
        }
        world.finish();
    }
}
