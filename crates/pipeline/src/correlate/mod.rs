//! The correlator: rebuilds each prompt's chain of events into one
//! [`PromptChain`] audit record.
//!
//! A synchronous, sans-IO stage: [`Correlator::process`] takes a batch and
//! appends finished records to `out`; [`Correlator::on_tick`] closes chains
//! that went idle, reading time from an injected [`Clock`]. Chains are keyed
//! by `(tenant, session.id, prompt.id)`; subagent work carries the parent's
//! `prompt.id` (plus `agent_id`) and lands in the parent's chain.
//!
//! * **Closing.** A chain closes when a later prompt of the same session
//!   starts (checked after the whole batch, by `event.sequence`), after
//!   `idle_timeout` without an event, when evicted by the open-chain or byte
//!   cap (oldest first), or at shutdown ([`Correlator::close_all`]).
//! * **Order and duplicates.** Entries are folded in `event.sequence` order
//!   at close, so arrival order does not matter. A resent record (same
//!   content hash) is dropped and counted; a resumed session restarting
//!   `event.sequence` at 0 is not mistaken for a resend, because the hash
//!   covers the whole record, not the sequence.
//! * **Late events.** An event for a chain that already closed produces an
//!   amendment record naming the chain (`amendment = n`), never a drop.
//! * **Spans** join by `prompt.id`, by the `request_id` / `tool_use_id` an
//!   event of the chain carried, or by a trace id already linked to it.
//!   Spans that link nowhere within `idle_timeout` are counted as unlinked
//!   (the raw spans still flow to every output).
//!
//! Maps are keyed by 128-bit ids (`crate::ids`), so the per-event path allocates
//! only what the chain keeps.

mod content;
mod entry;
mod fold;
mod links;
mod replay;
mod state;
mod stats;
mod steps;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::Duration,
};

use cairn_core::{
    chain::{
        PromptChain,
        v1::{Closure, Step},
    },
    clock::Clock,
    event::ClaudeEvent,
    record::{Batch, EventRecord, Record, RecordBody},
    value::Attrs,
};

use crate::ids::{Id, IdMap, IdSet};
use content::{Content, Found, Key};
use entry::{Entry, SpanEntry};
use fold::{FoldInput, fold};
use links::{Ids, link_ids};
use state::{Attribution, ChainKey, ClosedChain, Joins, Late, OpenChain, Seen, Session};
pub use stats::CorrelatorStats;
use stats::EmittedCounters;

/// Limits and timeouts.
#[derive(Clone, Copy, Debug)]
pub struct CorrelatorConfig {
    /// Close a chain after this long (clock time) without an event.
    pub idle_timeout: Duration,
    /// The most chains open at once; past it the oldest is evicted.
    pub max_open_chains: usize,
    /// The most bytes open chains may hold (estimate); past it the oldest is
    /// evicted.
    pub max_open_bytes: usize,
    /// How many closed chains are remembered for amendments and duplicates.
    pub closed_memory: usize,
}

impl Default for CorrelatorConfig {
    fn default() -> Self {
        CorrelatorConfig {
            idle_timeout: Duration::from_secs(120),
            max_open_chains: 10_000,
            max_open_bytes: 256 << 20,
            closed_memory: 10_000,
        }
    }
}

/// The most spans a scratch list keeps room for between batches.
const SPARE_MAX: usize = 64;

// Tags that keep the id spaces apart.
const SESSION: u8 = 1;
const CHAIN: u8 = 2;
const REQUEST: u8 = 3;
const TOOL_USE: u8 = 4;
const TRACE: u8 = 5;

