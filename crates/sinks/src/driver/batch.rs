//! Batching by count, bytes and delay, sans-IO: the caller passes the time.
//!
//! An item is pushed with its encoded size. A batch is emitted when the
//! next item would pass `max_bytes` or the count reaches `max_items`, or
//! when the oldest item has waited `max_delay`. An item bigger than
//! `max_bytes` on its own is emitted alone, so the sink can refuse it
//! (permanently: it never fits) instead of the batcher holding it forever.

use std::time::{Duration, Instant};

/// Limits of one batch: each sink passes its contract's documented sizes
/// (with margin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most items in one batch.
    pub max_items: usize,
    /// Most encoded bytes in one batch.
    pub max_bytes: usize,
    /// Longest an item waits for company.
    pub max_delay: Duration,
}

/// Collects items into batches.
#[derive(Debug)]
pub struct Batcher<T> {
    limits: BatchLimits,
    items: Vec<T>,
    bytes: usize,
    since: Option<Instant>,
}

impl<T> Batcher<T> {
    /// An empty batcher.
    pub fn new(limits: BatchLimits) -> Batcher<T> {
        Batcher {
            limits: BatchLimits {
                max_items: limits.max_items.max(1),
                ..limits
            },
            items: Vec::new(),
            bytes: 0,
            since: None,
        }
    }

    /// Adds an item of `size` encoded bytes; returns the batches it
    /// completed (zero, one or two).
    pub fn push(&mut self, item: T, size: usize, now: Instant) -> Vec<Vec<T>> {
        let mut out = Vec::new();
        if !self.items.is_empty() && self.bytes.saturating_add(size) > self.limits.max_bytes {
            out.extend(self.take());
        }
        self.items.push(item);
        self.bytes = self.bytes.saturating_add(size);
        self.since.get_or_insert(now);
        if self.items.len() >= self.limits.max_items || self.bytes >= self.limits.max_bytes {
            out.extend(self.take());
        }
        out
    }

    /// The batch whose delay ran out by `now`, if any.
    pub fn due(&mut self, now: Instant) -> Option<Vec<T>> {
        let since = self.since?;
        (now.saturating_duration_since(since) >= self.limits.max_delay)
            .then(|| self.take())
            .flatten()
    }

    /// When the pending batch falls due (`None` when empty).
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|s| s + self.limits.max_delay)
    }

    /// Everything pending, as one batch (shutdown).
    pub fn take(&mut self) -> Option<Vec<T>> {
        self.bytes = 0;
        self.since = None;
        (!self.items.is_empty()).then(|| std::mem::take(&mut self.items))
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    fn limits(items: usize, bytes: usize) -> BatchLimits {
        BatchLimits {
            max_items: items,
            max_bytes: bytes,
            max_delay: Duration::from_secs(1),
        }
    }

    #[test]
    fn count_bytes_and_delay_each_close_a_batch() {
        let t0 = Instant::now();
        let mut b = Batcher::new(limits(3, 1000));
        assert!(b.push(1, 10, t0).is_empty());
        assert!(b.push(2, 10, t0).is_empty());
        assert_eq!(b.push(3, 10, t0), vec![vec![1, 2, 3]]);

        let mut b = Batcher::new(limits(100, 25));
        assert!(b.push(1, 10, t0).is_empty());
        assert!(b.push(2, 10, t0).is_empty());
        // The third would pass 25 bytes: the first two go, it waits.
        assert_eq!(b.push(3, 10, t0), vec![vec![1, 2]]);
        assert_eq!(b.len(), 1);

        let mut b = Batcher::new(limits(100, 1000));
        b.push(1, 10, t0);
        assert_eq!(b.deadline(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(b.due(t0 + Duration::from_millis(999)), None);
        assert_eq!(b.due(t0 + Duration::from_secs(1)), Some(vec![1]));
        assert!(b.is_empty());
        assert_eq!(b.deadline(), None);
    }

    #[test]
    fn an_oversized_item_goes_alone() {
        let t0 = Instant::now();
        let mut b = Batcher::new(limits(100, 50));
        b.push(1, 10, t0);
        assert_eq!(b.push(2, 80, t0), vec![vec![1], vec![2]]);
        assert!(b.is_empty());
    }

    proptest! {
        /// Nothing is lost, nothing duplicated, order kept, limits held
        /// (except an oversized item alone).
        #[test]
        fn every_item_once_in_order_within_limits(
            sizes in proptest::collection::vec(0usize..120, 0..200),
            max_items in 1usize..20,
            max_bytes in 1usize..300,
        ) {
            let t0 = Instant::now();
            let mut b = Batcher::new(limits(max_items, max_bytes));
            let mut batches = Vec::new();
            for (i, &s) in sizes.iter().enumerate() {
                batches.extend(b.push((i, s), s, t0));
            }
            batches.extend(b.take());
            let flat: Vec<usize> = batches.iter().flatten().map(|(i, _)| *i).collect();
            prop_assert_eq!(flat, (0..sizes.len()).collect::<Vec<_>>());
            for batch in &batches {
                prop_assert!(!batch.is_empty());
                prop_assert!(batch.len() <= max_items);
                let bytes: usize = batch.iter().map(|(_, s)| s).sum();
                prop_assert!(bytes <= max_bytes || batch.len() == 1);
            }
        }
    }
}
