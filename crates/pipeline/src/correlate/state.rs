//! The correlator's state: open chains, recently closed chains (for
//! amendments and late duplicates), and per-session indices (sequence numbers
//! seen, the ids that join spans to prompts). Maps are keyed by [`Id`]s; the
//! strings behind a key are kept once, in the chain.

use cairn_core::chain::v1::{CostCenter, Who};

use super::entry::{Entry, SpanEntry, Str, Text};
use crate::ids::{Id, IdMap, IdSet};

/// Up to this many entries and spans, a chain finds duplicate content hashes
/// by scanning them; past it, it keeps a hash set.
const SCAN_MAX: usize = 32;

/// Room an open chain's list of join ids starts with.
const LINKS_START: usize = 8;

/// Room an open chain's text buffer starts with: most chains' strings fit.
const TEXT_START: usize = 512;

/// A chain's key: `(tenant, session.id, prompt.id)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ChainKey {
    pub tenant: String,
    pub session: String,
    pub prompt: String,
}

/// Who ran the chain, taken from its lowest-sequence event: the strings of
/// its [`Who`] and [`CostCenter`], packed in one buffer until a record is
/// built from them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Attribution {
    pub sequence: u64,
    text: Text,
    who: [Str; 14],
    /// Cost center, department, team, manager, source; `None` without a
    /// cost center.
    cost_center: Option<[Str; 5]>,
}

impl Attribution {
    /// `who` in [`Who`] field order; `cost_center` in [`CostCenter`] field
    /// order.
    pub fn new(
        sequence: u64,
        who: [Option<&str>; 14],
        cost_center: Option<[Option<&str>; 5]>,
    ) -> Attribution {
        let mut parts = [None; 19];
        for (slot, part) in parts.iter_mut().zip(who) {
            *slot = part;
        }
        if let Some(cc) = cost_center {
            for (slot, part) in parts.iter_mut().skip(14).zip(cc) {
                *slot = part;
            }
        }
        let (text, pieces) = Text::pack(parts);
        let mut who = [None; 14];
        who.copy_from_slice(pieces.get(..14).unwrap_or(&[None; 14]));
        let cost_center = cost_center.map(|_| {
            let mut cc = [None; 5];
            cc.copy_from_slice(pieces.get(14..).unwrap_or(&[None; 5]));
            cc
        });
        Attribution {
            sequence,
            text,
            who,
            cost_center,
        }
    }

    /// The [`Who`] of a record.
    pub fn who(&self) -> Who {
        let [
            user_id,
            account_uuid,
            account_id,
            email,
            organization_id,
            tenant,
            source_product,
            source_version,
            entrypoint,
            terminal_type,
            host_name,
            host_arch,
            os_type,
            os_version,
        ] = self
            .who
            .map(|s| self.text.get(s).unwrap_or_default().to_owned());
        Who {
            user_id,
            account_uuid,
            account_id,
            email,
            organization_id,
            tenant,
            source_product,
            source_version,
            entrypoint,
            terminal_type,
            host_name,
            host_arch,
            os_type,
            os_version,
        }
    }

    /// The [`CostCenter`] of a record, when one was set.
    pub fn cost_center(&self) -> Option<CostCenter> {
        let [cost_center, department, team, manager, source] = self
            .cost_center?
            .map(|s| self.text.get(s).unwrap_or_default().to_owned());
        Some(CostCenter {
            cost_center,
            department,
            team,
            manager,
            source,
        })
    }
}

/// An open chain.
#[derive(Debug)]
pub(crate) struct OpenChain {
    pub key: ChainKey,
    pub session: Id,
    pub entries: Vec<Entry>,
    /// The strings of `entries`.
    pub text: Text,
    pub spans: Vec<SpanEntry>,
    /// Content hashes of entries and spans, once the chain holds more than
    /// [`SCAN_MAX`]; below that the entries' own hashes are scanned.
    hashes: Option<IdSet>,
    pub attribution: Option<Attribution>,
    /// Bytes held (estimate).
    pub bytes: usize,
    /// Clock time of the last event added.
    pub last_seen: u64,
    /// Creation order, for eviction.
    pub serial: u64,
    /// The `event.sequence` of its `user_prompt`, once seen.
    pub prompt_sequence: Option<u64>,
    /// The lowest `event.sequence` among its entries.
    pub min_sequence: Option<u64>,
    /// Join ids that point at it (request, tool use and trace ids).
    pub links: Vec<Id>,
}