/// The correlator. See the module docs.
pub struct Correlator {
    config: CorrelatorConfig,
    clock: Arc<dyn Clock>,
    ids: Ids,
    content: Content,
    open: IdMap<Box<OpenChain>>,
    order: BTreeMap<u64, Id>,
    closed: IdMap<Box<ClosedChain>>,
    closed_order: VecDeque<Id>,
    sessions: IdMap<Session>,
    bytes: usize,
    serial: u64,
    stats: CorrelatorStats,
    emitted: EmittedCounters,
    /// Sessions touched by the current batch (kept for its allocation).
    touched: Vec<Id>,
    /// Scratch kept for their allocations: an emptied `pending` list, lent
    /// to the next session that stages spans, and the spans a
    /// `link_pending` round found a chain for.
    spare_pending: Vec<(u64, SpanEntry)>,
    found: Vec<(Id, Id, SpanEntry)>,
    /// The fold's step list, kept for its allocation.
    steps: Vec<Step>,
}

/// A batch's tenant and arrival time, and the last session and chain ids
/// computed in it, by their strings.
struct Recent<'b> {
    tenant: &'b str,
    now: u64,
    session: Option<(&'b str, Id)>,
    chain: Option<(&'b str, &'b str, Id)>,
}

impl std::fmt::Debug for Correlator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlator")
            .field("open", &self.open.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

fn attribution(record: &Record, found: &Found<'_>, tenant: &str, sequence: u64) -> Attribution {
    let id = &record.identity;
    let who = [
        id.user_id.as_deref(),
        id.account_uuid.as_deref(),
        id.account_id.as_deref(),
        id.email.as_deref(),
        id.organization_id.as_deref(),
        Some(tenant),
        Some(record.source.as_str()),
        id.app_version.as_deref(),
        id.app_entrypoint.as_deref(),
        id.terminal_type.as_deref(),
        id.host_name.as_deref(),
        id.host_arch.as_deref(),
        id.os_type.as_deref(),
        id.os_version.as_deref(),
    ];
    // Set by the enricher on the receive path; read from the record (Claude
    // Code copies resource attributes onto it) when enrichment is off.
    let res = record.resource.attrs();
    let get = |k: Key, name: &str| found.str(k).or_else(|| res.str(name));
    let cost_center = get(Key::CostCenter, "cost_center").map(|cc| {
        [
            Some(cc),
            get(Key::Department, "department"),
            get(Key::Team, "team").or_else(|| get(Key::TeamId, "team.id")),
            get(Key::Manager, "manager"),
            Some(found.str(Key::CostCenterSource).unwrap_or("resource")),
        ]
    });
    Attribution::new(sequence, who, cost_center)
}

impl Correlator {
    /// A correlator reading time from `clock`.
    pub fn new(config: CorrelatorConfig, clock: Arc<dyn Clock>) -> Correlator {
        Correlator {
            config,
            clock,
            ids: Ids::default(),
            content: Content::default(),
            open: IdMap::default(),
            order: BTreeMap::new(),
            closed: IdMap::default(),
            closed_order: VecDeque::new(),
            sessions: IdMap::default(),
            bytes: 0,
            serial: 0,
            stats: CorrelatorStats::default(),
            emitted: EmittedCounters::default(),
            touched: Vec::new(),
            spare_pending: Vec::new(),
            found: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// The counters, to register on `/metrics`.
    pub fn stats(&self) -> CorrelatorStats {
        self.stats.clone()
    }

    /// How many chains are open.
    pub fn open_chains(&self) -> usize {
        self.open.len()
    }

    /// Bytes held by open chains (estimate).
    pub fn open_bytes(&self) -> usize {
        self.bytes
    }

    /// Feeds a batch; finished chains and amendments are appended to `out`.
    pub fn process(&mut self, batch: &Batch, out: &mut Vec<PromptChain>) {
        let now = self.clock.now_unix_nano();
        let tenant = batch.origin.tenant.as_deref().unwrap_or("");
        let mut late: BTreeMap<Id, Late> = BTreeMap::new();
        let mut touched = std::mem::take(&mut self.touched);
        touched.clear();
        let mut cache = Recent {
            tenant,
            now,
            session: None,
            chain: None,
        };
        for record in &batch.records {
            match &record.body {
                RecordBody::Event(e) => {
                    self.add_event(record, e, &mut cache, &mut late, &mut touched);
                }
                RecordBody::Span(s) => {
                    let session = record
                        .identity
                        .session_id
                        .as_deref()
                        .or_else(|| Attrs(&s.span.attributes).str("gen_ai.conversation.id"))
                        .unwrap_or("");
                    if let Some(entry) = SpanEntry::of(&s.span, &s.typed, &mut self.content) {
                        let sid = self.session(&mut cache, session);
                        if let Some(sess) = self.sessions.get_mut(&sid) {
                            // The spare list if there is one, else once per
                            // batch rather than growing by doubling; capped,
                            // as a batch may hold many sessions.
                            if sess.pending.capacity() == 0 {
                                sess.pending = std::mem::take(&mut self.spare_pending);
                                sess.pending.reserve(batch.records.len().min(64));
                            }
                            sess.pending.push((now, entry));
                        }
                        touch(&mut touched, sid);
                    }
                }
                RecordBody::Metric(_) => {}
            }
        }
        for sid in &touched {
            self.link_pending(*sid, &mut late);
        }
        for sid in &touched {
            self.close_superseded(*sid, out);
        }
        self.touched = touched;
        for (cid, l) in late {
            self.amend(cid, l, out);
        }
        self.enforce_caps(out);
        self.stats.set_open(self.open.len(), self.bytes);
    }

    /// The id of `(tenant, session)`, creating its indices; the last
    /// session of the batch is remembered (most batches are one session).
    fn session<'b>(&mut self, cache: &mut Recent<'b>, session: &'b str) -> Id {
        let tenant = cache.tenant;
        if let Some((s, sid)) = cache.session
            && s == session
        {
            return sid;
        }
        let sid = self.ids.key(SESSION, &[tenant, session]);
        // Sized for one prompt's chain and its join ids, so they do not
        // grow on the way.
        self.sessions.entry(sid).or_insert_with(|| Session {
            tenant: tenant.to_owned(),
            session: session.to_owned(),
            open: IdSet::with_capacity_and_hasher(1, Default::default()),
            links: Joins::with_capacity(7),
            ..Session::default()
        });
        cache.session = Some((session, sid));
        sid
    }

    /// Adds an event: one session lookup and one chain lookup (the map
    /// of closed chains is only consulted for a chain not open).
    fn add_event<'b>(
        &mut self,
        record: &'b Record,
        e: &'b EventRecord,
        cache: &mut Recent<'b>,
        late: &mut BTreeMap<Id, Late>,
        touched: &mut Vec<Id>,
    ) {
        let session = record.identity.session_id.as_deref().unwrap_or("");
        let (tenant, now) = (cache.tenant, cache.now);
        let sid = self.session(cache, session);
        let Some(sess) = self.sessions.get_mut(&sid) else {
            return;
        };
        if let Some(seq) = e.header.sequence {
            sess.seen.insert(seq);
        }
        let Some(prompt) = e.header.prompt_id.as_deref() else {
            return;
        };
        touch(touched, sid);
        let cid = match cache.chain {
            Some((s, p, cid)) if s == session && p == prompt => cid,
            _ => {
                let cid = self.ids.chain(sid, tenant, session, prompt);
                cache.chain = Some((session, prompt, cid));
                cid
            }
        };
        let (hash, found) = self.content.log(&e.log);
        let chain = match self.open.entry(cid) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                if let Some(closed) = self.closed.get_mut(&cid) {
                    if closed.add_hash(hash) {
                        let l = late.entry(cid).or_default();
                        let entry = Entry::of(e, hash, &found, &mut l.text);
                        l.entries.push(entry);
                    } else {
                        self.stats.duplicate();
                    }
                    return;
                }
                let key = ChainKey {
                    tenant: tenant.to_owned(),
                    session: session.to_owned(),
                    prompt: prompt.to_owned(),
                };
                let chain = OpenChain::new(key, sid, self.serial, now);
                self.order.insert(self.serial, cid);
                self.serial += 1;
                self.bytes += chain.bytes;
                sess.open.insert(cid);
                v.insert(Box::new(chain))
            }
        };
        if !chain.add_hash(hash) {
            self.stats.duplicate();
            return;
        }
        let links = link_ids(&mut self.ids, e);
        let text_before = chain.text.capacity();
        let entry = Entry::of(e, hash, &found, &mut chain.text);
        let seq = entry.sequence;
        chain.attribute(|| attribution(record, &found, tenant, seq), seq);
        let is_prompt = matches!(e.event, ClaudeEvent::UserPrompt(_));
        let firsts = (chain.prompt_sequence, chain.min_sequence);
        if is_prompt {
            chain.prompt_sequence = Some(chain.prompt_sequence.map_or(seq, |s| s.min(seq)));
        }
        chain.min_sequence = Some(chain.min_sequence.map_or(seq, |s| s.min(seq)));
        if firsts != (chain.prompt_sequence, chain.min_sequence) {
            sess.supersede = true;
        }
        chain.last_seen = now;
        let before = chain.bytes;
        chain.bytes += Entry::SIZE + chain.text.capacity() - text_before;
        chain.entries.push(entry);
        let mut new = [false; 3];
        for (n, &l) in new.iter_mut().zip(links.as_slice()) {
            *n = chain.link(l);
        }
        self.bytes += chain.bytes - before;
        if is_prompt && sess.latest_prompt.is_none_or(|(s, _)| seq > s) {
            sess.latest_prompt = Some((seq, cid));
            sess.supersede = true;
        }
        for (&n, &l) in new.iter().zip(links.as_slice()) {
            sess.links.join(l, cid, !n);
        }
    }

    /// Closes the session's chains that a later prompt superseded; only
    /// when the session's latest prompt or a chain's first sequence number
    /// moved since the last look (nothing else makes a chain superseded).
    fn close_superseded(&mut self, sid: Id, out: &mut Vec<PromptChain>) {
        let Some(sess) = self.sessions.get_mut(&sid) else {
            return;
        };
        if !std::mem::take(&mut sess.supersede) {
            return;
        }
        let Some((latest, latest_cid)) = sess.latest_prompt else {
            return;
        };
        let mut done: Vec<(u64, Id)> = sess
            .open
            .iter()
            .filter(|&&cid| cid != latest_cid)
            .filter_map(|cid| {
                let c = self.open.get(cid)?;
                let first = c.prompt_sequence.or(c.min_sequence)?;
                (first < latest).then_some((c.serial, *cid))
            })
            .collect();
        done.sort_unstable();
        for (_, cid) in done {
            self.close(cid, Closure::NextPrompt, out);
        }
    }

    /// Closes chains idle for `idle_timeout`, and expires unlinked spans.
    pub fn on_tick(&mut self, out: &mut Vec<PromptChain>) {
        let now = self.clock.now_unix_nano();
        let timeout = u64::try_from(self.config.idle_timeout.as_nanos()).unwrap_or(u64::MAX);
        let mut idle: Vec<(u64, Id)> = self
            .open
            .iter()
            .filter(|(_, c)| now.saturating_sub(c.last_seen) >= timeout)
            .map(|(cid, c)| (c.serial, *cid))
            .collect();
        idle.sort_unstable();
        for (_, cid) in idle {
            self.close(cid, Closure::IdleTimeout, out);
        }
        let mut unlinked = 0u64;
        self.sessions.retain(|_, s| {
            let before = s.pending.len();
            s.pending.retain(|(t, _)| now.saturating_sub(*t) < timeout);
            unlinked += (before - s.pending.len()) as u64;
            !(s.open.is_empty() && s.pending.is_empty() && s.links.is_empty())
        });
        self.stats.unlinked_spans(unlinked);
        self.stats.set_open(self.open.len(), self.bytes);
    }

    /// Closes every open chain (shutdown).
    pub fn close_all(&mut self, out: &mut Vec<PromptChain>) {
        let ids: Vec<Id> = self.order.values().copied().collect();
        for cid in ids {
            self.close(cid, Closure::Shutdown, out);
        }
        self.stats.set_open(self.open.len(), self.bytes);
    }

    fn enforce_caps(&mut self, out: &mut Vec<PromptChain>) {
        while self.open.len() > self.config.max_open_chains.max(1)
            || (self.bytes > self.config.max_open_bytes && !self.open.is_empty())
        {
            let Some(cid) = self.order.first_key_value().map(|(_, c)| *c) else {
                return;
            };
            self.close(cid, Closure::Evicted, out);
        }
    }

    fn close(&mut self, cid: Id, closure: Closure, out: &mut Vec<PromptChain>) {
        let Some(mut chain) = self.open.remove(&cid) else {
            return;
        };
        self.order.remove(&chain.serial);
        self.bytes = self.bytes.saturating_sub(chain.bytes);
        let empty = Seen::default();
        let seen = self
            .sessions
            .get(&chain.session)
            .map_or(&empty, |s| &s.seen);
        let attribution = chain.attribution.take();
        let record = fold(
            FoldInput {
                key: &chain.key,
                text: &chain.text,
                who: attribution.as_ref().map(Attribution::who),
                cost_center: attribution.as_ref().and_then(Attribution::cost_center),
                closure,
                amendment: 0,
                seen: Some(seen),
            },
            &mut chain.entries,
            &mut chain.spans,
            &mut self.steps,
        );
        let max_seq = chain
            .entries
            .iter()
            .map(|e| e.sequence)
            .filter(|&s| s != u64::MAX)
            .max();
        out.push(record);
        self.emitted.inc(&self.stats, closure);
        let sid = chain.session;
        let hashes = chain.sorted_hashes();
        self.remember(
            cid,
            ClosedChain {
                key: chain.key,
                session: sid,
                hashes,
                amendments: 0,
                attribution,
                links: chain.links,
            },
        );
        self.prune_session(sid, cid, max_seq);
    }

    /// Forgets sequence numbers no open chain of the session can need.
    fn prune_session(&mut self, sid: Id, cid: Id, max_seq: Option<u64>) {
        let Some(sess) = self.sessions.get_mut(&sid) else {
            return;
        };
        sess.open.remove(&cid);
        let open_min = sess
            .open
            .iter()
            .filter_map(|c| self.open.get(c)?.min_sequence)
            .min();
        let floor = match (open_min, max_seq) {
            (Some(a), Some(b)) => a.min(b.saturating_add(1)),
            (Some(a), None) => a,
            (None, Some(b)) => b.saturating_add(1),
            (None, None) => 0,
        };
        sess.seen.prune_below(floor);
    }

    fn remember(&mut self, cid: Id, closed: ClosedChain) {
        self.closed.insert(cid, Box::new(closed));
        self.closed_order.push_back(cid);
        while self.closed_order.len() > self.config.closed_memory {
            let Some(old) = self.closed_order.pop_front() else {
                break;
            };
            if let Some(c) = self.closed.remove(&old)
                && let Some(sess) = self.sessions.get_mut(&c.session)
            {
                for id in c.links {
                    if sess.links.get(&id) == Some(&old) {
                        sess.links.remove(&id);
                    }
                }
            }
        }
    }

    fn amend(&mut self, cid: Id, mut late: Late, out: &mut Vec<PromptChain>) {
        let Some(closed) = self.closed.get_mut(&cid) else {
            return;
        };
        closed.amendments += 1;
        let a = closed.attribution.as_ref();
        let record = fold(
            FoldInput {
                key: &closed.key,
                text: &late.text,
                who: a.map(Attribution::who),
                cost_center: a.and_then(Attribution::cost_center),
                closure: Closure::Unspecified,
                amendment: closed.amendments,
                seen: None,
            },
            &mut late.entries,
            &mut late.spans,
            &mut self.steps,
        );
        out.push(record);
        self.stats.amended();
    }
}

fn touch(touched: &mut Vec<Id>, id: Id) {
    if !touched.contains(&id) {
        touched.push(id);
    }
}
