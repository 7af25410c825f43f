//! [`SimFs`]: an in-memory [`Filesystem`] that can crash.
//!
//! It keeps, per file, what was written and what was synced, and per
//! directory, its live entries and the entries as of its last
//! [`Filesystem::sync_dir`]. [`SimFs::crash`] is a power cut: every
//! directory goes back to its synced entries (a file created, renamed or
//! removed since is not, or still, there) and every file keeps what was
//! synced plus a random part of what was not, sometimes garbled (zeros or
//! random bytes, as a disk that reordered or half-wrote sectors leaves).
//! [`SimFs::fail_after`] makes the n-th next mutating operation, and all
//! after it until the crash, fail, to stop the log half-way through a
//! commit.
//!
//! Simplifications: directories are created durably; truncation is durable
//! at once (the trait's contract); a failing write leaves the first half of
//! its bytes.

use std::{
    any::Any,
    collections::{BTreeMap, HashMap, HashSet},
    io,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
};

use super::fs::{Filesystem, ReadFile, WriteFile};

/// An in-memory filesystem with crash and fault injection, for tests.
/// Clones share the same disk.
#[derive(Clone, Debug, Default)]
pub struct SimFs {
    inner: Arc<Mutex<Disk>>,
}

#[derive(Debug, Default)]
struct Disk {
    inodes: HashMap<u64, Inode>,
    dirs: BTreeMap<PathBuf, Dir>,
    next_ino: u64,
    locks: HashSet<PathBuf>,
    /// Mutating operations left before they start failing.
    fail_after: Option<u64>,
}

#[derive(Debug, Default)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Debug, Default)]
struct Dir {
    live: BTreeMap<String, u64>,
    durable: BTreeMap<String, u64>,
}

/// splitmix64: enough randomness for crash points, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn split(path: &Path) -> io::Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let parent = path.parent().unwrap_or(Path::new("")).to_path_buf();
    Ok((parent, name.to_owned()))
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: not found", path.display()),
    )
}

impl Disk {
    /// Counts a mutating operation; errors once the fault fuse has burnt.
    fn tick(&mut self) -> io::Result<()> {
        match self.fail_after {
            Some(0) => Err(io::Error::other("injected fault")),
            Some(n) => {
                self.fail_after = Some(n - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn dir(&mut self, dir: &Path) -> io::Result<&mut Dir> {
        self.dirs.get_mut(dir).ok_or_else(|| not_found(dir))
    }

    fn lookup(&mut self, path: &Path) -> io::Result<u64> {
        let (parent, name) = split(path)?;
        self.dir(&parent)?
            .live
            .get(&name)
            .copied()
            .ok_or_else(|| not_found(path))
    }

    fn inode(&mut self, ino: u64) -> io::Result<&mut Inode> {
        self.inodes
            .get_mut(&ino)
            .ok_or_else(|| io::Error::other("stale file handle"))
    }
}

impl SimFs {
    /// An empty disk.
    pub fn new() -> SimFs {
        SimFs::default()
    }

    fn disk(&self) -> io::Result<MutexGuard<'_, Disk>> {
        self.inner
            .lock()
            .map_err(|_| io::Error::other("SimFs lock poisoned"))
    }

    /// A power cut: unsynced directory entries are lost, unsynced file bytes
    /// are kept up to a random point, sometimes garbled. `seed` picks the
    /// outcome. Locks are released and injected faults cleared. Everything
    /// opened before must be dropped first (the process died).
    pub fn crash(&self, seed: u64) {
        let Ok(mut disk) = self.disk() else { return };
        let mut rng = Rng(seed);
        for dir in disk.dirs.values_mut() {
            dir.live = dir.durable.clone();
        }
        let mut inos: Vec<u64> = disk.inodes.keys().copied().collect();
        inos.sort_unstable();
        for ino in inos {
            let Some(inode) = disk.inodes.get_mut(&ino) else {
                continue;
            };
            let new = if inode.data.len() > inode.durable.len()
                && inode.data.starts_with(&inode.durable)
            {
                let synced = inode.durable.len();
                let keep = rng.below(inode.data.len() - synced + 1);
                let mut new = inode.data[..synced + keep].to_vec();
                if keep > 0 && rng.below(2) == 0 {
                    for _ in 0..=rng.below(keep.min(8)) {
                        let at = synced + rng.below(keep);
                        new[at] = if rng.below(2) == 0 {
                            0
                        } else {
                            rng.next() as u8
                        };
                    }
                }
                new
            } else if inode.data != inode.durable && rng.below(2) == 0 {
                inode.data.clone()
            } else {
                inode.durable.clone()
            };
            inode.durable.clone_from(&new);
            inode.data = new;
        }
        disk.locks.clear();
        disk.fail_after = None;
    }

    /// The `n`-th mutating operation from now (0: the next one) and every one
    /// after it fail, until [`SimFs::crash`] or [`SimFs::clear_faults`].
    pub fn fail_after(&self, n: u64) {
        if let Ok(mut disk) = self.disk() {
            disk.fail_after = Some(n);
        }
    }

    /// Stops injecting faults.
    pub fn clear_faults(&self) {
        if let Ok(mut disk) = self.disk() {
            disk.fail_after = None;
        }
    }

    /// XORs one byte of a file, synced and unsynced alike: damage at rest.
    pub fn corrupt(&self, path: &Path, offset: u64, xor: u8) -> io::Result<()> {
        let mut disk = self.disk()?;
        let ino = disk.lookup(path)?;
        let inode = disk.inode(ino)?;
        let at = usize::try_from(offset).map_err(io::Error::other)?;
        for bytes in [&mut inode.data, &mut inode.durable] {
            if let Some(b) = bytes.get_mut(at) {
                *b ^= xor;
            }
        }
        Ok(())
    }

    /// Appends bytes to a file as if a write had not been synced yet.
    pub fn append_unsynced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut disk = self.disk()?;
        let ino = disk.lookup(path)?;
        disk.inode(ino)?.data.extend_from_slice(bytes);
        Ok(())
    }
}

struct SimWrite {
    fs: SimFs,
    ino: u64,
}

impl WriteFile for SimWrite {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut disk = self.fs.disk()?;
        let fault = disk.tick();
        let inode = disk.inode(self.ino)?;
        match fault {
            Ok(()) => {
                inode.data.extend_from_slice(buf);
                Ok(())
            }
            Err(e) => {
                inode.data.extend_from_slice(&buf[..buf.len() / 2]);
                Err(e)
            }
        }
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let mut disk = self.fs.disk()?;
        disk.tick()?;
        let inode = disk.inode(self.ino)?;
        inode.durable.clone_from(&inode.data);
        Ok(())
    }
}

struct SimRead {
    fs: SimFs,
    ino: u64,
}

impl ReadFile for SimRead {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut disk = self.fs.disk()?;
        let data = &disk.inode(self.ino)?.data;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn size(&self) -> io::Result<u64> {
        let mut disk = self.fs.disk()?;
        Ok(disk.inode(self.ino)?.data.len() as u64)
    }
}

struct SimLock {
    fs: SimFs,
    path: PathBuf,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        if let Ok(mut disk) = self.fs.disk() {
            disk.locks.remove(&self.path);
        }
    }
}