impl OpenChain {
    pub fn new(key: ChainKey, session: Id, serial: u64, now: u64) -> OpenChain {
        let bytes = std::mem::size_of::<OpenChain>()
            + 64
            + TEXT_START
            + key.tenant.len()
            + key.session.len()
            + key.prompt.len();
        OpenChain {
            key,
            session,
            entries: Vec::with_capacity(8),
            text: Text::with_capacity(TEXT_START),
            spans: Vec::with_capacity(8),
            hashes: None,
            attribution: None,
            bytes,
            last_seen: now,
            serial,
            prompt_sequence: None,
            min_sequence: None,
            // A prompt's request, tool use and trace ids: one allocation.
            links: Vec::with_capacity(LINKS_START),
        }
    }

    /// Takes the attribution of the lowest-sequence event seen so far.
    pub fn attribute(&mut self, a: impl FnOnce() -> Attribution, sequence: u64) {
        if self
            .attribution
            .as_ref()
            .is_none_or(|cur| sequence < cur.sequence)
        {
            self.attribution = Some(a());
        }
    }

    /// Records a content hash about to be added (as an entry or a span);
    /// `false` when the chain already holds it.
    pub fn add_hash(&mut self, hash: Id) -> bool {
        if let Some(set) = &mut self.hashes {
            return set.insert(hash);
        }
        if self.hash_iter().any(|h| h == hash) {
            return false;
        }
        if self.entries.len() + self.spans.len() >= SCAN_MAX {
            let mut set = IdSet::with_capacity_and_hasher(4 * SCAN_MAX, Default::default());
            set.extend(self.hash_iter());
            set.insert(hash);
            self.hashes = Some(set);
        }
        true
    }

    fn hash_iter(&self) -> impl Iterator<Item = Id> + '_ {
        self.entries
            .iter()
            .map(|e| e.hash)
            .chain(self.spans.iter().map(|s| s.hash))
    }

    /// The content hashes held, sorted, for a closed chain.
    pub fn sorted_hashes(&self) -> Vec<Id> {
        let mut v = Vec::with_capacity(self.entries.len() + self.spans.len());
        v.extend(self.hash_iter());
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Links `id` to this chain (once).
    pub fn link(&mut self, id: Id) -> bool {
        if self.links.contains(&id) {
            return false;
        }
        self.links.push(id);
        self.bytes += 48;
        true
    }
}

/// What is kept of a closed chain so late events amend it and resent ones
/// are recognised.
#[derive(Debug)]
pub(crate) struct ClosedChain {
    pub key: ChainKey,
    pub session: Id,
    /// Content hashes, sorted.
    pub hashes: Vec<Id>,
    pub amendments: u32,
    pub attribution: Option<Attribution>,
    pub links: Vec<Id>,
}

impl ClosedChain {
    /// Records a late content hash; `false` when the chain already held it.
    pub fn add_hash(&mut self, hash: Id) -> bool {
        match self.hashes.binary_search(&hash) {
            Ok(_) => false,
            Err(i) => {
                self.hashes.insert(i, hash);
                true
            }
        }
    }
}

/// Events that arrived for a closed chain during one `process` call.
#[derive(Debug, Default)]
pub(crate) struct Late {
    pub entries: Vec<Entry>,
    /// The strings of `entries`.
    pub text: Text,
    pub spans: Vec<SpanEntry>,
}

/// Per-session indices.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// `(tenant, session.id)`.
    pub tenant: String,
    pub session: String,
    /// Every `event.sequence` seen (pruned below the oldest open chain).
    pub seen: Seen,
    /// Open chains of the session.
    pub open: IdSet,
    /// Join id -> chain id.
    pub links: Joins,
    /// Spans not yet linked to a prompt, with the clock time they arrived.
    pub pending: Vec<(u64, SpanEntry)>,
    /// The latest `user_prompt` sequence and its chain.
    pub latest_prompt: Option<(u64, Id)>,
    /// Whether `latest_prompt` or an open chain's first sequence number
    /// (its `user_prompt`'s, else its lowest) changed since superseded
    /// chains were last looked for.
    pub supersede: bool,
}

