//! The clock stages read time from, injected so that timeouts are tested by
//! moving a [`ManualClock`], never by sleeping.

use std::sync::atomic::{AtomicU64, Ordering};

/// A source of wall-clock time in Unix nanoseconds.
pub trait Clock: Send + Sync + 'static {
    /// Now, in Unix nanoseconds.
    fn now_unix_nano(&self) -> u64;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_nano(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to (tests, replays).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock standing at `unix_nano`.
    pub fn new(unix_nano: u64) -> ManualClock {
        ManualClock(AtomicU64::new(unix_nano))
    }
    /// Moves the clock forward by `nanos`.
    pub fn advance(&self, nanos: u64) {
        self.0.fetch_add(nanos, Ordering::SeqCst);
    }
    /// Sets the clock.
    pub fn set(&self, unix_nano: u64) {
        self.0.store(unix_nano, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix_nano(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
