//! The live directory: the [`Directory`] in force and how it is reloaded
//! without a restart.
//!
//! * **Swapping.** [`DirectoryHandle`] holds an `Arc<Directory>` behind a
//!   lock; a reload builds the new directory first and swaps the pointer, so
//!   readers (one `Arc` per batch) never see a half-loaded file and never
//!   wait longer than a pointer copy.
//! * **Change detection.** A version of the file is its mtime and length,
//!   read from the same open file as its contents. Writers should replace
//!   the file by rename; a half-written file that parses is taken and then
//!   replaced on the next poll.
//! * **Bad files.** On reload a bad or missing file keeps the previous
//!   directory, is logged (file and line, never values) and counted once
//!   per version of the file, and is retried when the file changes again.
//! * **Watching.** [`DirectoryHandle::spawn_watcher`] polls on a thread of
//!   its own that holds only a `Weak`, so it ends with the handle or on
//!   [`DirectoryHandle::stop`].

use std::{
    fs::File,
    io::Read as _,
    path::{Path, PathBuf},
    sync::{
        Arc, Condvar, Mutex, PoisonError, RwLock, Weak,
        atomic::{AtomicBool, Ordering},
    },
    thread::{JoinHandle, Thread},
    time::{Duration, SystemTime},
};

use cairn_redact::Pseudonymizer;

use super::{Directory, DirectoryError, DirectoryKey, EnrichStats};

/// What identifies one version of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        }
    }
}

/// Reads the file and the stamp of the exact version read.
pub(super) fn read_file(
    path: &Path,
    key: DirectoryKey,
    pseudonymizer: Option<&Pseudonymizer>,
) -> Result<(Directory, Stamp), DirectoryError> {
    let io = |source| DirectoryError::Io {
        path: path.to_owned(),
        source,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let parse = match ext.as_deref() {
        Some("csv") => Directory::from_csv,
        Some("json") => Directory::from_json,
        _ => {
            return Err(DirectoryError::UnknownFormat {
                path: path.to_owned(),
            });
        }
    };
    let mut file = File::open(path).map_err(io)?;
    let stamp = Stamp::of(&file.metadata().map_err(io)?);
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok((parse(text, path, key, pseudonymizer)?, stamp))
}

/// The live directory: the current [`Directory`] and how to reload it.
pub struct DirectoryHandle {
    path: PathBuf,
    key: DirectoryKey,
    pseudonymizer: Option<Pseudonymizer>,
    current: RwLock<Arc<Directory>>,
    /// The version loaded, and the last version that failed (not retried
    /// until the file changes again).
    stamps: Mutex<(Stamp, Option<Stamp>)>,
    /// Successful loads so far (1 after [`DirectoryHandle::open`]).
    generation: (Mutex<u64>, Condvar),
    stop: AtomicBool,
    watcher: Mutex<Option<Thread>>,
    stats: EnrichStats,
}

impl std::fmt::Debug for DirectoryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryHandle")
            .field("path", &self.path)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl DirectoryHandle {
    /// Loads the file once; a bad file is an error.
    pub fn open(
        path: &Path,
        key: DirectoryKey,
        pseudonymizer: Option<Pseudonymizer>,
        stats: EnrichStats,
    ) -> Result<DirectoryHandle, DirectoryError> {
        let (dir, stamp) = read_file(path, key, pseudonymizer.as_ref())?;
        stats.set_directory(&dir);
        Ok(DirectoryHandle {
            path: path.to_owned(),
            key,
            pseudonymizer,
            current: RwLock::new(Arc::new(dir)),
            stamps: Mutex::new((stamp, None)),
            generation: (Mutex::new(1), Condvar::new()),
            stop: AtomicBool::new(false),
            watcher: Mutex::new(None),
            stats,
        })
    }

    /// The directory in force; take it once per batch.
    pub fn current(&self) -> Arc<Directory> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Successful loads so far, the first one included.
    pub fn generation(&self) -> u64 {
        *self
            .generation
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until [`DirectoryHandle::generation`] reaches `at_least` or
    /// `timeout` passes; returns whether it was reached.
    pub fn wait_for_generation(&self, at_least: u64, timeout: Duration) -> bool {
        let (lock, cvar) = &self.generation;
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = cvar
            .wait_timeout_while(guard, timeout, |g| *g < at_least)
            .unwrap_or_else(PoisonError::into_inner);
        *guard >= at_least
    }

    /// Reloads when the file's mtime or length changed since the version
    /// loaded (or the version that last failed). `Ok(true)`: a new directory
    /// is in force. On error the previous directory stays, and the failure
    /// is logged and counted once for that version of the file.
    pub fn reload_if_changed(&self) -> Result<bool, DirectoryError> {
        let now = match std::fs::metadata(&self.path) {
            Ok(meta) => Some(Stamp::of(&meta)),
            Err(_) => None,
        };
        {
            let stamps = self.stamps.lock().unwrap_or_else(PoisonError::into_inner);
            if now == Some(stamps.0) || (now.is_some() && now == stamps.1) {
                return Ok(false);
            }
        }
        match read_file(&self.path, self.key, self.pseudonymizer.as_ref()) {
            Ok((dir, stamp)) => {
                self.stats.set_directory(&dir);
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(dir);
                *self.stamps.lock().unwrap_or_else(PoisonError::into_inner) = (stamp, None);
                self.stats.directory_reloads.inc();
                let (lock, cvar) = &self.generation;
                *lock.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                cvar.notify_all();
                tracing::info!(path = %self.path.display(), "directory reloaded");
                Ok(true)
            }
            Err(e) => {
                self.stats.directory_reload_failures.inc();
                self.stamps.lock().unwrap_or_else(PoisonError::into_inner).1 = now;
                tracing::warn!(error = %e, "directory reload failed; keeping the previous one");
                Err(e)
            }
        }
    }

    /// Starts a thread that calls [`DirectoryHandle::reload_if_changed`]
    /// every `interval` (at least 10 ms). It ends after
    /// [`DirectoryHandle::stop`], or once every other `Arc` of the handle is
    /// gone (it holds only a `Weak`).
    pub fn spawn_watcher(self: &Arc<Self>, interval: Duration) -> std::io::Result<JoinHandle<()>> {
        let interval = interval.max(Duration::from_millis(10));
        let weak: Weak<Self> = Arc::downgrade(self);
        let handle = std::thread::Builder::new()
            .name("cairn-directory".into())
            .spawn(move || {
                loop {
                    std::thread::park_timeout(interval);
                    let Some(h) = weak.upgrade() else { break };
                    if h.stop.load(Ordering::Acquire) {
                        break;
                    }
                    // Errors are logged and counted inside.
                    let _ = h.reload_if_changed();
                }
            })?;
        *self.watcher.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(handle.thread().clone());
        Ok(handle)
    }

    /// Stops the watcher thread (it exits at once, not after an interval).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake_watcher();
    }

    fn wake_watcher(&self) {
        if let Some(t) = self
            .watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            t.unpark();
        }
    }
}

impl Drop for DirectoryHandle {
    fn drop(&mut self) {
        // The watcher's `Weak` no longer upgrades: wake it so it exits now.
        self.wake_watcher();
    }
}