/// A session's join ids (request, tool use and trace ids) -> the chain
/// they point at; the last chain to claim an id has it.
///
/// An open chain's events repeat its join ids; an id the chain already
/// holds still points at it unless another chain claimed the same id
/// since, which only a session whose chains share an id can see
/// (`contested`). Until then, [`Joins::join`] skips the map for an id the
/// chain already held.
#[derive(Debug, Default)]
pub(crate) struct Joins {
    map: IdMap<Id>,
    /// Whether a claim ever moved an id from one chain to another.
    contested: bool,
}

impl Joins {
    /// An empty map with room for `n` ids.
    pub fn with_capacity(n: usize) -> Joins {
        Joins {
            map: IdMap::with_capacity_and_hasher(n, Default::default()),
            contested: false,
        }
    }

    /// Points `id` at `chain`; the chain it pointed at before, if any.
    pub fn insert(&mut self, id: Id, chain: Id) -> Option<Id> {
        let old = self.map.insert(id, chain);
        if old.is_some_and(|o| o != chain) {
            self.contested = true;
        }
        old
    }

    /// Points `id` at `chain`, as [`Joins::insert`]; `held` says the open
    /// chain already held `id`, which then points at it unless contested.
    pub fn join(&mut self, id: Id, chain: Id, held: bool) {
        if !held || self.contested {
            self.insert(id, chain);
        }
    }

    /// The chain `id` points at.
    pub fn get(&self, id: &Id) -> Option<&Id> {
        self.map.get(id)
    }

    /// Forgets `id`.
    pub fn remove(&mut self, id: &Id) {
        self.map.remove(id);
    }

    /// Whether no id is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A session's `event.sequence` numbers, as a sorted list without
/// repeats: they mostly arrive in order, so adding one is usually a push,
/// and pruning drops a prefix.
#[derive(Debug, Default)]
pub(crate) struct Seen(Vec<u64>);

impl Seen {
    /// Adds `seq` (once).
    pub fn insert(&mut self, seq: u64) {
        match self.0.last() {
            Some(&last) if last >= seq => {
                if let Err(i) = self.0.binary_search(&seq) {
                    self.0.insert(i, seq);
                }
            }
            _ => self.0.push(seq),
        }
    }

    /// The numbers in `lo..=hi`, in order.
    pub fn range(&self, lo: u64, hi: u64) -> &[u64] {
        let start = self.0.partition_point(|&s| s < lo);
        let end = self.0.partition_point(|&s| s <= hi);
        self.0.get(start..end).unwrap_or(&[])
    }

    /// Forgets the numbers below `floor`.
    pub fn prune_below(&mut self, floor: u64) {
        let n = self.0.partition_point(|&s| s < floor);
        self.0.drain(..n);
    }
}

#[cfg(test)]
mod tests {
    use super::{Joins, Seen};

    #[test]
    fn joins_go_to_the_last_chain_that_claimed_them() {
        let (a, b) = (1u128, 2u128);
        let mut j = Joins::with_capacity(1);
        assert_eq!(j.insert(10, a), None);
        j.join(10, a, true);
        assert_eq!(j.get(&10), Some(&a));
        // Another chain claims the id, then the first one's next event
        // carries it again: it points back at the first.
        j.join(10, b, false);
        assert_eq!(j.get(&10), Some(&b));
        j.join(10, a, true);
        assert_eq!(j.get(&10), Some(&a));
        j.remove(&10);
        assert!(j.is_empty());
    }

    #[test]
    fn seen_keeps_numbers_sorted_once_and_prunes_a_prefix() {
        let mut s = Seen::default();
        for n in [5, 6, 9, 7, 6, 1, 9, 8] {
            s.insert(n);
        }
        assert_eq!(s.range(0, u64::MAX), &[1, 5, 6, 7, 8, 9]);
        assert_eq!(s.range(6, 8), &[6, 7, 8]);
        assert_eq!(s.range(10, 20), &[] as &[u64]);
        s.prune_below(7);
        assert_eq!(s.range(0, u64::MAX), &[7, 8, 9]);
        s.prune_below(100);
        assert_eq!(s.range(0, u64::MAX), &[] as &[u64]);
    }
}
