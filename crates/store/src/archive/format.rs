//! The archive's line format, byte for byte, and the two things computed
//! from it: an entry's chain hash and a seal's signed message.
//!
//! Every line of a segment is one entry, laid out exactly as
//!
//! ```text
//! {"seq":<N>,"prev":"<64 hex>","hash":"<64 hex>","record":<BODY>}\n
//! {"seq":<N>,"prev":"<64 hex>","hash":"<64 hex>","seal":<BODY>}\n
//! ```
//!
//! with `N` in decimal without leading zeros and the hex lowercase. The
//! layout is fixed: the parser checks it byte by byte and takes `BODY` as the
//! exact bytes between the `:` after the kind and the final `}`, so nothing is
//! ever re-serialised before hashing, and a reader that re-encodes JSON
//! differently cannot be fooled into accepting a changed body. Each line is
//! still valid JSON, so `jq` reads segments as they are.
//!
//! The chain hash of an entry is
//! `SHA-256(prev[32] || seq as u64 big-endian[8] || tag[1] || BODY)` where
//! `prev` is the hash of the entry before it (32 zero bytes before the very
//! first entry) and `tag` is `r` for a record and `s` for a seal.
//!
//! A seal's signature is Ed25519 over [`seal_message`]: a fixed binary
//! message binding the seal's kind, segment, seq, `prev`, time and
//! `pruned_through`, so a seal cannot be moved to another place in the chain.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A SHA-256 chain hash.
pub type Hash = [u8; 32];

/// The `prev` of the first entry of an archive that was never pruned.
pub const GENESIS: Hash = [0; 32];

/// The on-disk format version written into every seal.
pub const FORMAT_VERSION: u32 = 1;

/// What an entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// An archived record (its canonical JSON).
    Record,
    /// A signed seal: the open header of a segment, a checkpoint or a close.
    Seal,
}

impl EntryKind {
    fn tag(self) -> u8 {
        match self {
            EntryKind::Record => b'r',
            EntryKind::Seal => b's',
        }
    }
    fn key(self) -> &'static [u8] {
        match self {
            EntryKind::Record => b"record",
            EntryKind::Seal => b"seal",
        }
    }
}

/// The chain hash of one entry (see the module docs for the exact bytes).
pub fn entry_hash(prev: &Hash, seq: u64, kind: EntryKind, body: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update([kind.tag()]);
    h.update(body);
    h.finalize().into()
}

/// Appends one entry line (newline included) to `out` and returns its hash.
/// `body` must be compact JSON without a newline; the caller checks.
pub fn encode_line(out: &mut Vec<u8>, seq: u64, prev: &Hash, kind: EntryKind, body: &[u8]) -> Hash {
    let hash = entry_hash(prev, seq, kind, body);
    let mut hex_buf = [0u8; 64];
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(b",\"prev\":\"");
    out.extend_from_slice(to_hex(prev, &mut hex_buf));
    out.extend_from_slice(b"\",\"hash\":\"");
    out.extend_from_slice(to_hex(&hash, &mut hex_buf));
    out.extend_from_slice(b"\",\"");
    out.extend_from_slice(kind.key());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(body);
    out.extend_from_slice(b"}\n");
    hash
}

fn to_hex<'a>(bytes: &Hash, buf: &'a mut [u8; 64]) -> &'a [u8] {
    // Both lengths are fixed (32 bytes in, 64 out), so this cannot fail.
    if hex::encode_to_slice(bytes, buf).is_err() {
        buf.fill(b'0');
    }
    &buf[..]
}

/// One parsed entry line (without its newline). `body` borrows the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// The entry's sequence number.
    pub seq: u64,
    /// The stored hash of the previous entry.
    pub prev: Hash,
    /// The stored hash of this entry.
    pub hash: Hash,
    /// Record or seal.
    pub kind: EntryKind,
    /// The exact body bytes that were hashed.
    pub body: &'a [u8],
}

impl Line<'_> {
    /// The hash recomputed from the line's own fields.
    pub fn computed_hash(&self) -> Hash {
        entry_hash(&self.prev, self.seq, self.kind, self.body)
    }
}

fn expect<'a>(rest: &'a [u8], lit: &[u8], what: &str) -> Result<&'a [u8], String> {
    rest.strip_prefix(lit)
        .ok_or_else(|| format!("expected {what} ({})", String::from_utf8_lossy(lit)))
}

fn lower_hex(rest: &[u8], what: &str) -> Result<Hash, String> {
    let digits = rest
        .get(..64)
        .ok_or_else(|| format!("{what} is not 64 hex digits"))?;
    if !digits
        .iter()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(format!("{what} is not 64 lowercase hex digits"));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits, &mut out).map_err(|e| format!("{what}: {e}"))?;
    Ok(out)
}

