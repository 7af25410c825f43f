//! Consumer cursors: one small file per consumer under `cursors/`,
//! `<name>.cursor`, holding the acked LSN (u64 LE) and a CRC32C of those
//! eight bytes (u32 LE).
//!
//! A cursor is replaced atomically: written to `<name>.cursor.tmp`, synced,
//! renamed over the old one, and the directory synced. A crash leaves the
//! old cursor or the new one, never a mix; a leftover `.tmp` is removed at
//! open. A cursor that fails its checksum anyway (damage at rest) reads as
//! 0, "nothing acked": its consumer gets everything still kept again, a
//! duplicate rather than a loss.

use std::path::Path;

use super::{Lsn, WalError, fs::Filesystem, io_at};

/// The cursors' directory inside the WAL directory.
pub(crate) const DIR: &str = "cursors";
const EXT: &str = ".cursor";
const TMP: &str = ".cursor.tmp";

/// Whether `name` can name a consumer (and so a file).
pub(crate) fn check_name(name: &str) -> Result<(), WalError> {
    let ok = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(WalError::BadName(name.to_owned()))
    }
}

fn encode(lsn: Lsn) -> [u8; 12] {
    let mut out = [0; 12];
    out[..8].copy_from_slice(&lsn.0.to_le_bytes());
    let crc = crc32c::crc32c(&out[..8]);
    out[8..].copy_from_slice(&crc.to_le_bytes());
    out
}

fn decode(bytes: &[u8]) -> Option<Lsn> {
    let (value, crc) = (bytes.get(..8)?, bytes.get(8..12)?);
    if bytes.len() != 12 || crc32c::crc32c(value).to_le_bytes() != crc {
        return None;
    }
    let mut v = [0; 8];
    v.copy_from_slice(value);
    Some(Lsn(u64::from_le_bytes(v)))
}

/// A cursor as loaded at open.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) name: String,
    pub(crate) acked: Lsn,
    /// The file failed its checksum and reads as 0.
    pub(crate) damaged: bool,
}

/// Loads every cursor in `cursors/` and removes leftover temp files.
pub(crate) fn load_all(fs: &dyn Filesystem, wal_dir: &Path) -> Result<Vec<Loaded>, WalError> {
    let dir = wal_dir.join(DIR);
    let mut names = fs.list(&dir).map_err(io_at(&dir))?;
    names.sort();
    let mut out = Vec::new();
    for file in names {
        let path = dir.join(&file);
        if file.ends_with(TMP) {
            fs.remove(&path).map_err(io_at(&path))?;
            continue;
        }
        let Some(name) = file.strip_suffix(EXT) else {
            continue;
        };
        if check_name(name).is_err() {
            continue;
        }
        let bytes = fs.read_all(&path).map_err(io_at(&path))?;
        let decoded = decode(&bytes);
        if decoded.is_none() {
            tracing::warn!(cursor = %path.display(), "WAL cursor damaged; its consumer replays everything kept");
        }
        out.push(Loaded {
            name: name.to_owned(),
            acked: decoded.unwrap_or_default(),
            damaged: decoded.is_none(),
        });
    }
    Ok(out)
}

/// Durably replaces `name`'s cursor with `lsn`.
pub(crate) fn store(
    fs: &dyn Filesystem,
    wal_dir: &Path,
    name: &str,
    lsn: Lsn,
) -> Result<(), WalError> {
    let dir = wal_dir.join(DIR);
    let tmp = dir.join(format!("{name}{TMP}"));
    let path = dir.join(format!("{name}{EXT}"));
    let mut f = fs.create(&tmp).map_err(io_at(&tmp))?;
    f.write_all(&encode(lsn)).map_err(io_at(&tmp))?;
    f.sync_data().map_err(io_at(&tmp))?;
    drop(f);
    fs.rename(&tmp, &path).map_err(io_at(&path))?;
    fs.sync_dir(&dir).map_err(io_at(&dir))
}

/// Durably removes `name`'s cursor.
pub(crate) fn remove(fs: &dyn Filesystem, wal_dir: &Path, name: &str) -> Result<(), WalError> {
    let dir = wal_dir.join(DIR);
    let path = dir.join(format!("{name}{EXT}"));
    fs.remove(&path).map_err(io_at(&path))?;
    fs.sync_dir(&dir).map_err(io_at(&dir))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["otlp", "splunk-hec_1", "a.b", &"x".repeat(64)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "a/b", "a b", "é", &"x".repeat(65), ".."] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encoding_round_trips_and_damage_reads_as_none() {
        let bytes = encode(Lsn(123_456_789));
        assert_eq!(decode(&bytes), Some(Lsn(123_456_789)));
        for i in 0..12 {
            let mut d = bytes;
            d[i] ^= 0x10;
            assert_eq!(decode(&d), None);
        }
        assert_eq!(decode(&bytes[..11]), None);
        assert_eq!(decode(&[bytes.as_slice(), &[0]].concat()), None);
    }
}
