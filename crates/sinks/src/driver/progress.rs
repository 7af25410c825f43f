//! How far a sink has finished in the write-ahead log.
//!
//! Jobs reach the driver in log order, each with its LSN; one job becomes
//! several encoded units, which are batched with units of other jobs and
//! delivered out of order by concurrent requests. [`Progress`] counts each
//! job's units still out; the finished point moves past a job only when it
//! and every job before it have no unit out (each was delivered or
//! dead-lettered). [`AckPoint`] publishes that point to the sink's WAL
//! reader thread, which acknowledges it durably. Units abandoned at
//! shutdown are never counted finished, so their jobs are read again on the
//! next start.

use std::{
    collections::VecDeque,
    sync::{Arc, Condvar, Mutex, PoisonError},
    time::Duration,
};

/// The finished point, shared between the driver task and the WAL reader.
#[derive(Debug, Default)]
pub struct AckPoint {
    state: Mutex<PointState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct PointState {
    done: Option<u64>,
    stopped: bool,
}

impl AckPoint {
    /// Every job up to and including this LSN is finished.
    pub fn done(&self) -> Option<u64> {
        self.lock().done
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PointState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, lsn: u64) {
        let mut s = self.lock();
        if s.done.is_none_or(|d| d < lsn) {
            s.done = Some(lsn);
        }
    }

    /// Marks the driver stopped (it takes and finishes nothing more).
    pub fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }

    /// Waits until the driver stopped, at most `limit`; true if it did.
    pub fn wait_stopped(&self, limit: Duration) -> bool {
        let s = self.lock();
        let (s, _) = self
            .changed
            .wait_timeout_while(s, limit, |s| !s.stopped)
            .unwrap_or_else(PoisonError::into_inner);
        s.stopped
    }
}

/// Stops the [`AckPoint`] when dropped: the driver task ending in any way
/// (drained, abandoned, panicked, cancelled) releases its reader.
#[derive(Debug)]
pub struct StopOnDrop(pub Arc<AckPoint>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// The driver's count of units out per job, oldest job first.
#[derive(Debug, Default)]
pub struct Progress {
    /// `(lsn, units out)` of each job not yet passed.
    jobs: VecDeque<(u64, u32)>,
    /// The sequence number of `jobs[0]`.
    first: u64,
}

impl Progress {
    /// Starts tracking a job; returns its sequence number for its units.
    pub fn open(&mut self, lsn: u64) -> u64 {
        self.jobs.push_back((lsn, 0));
        self.first + self.jobs.len() as u64 - 1
    }

    fn slot(&mut self, seq: u64) -> Option<&mut (u64, u32)> {
        let i = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        self.jobs.get_mut(i)
    }

    /// One more unit of job `seq` is out.
    pub fn add(&mut self, seq: u64) {
        if let Some(job) = self.slot(seq) {
            job.1 += 1;
        }
    }

    /// One unit of job `seq` was delivered or dead-lettered.
    pub fn finish(&mut self, seq: u64) {
        if let Some(job) = self.slot(seq) {
            job.1 = job.1.saturating_sub(1);
        }
    }

    /// Moves `point` past every leading job with nothing out.
    pub fn advance(&mut self, point: &AckPoint) {
        let mut last = None;
        while let Some(&(lsn, 0)) = self.jobs.front() {
            last = Some(lsn);
            self.jobs.pop_front();
            self.first += 1;
        }
        if let Some(lsn) = last {
            point.set(lsn);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_point_passes_a_job_only_when_it_and_all_before_are_finished() {
        let point = AckPoint::default();
        let mut p = Progress::default();
        let a = p.open(10);
        p.add(a);
        p.add(a);
        let b = p.open(20);
        p.add(b);
        let c = p.open(30); // nothing for this sink
        p.advance(&point);
        assert_eq!(point.done(), None);
        // b finishes first: out of order, the point must not pass a.
        p.finish(b);
        p.advance(&point);
        assert_eq!(point.done(), None);
        p.finish(a);
        p.advance(&point);
        assert_eq!(point.done(), None);
        p.finish(a);
        p.advance(&point);
        assert_eq!(point.done(), Some(30), "a, b and the empty c are passed");
        let d = p.open(40);
        p.add(d);
        p.advance(&point);
        assert_eq!(point.done(), Some(30));
        let _ = c;
    }

    #[test]
    fn a_stopped_driver_releases_its_reader() {
        let point = Arc::new(AckPoint::default());
        assert!(!point.wait_stopped(Duration::from_millis(1)));
        let guard = StopOnDrop(Arc::clone(&point));
        let t = std::thread::spawn(move || drop(guard));
        t.join().unwrap();
        assert!(point.wait_stopped(Duration::from_secs(5)));
    }
}
