//! 128-bit ids, so lookups on the hot path need no allocation: the
//! correlator's chain keys, session keys and join ids (request ids, tool use
//! ids, trace ids) and the spend meter's metric series, all hashed once with
//! a per-instance seed. (The correlator's content hashes of whole records
//! live with it, in `correlate::content`.)
//!
//! xxh3-128 over a reused scratch buffer (one call per value, not one per
//! field). The attributes cairn's enricher writes (`cost_center`,
//! `department`, `team`, `manager`, `cairn.cost_center.source`) are left out
//! of a series' point attributes. The seed is
//! random per instance, so ids cannot be aimed at a
//! hash-table bucket from outside; with 128 bits, two different keys sharing
//! an id is not a practical concern.

use std::{
    collections::{HashMap, HashSet},
    hash::{BuildHasher, BuildHasherDefault, Hasher},
};

use cairn_core::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use xxhash_rust::xxh3::xxh3_128_with_seed;

use crate::enrich::{COST_CENTER, DEPARTMENT, MANAGER, SOURCE, TEAM};

/// Attributes the enricher writes; not part of an event's content.
const ENRICHED: [&str; 5] = [COST_CENTER, DEPARTMENT, TEAM, MANAGER, SOURCE];

/// A 128-bit id.
pub(crate) type Id = u128;

/// A pass-through hasher: ids are already uniformly distributed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only ids are hashed with this hasher; any other input still gets
        // a total (if slow) answer.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = (n as u64) ^ ((n >> 64) as u64);
    }
}

/// A map keyed by id.
pub(crate) type IdMap<V> = HashMap<Id, V, BuildHasherDefault<IdHasher>>;
/// A set of ids.
pub(crate) type IdSet = HashSet<Id, BuildHasherDefault<IdHasher>>;

/// A seeded xxh3-128 over a reused scratch buffer: callers append the
/// fields, then `finish` hashes and clears. The seed is random per instance
/// and mixed with `domain`, so hashes of different kinds never share a space.
#[derive(Debug)]
pub(crate) struct Seeded {
    seed: u64,
    /// The bytes of the value being hashed.
    pub(crate) buf: Vec<u8>,
}

impl Seeded {
    /// A new hasher for one kind of value.
    pub(crate) fn new(domain: u64) -> Seeded {
        Seeded {
            seed: std::collections::hash_map::RandomState::new().hash_one(domain),
            buf: Vec::with_capacity(4096),
        }
    }

    /// Hashes what was appended and clears it.
    pub(crate) fn finish(&mut self) -> Id {
        let id = xxh3_128_with_seed(&self.buf, self.seed);
        self.buf.clear();
        id
    }

