//! The entries committed most recently, already typed, for consumers that
//! keep up: a consumer reading a frame still in here takes the writer's own
//! `Arc` instead of decoding the frame again. One decode saved per frame
//! per consumer is most of a consumer's CPU; a consumer that fell behind (or
//! replays after a restart) decodes from the log as before.
//!
//! Bounded by the frames' encoded bytes; the oldest entries go first.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, PoisonError},
};

use super::entry::Entry;
use crate::wal::Lsn;

/// Default bound: encoded bytes of the entries kept.
pub const DEFAULT_BYTES: usize = 16 << 20;

/// Shared between the journal (which adds what it committed) and every
/// consumer (which looks frames up by LSN).
#[derive(Clone, Debug)]
pub struct Recent(Arc<Mutex<Inner>>);

#[derive(Debug)]
struct Inner {
    entries: VecDeque<(Lsn, Entry, usize)>,
    bytes: usize,
    cap: usize,
}

impl Recent {
    /// Keeps up to `cap` encoded bytes of entries.
    pub fn new(cap: usize) -> Recent {
        Recent(Arc::new(Mutex::new(Inner {
            entries: VecDeque::new(),
            bytes: 0,
            cap,
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds committed entries, in LSN order.
    pub fn extend(&self, committed: impl IntoIterator<Item = (Lsn, Entry, usize)>) {
        let mut inner = self.lock();
        for (lsn, entry, bytes) in committed {
            if bytes > inner.cap {
                continue;
            }
            inner.bytes += bytes;
            inner.entries.push_back((lsn, entry, bytes));
        }
        while inner.bytes > inner.cap {
            match inner.entries.pop_front() {
                Some((_, _, n)) => inner.bytes -= n,
                None => break,
            }
        }
    }

    /// The entry committed at `lsn`, if it is still kept.
    pub fn get(&self, lsn: Lsn) -> Option<Entry> {
        let inner = self.lock();
        let i = inner
            .entries
            .binary_search_by_key(&lsn, |(l, _, _)| *l)
            .ok()?;
        inner.entries.get(i).map(|(_, e, _)| e.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn chains(n: usize) -> Entry {
        Entry::Chains(Arc::new(vec![Default::default(); n]))
    }

    #[test]
    fn keeps_the_newest_within_its_bound_and_finds_them_by_lsn() {
        let r = Recent::new(100);
        r.extend([(Lsn(10), chains(1), 40), (Lsn(20), chains(2), 40)]);
        assert_eq!(r.get(Lsn(10)), Some(chains(1)));
        assert_eq!(r.get(Lsn(15)), None);
        r.extend([(Lsn(30), chains(3), 40)]);
        assert_eq!(r.get(Lsn(10)), None, "the oldest made room");
        assert_eq!(r.get(Lsn(20)), Some(chains(2)));
        assert_eq!(r.get(Lsn(30)), Some(chains(3)));
        r.extend([(Lsn(40), chains(4), 1000)]);
        assert_eq!(r.get(Lsn(40)), None, "larger than the bound: not kept");
        assert_eq!(r.get(Lsn(30)), Some(chains(3)));
    }
}