/// Parses the fixed layout of one line (without its newline). Any byte out
/// of place is an error: the layout is part of what is verified.
pub fn parse_line(line: &[u8]) -> Result<Line<'_>, String> {
    let rest = expect(line, b"{\"seq\":", "the line to start with {\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let text = std::str::from_utf8(&rest[..digits]).map_err(|e| e.to_string())?;
    let seq: u64 = text.parse().map_err(|_| "seq is not a number".to_owned())?;
    if seq.to_string() != text {
        return Err("seq is not written canonically".into());
    }
    let rest = expect(&rest[digits..], b",\"prev\":\"", "prev after seq")?;
    let prev = lower_hex(rest, "prev")?;
    let rest = expect(&rest[64..], b"\",\"hash\":\"", "hash after prev")?;
    let hash = lower_hex(rest, "hash")?;
    let rest = expect(&rest[64..], b"\",\"", "the kind after hash")?;
    let (kind, rest) = if let Some(r) = rest.strip_prefix(b"record\":") {
        (EntryKind::Record, r)
    } else if let Some(r) = rest.strip_prefix(b"seal\":") {
        (EntryKind::Seal, r)
    } else {
        return Err("kind is neither record nor seal".into());
    };
    let body = rest
        .strip_suffix(b"}")
        .ok_or_else(|| "line does not end with }".to_owned())?;
    if body.is_empty() {
        return Err("empty body".into());
    }
    Ok(Line {
        seq,
        prev,
        hash,
        kind,
        body,
    })
}

/// Reads just the seq of a line, for look-ahead when a seq is out of place.
pub fn peek_seq(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// Why a seal was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealKind {
    /// The first entry of every segment: anchors it to the segment before.
    Open,
    /// A periodic checkpoint (every N records, every T, at shutdown, and
    /// after retention deleted segments).
    Checkpoint,
    /// The last entry of a segment that was rotated; nothing follows it in
    /// that segment.
    Close,
}

impl SealKind {
    fn tag(self) -> u8 {
        match self {
            SealKind::Open => b'o',
            SealKind::Checkpoint => b'c',
            SealKind::Close => b'x',
        }
    }
}

/// The body of a seal entry. Field order is the serialisation order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// Open, checkpoint or close.
    pub kind: SealKind,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// The index of the segment file it is in.
    pub segment: u64,
    /// When it was written, Unix nanoseconds.
    pub time_unix_nano: u64,
    /// Every entry with a seq at or below this may be missing: retention
    /// deleted the segments that held them. 0 when nothing was pruned.
    pub pruned_through: u64,
    /// The signer's public key (base64 of the 32 bytes); informational, the
    /// verifier checks the signature under the key it was given.
    pub key: String,
    /// Ed25519 signature over [`seal_message`], hex.
    pub sig: String,
}

/// The fields a seal's signature covers, besides the envelope's seq and prev.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealFields {
    /// Open, checkpoint or close.
    pub kind: SealKind,
    /// The segment index.
    pub segment: u64,
    /// The seal entry's own seq.
    pub seq: u64,
    /// The hash of the entry before the seal: the chain head it vouches for.
    pub prev: Hash,
    /// When, Unix nanoseconds.
    pub time_unix_nano: u64,
    /// See [`Seal::pruned_through`].
    pub pruned_through: u64,
}

/// The exact message a seal signs:
/// `"cairn-archive-seal-v1\n" || kind tag[1] || version[4] || segment[8] ||
/// seq[8] || prev[32] || time_unix_nano[8] || pruned_through[8]`, integers
/// big-endian, kind tags `o` open, `c` checkpoint, `x` close.
pub fn seal_message(f: &SealFields) -> Vec<u8> {
    let mut m = Vec::with_capacity(96);
    m.extend_from_slice(b"cairn-archive-seal-v1\n");
    m.push(f.kind.tag());
    m.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    m.extend_from_slice(&f.segment.to_be_bytes());
    m.extend_from_slice(&f.seq.to_be_bytes());
    m.extend_from_slice(&f.prev);
    m.extend_from_slice(&f.time_unix_nano.to_be_bytes());
    m.extend_from_slice(&f.pruned_through.to_be_bytes());
    m
}

impl Seal {
    /// The signed fields of this seal placed at `seq` after `prev`.
    pub fn fields(&self, seq: u64, prev: Hash) -> SealFields {
        SealFields {
            kind: self.kind,
            segment: self.segment,
            seq,
            prev,
            time_unix_nano: self.time_unix_nano,
            pruned_through: self.pruned_through,
        }
    }

    /// Checks the signature under `key`; the error says why it fails.
    pub fn verify(&self, seq: u64, prev: Hash, key: &VerifyingKey) -> Result<(), String> {
        if self.version != FORMAT_VERSION {
            return Err(format!("unknown format version {}", self.version));
        }
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&self.sig, &mut sig)
            .map_err(|e| format!("signature is not 128 hex digits: {e}"))?;
        let sig = Signature::from_bytes(&sig);
        key.verify_strict(&seal_message(&self.fields(seq, prev)), &sig)
            .map_err(|_| {
                let named = crate::archive::key::public_key_string(key);
                if self.key == named {
                    "signature does not verify".to_owned()
                } else {
                    format!(
                        "signature does not verify under {named} (the seal names {})",
                        self.key
                    )
                }
            })
    }
}
