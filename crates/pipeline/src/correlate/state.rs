//! The correlator's state: open chains, recently closed chains (for
//! amendments and late duplicates), and per-session indices (sequence numbers
//! seen, the ids that join spans to prompts).

use std::collections::{BTreeSet, HashMap, HashSet};

use cairn_core::chain::v1::{CostCenter, Who};

use super::entry::{Entry, SpanEntry};

/// A chain's key: `(tenant, session.id, prompt.id)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ChainKey {
    pub tenant: String,
    pub session: String,
    pub prompt: String,
}

/// A session's key: `(tenant, session.id)`.
pub(crate) type SessionKey = (String, String);

impl ChainKey {
    pub fn session_key(&self) -> SessionKey {
        (self.tenant.clone(), self.session.clone())
    }
}

/// Who ran the chain, taken from its lowest-sequence event.
#[derive(Clone, Debug, Default)]
pub(crate) struct Attribution {
    pub sequence: u64,
    pub who: Who,
    pub cost_center: Option<CostCenter>,
}

/// An open chain.
#[derive(Debug)]
pub(crate) struct OpenChain {
    pub entries: Vec<Entry>,
    pub spans: Vec<SpanEntry>,
    pub hashes: HashSet<u128>,
    pub attribution: Option<Attribution>,
    /// Bytes held (estimate).
    pub bytes: usize,
    /// Clock time of the last event added.
    pub last_seen: u64,
    /// Creation order, for eviction.
    pub serial: u64,
    /// The `event.sequence` of its `user_prompt`, once seen.
    pub prompt_sequence: Option<u64>,
    /// Ids that link spans to it (request ids, tool use ids, trace ids).
    pub links: Vec<String>,
}

impl OpenChain {
    pub fn new(serial: u64, now: u64) -> OpenChain {
        OpenChain {
            entries: Vec::new(),
            spans: Vec::new(),
            hashes: HashSet::new(),
            attribution: None,
            bytes: std::mem::size_of::<OpenChain>() + 64,
            last_seen: now,
            serial,
            prompt_sequence: None,
            links: Vec::new(),
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
}

/// What is kept of a closed chain so late events amend it and resent ones
/// are recognised.
#[derive(Debug, Default)]
pub(crate) struct ClosedChain {
    pub hashes: HashSet<u128>,
    pub amendments: u32,
    pub attribution: Option<Attribution>,
    /// Ids that link spans to it (request ids, tool use ids, trace ids).
    pub links: Vec<String>,
}

/// Events that arrived for a closed chain during one `process` call.
#[derive(Debug, Default)]
pub(crate) struct Late {
    pub entries: Vec<Entry>,
    pub spans: Vec<SpanEntry>,
}

/// Per-session indices.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// Every `event.sequence` seen (pruned below the oldest open chain).
    pub seen: BTreeSet<u64>,
    /// Open chains of the session, by prompt id.
    pub open: HashSet<String>,
    /// id (request id, tool use id, hex trace id) -> prompt id.
    pub links: HashMap<String, String>,
    /// Spans not yet linked to a prompt.
    pub pending: Vec<(u64, SpanEntry)>,
    /// The latest `user_prompt` sequence and its prompt id.
    pub latest_prompt: Option<(u64, String)>,
}