    /// Appends a number.
    pub(crate) fn u64(&mut self, n: u64) {
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    /// Appends bytes, length-prefixed so fields never run into each other.
    pub(crate) fn put(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
}

/// Computes ids with a per-correlator seed and a reused buffer.
#[derive(Debug)]
pub(crate) struct Digest {
    h: Seeded,
}

impl Default for Digest {
    fn default() -> Self {
        Digest {
            h: Seeded::new(0x6361_6972_6e00),
        }
    }
}

impl Digest {
    /// The id of a tuple of strings (length-prefixed, so parts never run
    /// into each other), tagged by what it names.
    pub fn key(&mut self, tag: u8, parts: &[&str]) -> Id {
        self.h.buf.push(tag);
        for p in parts {
            self.h.put(p.as_bytes());
        }
        self.h.finish()
    }

    /// The id of a join value (request id, tool use id, trace id bytes).
    pub fn link(&mut self, tag: u8, value: &[u8]) -> Id {
        self.h.buf.push(tag);
        self.h.put(value);
        self.h.finish()
    }

    /// The id of a metric series: its name, its point's attributes (less
    /// the enricher's) and its resource's attributes (all of them).
    pub fn series(&mut self, name: &str, point: &[KeyValue], resource: &[KeyValue]) -> Id {
        self.h.buf.push(b'M');
        self.h.put(name.as_bytes());
        self.attrs(point);
        self.attrs_where(resource, |_| true);
        self.h.finish()
    }

    fn attrs(&mut self, kvs: &[KeyValue]) {
        self.attrs_where(kvs, |kv| !ENRICHED.contains(&kv.key.as_str()));
    }

    fn attrs_where(&mut self, kvs: &[KeyValue], content: impl Fn(&&KeyValue) -> bool + Copy) {
        let n = kvs.iter().filter(content).count();
        self.h.buf.extend_from_slice(&(n as u64).to_le_bytes());
        for kv in kvs.iter().filter(content) {
            self.h.put(kv.key.as_bytes());
            match &kv.value {
                Some(v) => self.any(v),
                None => self.h.buf.push(0),
            }
        }
    }

    fn any(&mut self, v: &AnyValue) {
        match &v.value {
            None => self.h.buf.push(0),
            Some(Value::StringValue(s)) => {
                self.h.buf.push(1);
                self.h.put(s.as_bytes());
            }
            Some(Value::BoolValue(b)) => self.h.buf.extend_from_slice(&[2, u8::from(*b)]),
            Some(Value::IntValue(i)) => {
                self.h.buf.push(3);
                self.h.buf.extend_from_slice(&i.to_le_bytes());
            }
            Some(Value::DoubleValue(d)) => {
                self.h.buf.push(4);
                self.h.buf.extend_from_slice(&d.to_bits().to_le_bytes());
            }
            Some(Value::BytesValue(b)) => {
                self.h.buf.push(5);
                self.h.put(b);
            }
            Some(Value::ArrayValue(a)) => {
                self.h.buf.push(6);
                self.h
                    .buf
                    .extend_from_slice(&(a.values.len() as u64).to_le_bytes());
                for x in &a.values {
                    self.any(x);
                }
            }
            Some(Value::KvlistValue(kv)) => {
                self.h.buf.push(7);
                self.attrs(&kv.values);
            }
            Some(Value::StringValueStrindex(i)) => {
                self.h.buf.push(8);
                self.h.buf.extend_from_slice(&i.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_never_run_into_each_other() {
        let mut d = Digest::default();
        assert_ne!(d.key(1, &["ab", "c"]), d.key(1, &["a", "bc"]));
        assert_ne!(d.key(1, &["a"]), d.key(2, &["a"]));
        assert_eq!(d.key(1, &["a", "b"]), d.key(1, &["a", "b"]));
    }

    #[test]
    fn distinct_values_get_distinct_ids() {
        let mut d = Digest::default();
        let mut seen = std::collections::HashSet::new();
        let mut values: Vec<Vec<u8>> = Vec::new();
        // Every string of up to 3 bytes over a small alphabet, with zeros.
        let alphabet = [0u8, 1, b'a', 0xff];
        for len in 0..=3u32 {
            for n in 0..alphabet.len().pow(len) {
                let mut v = Vec::new();
                let mut n = n;
                for _ in 0..len {
                    v.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                values.push(v);
            }
        }
        // Zero runs of every length to 40, and one-byte changes of a
        // longer string at every position.
        for len in 4..=40 {
            values.push(vec![0; len]);
        }
        let base: Vec<u8> = (0..40u8).collect();
        for i in 0..base.len() {
            let mut v = base.clone();
            v[i] ^= 1;
            values.push(v);
            values.push(base[..i].to_vec());
        }
        values.push(base);
        values.sort();
        values.dedup();
        for v in &values {
            assert!(seen.insert(d.link(1, v)), "{v:?}");
        }
        // A key's parts may split the same bytes differently.
        for cut in 0..=10 {
            let s = "abcdefghij";
            assert!(seen.insert(d.key(1, &[&s[..cut], &s[cut..]])), "{cut}");
        }
    }
}