impl Filesystem for SimFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut disk = self.disk()?;
        for d in dir.ancestors() {
            disk.dirs.entry(d.to_path_buf()).or_default();
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut disk = self.disk()?;
        Ok(disk.dir(dir)?.live.keys().cloned().collect())
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let (parent, name) = split(path)?;
        let mut disk = self.disk()?;
        disk.tick()?;
        let existing = disk.dir(&parent)?.live.get(&name).copied();
        let ino = match existing {
            Some(ino) => {
                disk.inode(ino)?.data.clear();
                ino
            }
            None => {
                disk.next_ino += 1;
                let ino = disk.next_ino;
                disk.inodes.insert(ino, Inode::default());
                disk.dir(&parent)?.live.insert(name, ino);
                ino
            }
        };
        Ok(Box::new(SimWrite {
            fs: self.clone(),
            ino,
        }))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let ino = self.disk()?.lookup(path)?;
        Ok(Box::new(SimWrite {
            fs: self.clone(),
            ino,
        }))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn ReadFile>> {
        let ino = self.disk()?.lookup(path)?;
        Ok(Box::new(SimRead {
            fs: self.clone(),
            ino,
        }))
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut disk = self.disk()?;
        disk.tick()?;
        let ino = disk.lookup(path)?;
        let inode = disk.inode(ino)?;
        let len = usize::try_from(len).map_err(io::Error::other)?;
        inode.data.resize(len, 0);
        inode.durable.clone_from(&inode.data);
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from_dir, from_name) = split(from)?;
        let (to_dir, to_name) = split(to)?;
        let mut disk = self.disk()?;
        disk.tick()?;
        disk.dir(&to_dir)?;
        let ino = disk
            .dir(&from_dir)?
            .live
            .remove(&from_name)
            .ok_or_else(|| not_found(from))?;
        disk.dir(&to_dir)?.live.insert(to_name, ino);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let (parent, name) = split(path)?;
        let mut disk = self.disk()?;
        disk.tick()?;
        disk.dir(&parent)?
            .live
            .remove(&name)
            .map(|_| ())
            .ok_or_else(|| not_found(path))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut disk = self.disk()?;
        disk.tick()?;
        let d = disk.dir(dir)?;
        d.durable.clone_from(&d.live);
        Ok(())
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<Box<dyn Any + Send>>> {
        let mut disk = self.disk()?;
        if !disk.locks.insert(path.to_path_buf()) {
            return Ok(None);
        }
        Ok(Some(Box::new(SimLock {
            fs: self.clone(),
            path: path.to_path_buf(),
        })))
    }
}
