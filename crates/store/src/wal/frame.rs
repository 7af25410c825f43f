//! Frames and segment names.
//!
//! A frame is `[u32 len LE][u32 crc LE][payload; len]` where `crc` is
//! CRC32C over the four length bytes and then the payload, so a damaged
//! length is caught as surely as a damaged payload. Segments are
//! `wal-<base>.log` with `base` (the log position of the segment's first
//! byte) zero-padded to 20 digits, so names sort in log order.

use std::io;

use super::fs::ReadFile;

/// Bytes before each payload: length and checksum.
pub const FRAME_HEADER: usize = 8;

/// How much a reader asks the disk for at once.
const CHUNK: usize = 256 << 10;

/// The largest payload a frame can carry.
pub(crate) const MAX_PAYLOAD: u64 = u32::MAX as u64;

fn checksum(len: [u8; 4], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&len), payload)
}

/// Appends `payload` framed to `out`. The caller keeps `payload` under
/// `u32::MAX` bytes (longer payloads are cut at that length's low bits, so
/// they would not read back).
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    let len = (payload.len() as u32).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&checksum(len, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// The name of the segment starting at `base`.
pub(crate) fn segment_name(base: u64) -> String {
    format!("wal-{base:020}.log")
}

/// The base of a segment file name; `None` for any other file.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What comes next in a segment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next<'a> {
    /// A whole, checked frame ending at file offset `end`.
    Frame { end: u64, payload: &'a [u8] },
    /// Nothing more before the limit.
    End,
    /// A frame starts but does not fit before the limit: a torn tail, or a
    /// damaged length.
    Incomplete,
    /// A whole frame whose checksum does not match.
    Corrupt,
}

/// Reads frames one after the other from a segment, a chunk at a time.
#[derive(Debug, Default)]
pub(crate) struct FrameReader {
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_at: u64,
    /// File offset of the next frame.
    pos: u64,
}

impl FrameReader {
    /// A reader starting at file offset `pos`.
    pub(crate) fn at(pos: u64) -> FrameReader {
        FrameReader {
            buf: Vec::new(),
            buf_at: pos,
            pos,
        }
    }

    /// File offset of the next frame.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Makes `buf` hold `[pos, pos + need)`; false if that passes `limit` or
    /// the end of the file.
    fn fill(&mut self, file: &dyn ReadFile, need: u64, limit: u64) -> io::Result<bool> {
        let Some(want_end) = self.pos.checked_add(need).filter(|&e| e <= limit) else {
            return Ok(false);
        };
        if self.buf_at + self.buf.len() as u64 >= want_end {
            return Ok(true);
        }
        let consumed = usize::try_from(self.pos - self.buf_at).map_err(io::Error::other)?;
        self.buf.drain(..consumed.min(self.buf.len()));
        self.buf_at = self.pos;
        let target = (need as usize).max(CHUNK).min((limit - self.pos) as usize);
        let mut have = self.buf.len();
        self.buf.resize(target, 0);
        while (have as u64) < need {
            let n = file.read_at(&mut self.buf[have..], self.buf_at + have as u64)?;
            if n == 0 {
                break;
            }
            have += n;
        }
        self.buf.truncate(have);
        Ok(have as u64 >= need)
    }

    /// The next frame before `limit` (a file offset).
    pub(crate) fn next(&mut self, file: &dyn ReadFile, limit: u64) -> io::Result<Next<'_>> {
        if self.pos >= limit {
            return Ok(Next::End);
        }
        if !self.fill(file, FRAME_HEADER as u64, limit)? {
            // Fewer than 8 bytes before the limit, or the file is shorter
            // than the limit says.
            return Ok(Next::Incomplete);
        }
        let at = (self.pos - self.buf_at) as usize;
        let header = &self.buf[at..at + FRAME_HEADER];
        let len = [header[0], header[1], header[2], header[3]];
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let size = FRAME_HEADER as u64 + u64::from(u32::from_le_bytes(len));
        if !self.fill(file, size, limit)? {
            return Ok(Next::Incomplete);
        }
        let at = (self.pos - self.buf_at) as usize;
        let payload = &self.buf[at + FRAME_HEADER..at + size as usize];
        if checksum(len, payload) != crc {
            return Ok(Next::Corrupt);
        }
        self.pos += size;
        Ok(Next::Frame {
            end: self.pos,
            payload,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Bytes(Vec<u8>);
    impl ReadFile for Bytes {
        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
            let start = (offset as usize).min(self.0.len());
            let n = buf.len().min(self.0.len() - start);
            buf[..n].copy_from_slice(&self.0[start..start + n]);
            Ok(n)
        }
        fn size(&self) -> io::Result<u64> {
            Ok(self.0.len() as u64)
        }
    }

    #[test]
    fn names_round_trip_and_reject_others() {
        assert_eq!(segment_name(42), "wal-00000000000000000042.log");
        assert_eq!(parse_segment_name(&segment_name(42)), Some(42));
        assert_eq!(parse_segment_name(&segment_name(u64::MAX)), Some(u64::MAX));
        for other in [
            "wal-42.log",
            "wal-0000000000000000004x.log",
            "x.log",
            "wal-00000000000000000042.log.tmp",
        ] {
            assert_eq!(parse_segment_name(other), None, "{other}");
        }
    }

    #[test]
    fn frames_read_back_and_damage_is_caught() {
        let mut bytes = Vec::new();
        encode_frame(b"hello", &mut bytes);
        encode_frame(b"", &mut bytes);
        encode_frame(&[7; 300_000], &mut bytes);
        let file = Bytes(bytes.clone());
        let mut r = FrameReader::at(0);
        let limit = bytes.len() as u64;
        assert_eq!(
            r.next(&file, limit).unwrap(),
            Next::Frame {
                end: 13,
                payload: b"hello"
            }
        );
        assert_eq!(
            r.next(&file, limit).unwrap(),
            Next::Frame {
                end: 21,
                payload: b""
            }
        );
        assert!(
            matches!(r.next(&file, limit).unwrap(), Next::Frame { payload, .. } if payload.len() == 300_000)
        );
        assert_eq!(r.next(&file, limit).unwrap(), Next::End);

        // Any single flipped bit in any frame is caught: as a checksum
        // mismatch, or as a length that no longer fits.
        for at in 0..21 {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[at] ^= 1 << bit;
                let file = Bytes(damaged);
                let mut r = FrameReader::at(0);
                let first = r.next(&file, limit).unwrap();
                let second = if matches!(first, Next::Frame { .. }) {
                    r.next(&file, limit).unwrap()
                } else {
                    first
                };
                assert!(
                    matches!(second, Next::Corrupt | Next::Incomplete),
                    "flip at {at} bit {bit}: {second:?}"
                );
            }
        }
        // A cut anywhere inside a frame is incomplete.
        for cut in 1..13 {
            let file = Bytes(bytes[..cut].to_vec());
            assert_eq!(
                FrameReader::at(0).next(&file, cut as u64).unwrap(),
                Next::Incomplete
            );
        }
    }
}
