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

mod entry;
mod fold;
mod state;
mod stats;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::Arc,
    time::Duration,
};

use cairn_core::{
    chain::{
        PromptChain,
        v1::{Closure, CostCenter, Who},
    },
    clock::Clock,
    event::ClaudeEvent,
    record::{Batch, EventRecord, Record, RecordBody},
    value::Attrs,
};

use entry::{Entry, SpanEntry};
use fold::{FoldInput, fold};
use state::{Attribution, ChainKey, ClosedChain, Late, OpenChain, Session, SessionKey};
pub use stats::CorrelatorStats;

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

/// The correlator. See the module docs.
pub struct Correlator {
    config: CorrelatorConfig,
    clock: Arc<dyn Clock>,
    open: HashMap<ChainKey, OpenChain>,
    order: BTreeMap<u64, ChainKey>,
    closed: HashMap<ChainKey, ClosedChain>,
    closed_order: VecDeque<ChainKey>,
    sessions: HashMap<SessionKey, Session>,
    bytes: usize,
    serial: u64,
    stats: CorrelatorStats,
}

impl std::fmt::Debug for Correlator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlator")
            .field("open", &self.open.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

fn non_empty(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn attribution(record: &Record, log_attrs: Attrs<'_>, tenant: &str, sequence: u64) -> Attribution {
    let id = &record.identity;
    let who = Who {
        user_id: non_empty(&id.user_id),
        account_uuid: non_empty(&id.account_uuid),
        account_id: non_empty(&id.account_id),
        email: non_empty(&id.email),
        organization_id: non_empty(&id.organization_id),
        tenant: tenant.to_owned(),
        source_product: record.source.as_str().to_owned(),
        source_version: non_empty(&id.app_version),
        entrypoint: non_empty(&id.app_entrypoint),
        terminal_type: non_empty(&id.terminal_type),
        host_name: non_empty(&id.host_name),
        host_arch: non_empty(&id.host_arch),
        os_type: non_empty(&id.os_type),
        os_version: non_empty(&id.os_version),
    };
    // Set by the enricher on the receive path; read from the record (Claude
    // Code copies resource attributes onto it) when enrichment is off.
    let res = record.resource.attrs();
    let get = |k: &str| log_attrs.string(k).or_else(|| res.string(k));
    let cost_center = get("cost_center").map(|cc| CostCenter {
        cost_center: cc,
        department: get("department").unwrap_or_default(),
        team: get("team").or_else(|| get("team.id")).unwrap_or_default(),
        manager: get("manager").unwrap_or_default(),
        source: log_attrs
            .string("cairn.cost_center.source")
            .unwrap_or_else(|| "resource".to_owned()),
    });
    Attribution {
        sequence,
        who,
        cost_center,
    }
}

/// Ids an event contributes for joining spans: request and tool use ids,
/// and the trace id when the log record carries one.
fn link_ids(e: &EventRecord) -> Vec<String> {
    let (request, tool) = match &e.event {
        ClaudeEvent::ToolDecision(d) => (d.request_id.as_ref(), d.tool_use_id.as_ref()),
        ClaudeEvent::ToolResult(r) => (r.request_id.as_ref(), r.tool_use_id.as_ref()),
        ClaudeEvent::ApiRequest(r) => (r.request_id.as_ref(), None),
        ClaudeEvent::ApiError(r) => (r.request_id.as_ref(), None),
        ClaudeEvent::AssistantResponse(r) => (r.request_id.as_ref(), None),
        _ => (None, None),
    };
    let mut ids: Vec<String> = request.into_iter().chain(tool).cloned().collect();
    if e.log.trace_id.len() == 16 {
        ids.push(hex::encode(&e.log.trace_id));
    }
    ids
}

impl Correlator {
    /// A correlator reading time from `clock`.
    pub fn new(config: CorrelatorConfig, clock: Arc<dyn Clock>) -> Correlator {
        Correlator {
            config,
            clock,
            open: HashMap::new(),
            order: BTreeMap::new(),
            closed: HashMap::new(),
            closed_order: VecDeque::new(),
            sessions: HashMap::new(),
            bytes: 0,
            serial: 0,
            stats: CorrelatorStats::default(),
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
        let mut late: BTreeMap<ChainKey, Late> = BTreeMap::new();
        let mut touched: Vec<SessionKey> = Vec::new();
        for record in &batch.records {
            match &record.body {
                RecordBody::Event(e) => {
                    self.add_event(record, e, tenant, now, &mut late, &mut touched)
                }
                RecordBody::Span(s) => {
                    let session = record
                        .identity
                        .session_id
                        .clone()
                        .or_else(|| Attrs(&s.span.attributes).string("gen_ai.conversation.id"))
                        .unwrap_or_default();
                    if let Some(entry) = SpanEntry::of(&s.span, &s.typed) {
                        let sk = (tenant.to_owned(), session);
                        let sess = self.sessions.entry(sk.clone()).or_default();
                        sess.pending.push((now, entry));
                        touch(&mut touched, sk);
                    }
                }
                RecordBody::Metric(_) => {}
            }
        }
        for sk in &touched {
            self.link_pending(sk, &mut late);
        }
        for sk in &touched {
            self.close_superseded(sk, out);
        }
        for (key, l) in late {
            self.amend(key, l, out);
        }
        self.enforce_caps(out);
        self.stats.set_open(self.open.len(), self.bytes);
    }

    fn add_event(
        &mut self,
        record: &Record,
        e: &EventRecord,
        tenant: &str,
        now: u64,
        late: &mut BTreeMap<ChainKey, Late>,
        touched: &mut Vec<SessionKey>,
    ) {
        let session = non_empty(&record.identity.session_id);
        let sk = (tenant.to_owned(), session.clone());
        if let Some(seq) = e.header.sequence {
            self.sessions
                .entry(sk.clone())
                .or_default()
                .seen
                .insert(seq);
        }
        let Some(prompt) = e.header.prompt_id.clone() else {
            return;
        };
        touch(touched, sk.clone());
        let key = ChainKey {
            tenant: tenant.to_owned(),
            session,
            prompt: prompt.clone(),
        };
        let entry = Entry::of(e);
        if let Some(closed) = self.closed.get_mut(&key) {
            if closed.hashes.insert(entry.hash) {
                late.entry(key).or_default().entries.push(entry);
            } else {
                self.stats.duplicate();
            }
            return;
        }
        let serial = self.serial;
        let chain = self
            .open
            .entry(key.clone())
            .or_insert_with(|| OpenChain::new(serial, now));
        if chain.serial == serial {
            self.serial += 1;
            self.order.insert(serial, key.clone());
            self.bytes += chain.bytes;
        }
        if !chain.hashes.insert(entry.hash) {
            self.stats.duplicate();
            return;
        }
        let seq = entry.sequence;
        chain.attribute(
            || attribution(record, Attrs(&e.log.attributes), tenant, seq),
            seq,
        );
        if matches!(e.event, ClaudeEvent::UserPrompt(_)) {
            chain.prompt_sequence = Some(chain.prompt_sequence.map_or(seq, |s| s.min(seq)));
        }
        chain.last_seen = now;
        let size = entry.size();
        chain.bytes += size;
        self.bytes += size;
        chain.entries.push(entry);
        let ids = link_ids(e);
        for id in &ids {
            if !chain.links.contains(id) {
                chain.links.push(id.clone());
            }
        }
        let sess = self.sessions.entry(key.session_key()).or_default();
        sess.open.insert(prompt.clone());
        if matches!(e.event, ClaudeEvent::UserPrompt(_))
            && sess.latest_prompt.as_ref().is_none_or(|(s, _)| seq > *s)
        {
            sess.latest_prompt = Some((seq, prompt.clone()));
        }
        for id in ids {
            sess.links.insert(id, prompt.clone());
        }
    }

    /// Delivers pending spans of a session whose prompt is now known.
    fn link_pending(&mut self, sk: &SessionKey, late: &mut BTreeMap<ChainKey, Late>) {
        loop {
            let Some(sess) = self.sessions.get_mut(sk) else {
                return;
            };
            let mut progress = false;
            let mut still = Vec::with_capacity(sess.pending.len());
            let mut found = Vec::new();
            for (t, span) in std::mem::take(&mut sess.pending) {
                let trace = hex::encode(span.trace_id);
                let prompt = span
                    .prompt_id
                    .clone()
                    .or_else(|| {
                        span.request_id
                            .as_ref()
                            .and_then(|r| sess.links.get(r).cloned())
                    })
                    .or_else(|| {
                        span.tool_use_id
                            .as_ref()
                            .and_then(|r| sess.links.get(r).cloned())
                    })
                    .or_else(|| sess.links.get(&trace).cloned());
                match prompt {
                    Some(p) => {
                        progress |= sess.links.insert(trace, p.clone()).is_none();
                        found.push((p, span));
                    }
                    None => still.push((t, span)),
                }
            }
            sess.pending = still;
            for (prompt, span) in found {
                let key = ChainKey {
                    tenant: sk.0.clone(),
                    session: sk.1.clone(),
                    prompt,
                };
                self.add_span(key, span, late);
            }
            if !progress {
                return;
            }
        }
    }

    fn add_span(&mut self, key: ChainKey, span: SpanEntry, late: &mut BTreeMap<ChainKey, Late>) {
        let trace = hex::encode(span.trace_id);
        if let Some(chain) = self.open.get_mut(&key) {
            if !chain.links.contains(&trace) {
                chain.links.push(trace);
            }
            if chain.hashes.insert(span.hash) {
                let size = span.size();
                chain.bytes += size;
                self.bytes += size;
                chain.spans.push(span);
            } else {
                self.stats.duplicate();
            }
        } else if let Some(closed) = self.closed.get_mut(&key) {
            if !closed.links.contains(&trace) {
                closed.links.push(trace);
            }
            if closed.hashes.insert(span.hash) {
                late.entry(key).or_default().spans.push(span);
            } else {
                self.stats.duplicate();
            }
        } else {
            // A span naming a prompt that has no events yet opens the chain.
            let now = self.clock.now_unix_nano();
            let serial = self.serial;
            self.serial += 1;
            let mut chain = OpenChain::new(serial, now);
            chain.links.push(trace);
            chain.hashes.insert(span.hash);
            chain.bytes += span.size();
            self.bytes += chain.bytes;
            chain.spans.push(span);
            self.order.insert(serial, key.clone());
            self.sessions
                .entry(key.session_key())
                .or_default()
                .open
                .insert(key.prompt.clone());
            self.open.insert(key, chain);
        }
    }

    /// Closes the session's chains that a later prompt superseded.
    fn close_superseded(&mut self, sk: &SessionKey, out: &mut Vec<PromptChain>) {
        let Some(sess) = self.sessions.get(sk) else {
            return;
        };
        let Some((latest, latest_prompt)) = sess.latest_prompt.clone() else {
            return;
        };
        let mut done: Vec<ChainKey> = Vec::new();
        for prompt in &sess.open {
            if *prompt == latest_prompt {
                continue;
            }
            let key = ChainKey {
                tenant: sk.0.clone(),
                session: sk.1.clone(),
                prompt: prompt.clone(),
            };
            if let Some(chain) = self.open.get(&key) {
                let first = chain
                    .prompt_sequence
                    .or_else(|| chain.entries.iter().map(|e| e.sequence).min());
                if first.is_some_and(|s| s < latest) {
                    done.push(key);
                }
            }
        }
        done.sort();
        for key in done {
            self.close(&key, Closure::NextPrompt, out);
        }
    }

    /// Closes chains idle for `idle_timeout`, and expires unlinked spans.
    pub fn on_tick(&mut self, out: &mut Vec<PromptChain>) {
        let now = self.clock.now_unix_nano();
        let timeout = u64::try_from(self.config.idle_timeout.as_nanos()).unwrap_or(u64::MAX);
        let mut idle: Vec<(u64, ChainKey)> = self
            .open
            .iter()
            .filter(|(_, c)| now.saturating_sub(c.last_seen) >= timeout)
            .map(|(k, c)| (c.serial, k.clone()))
            .collect();
        idle.sort();
        for (_, key) in idle {
            self.close(&key, Closure::IdleTimeout, out);
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
        let keys: Vec<ChainKey> = self.order.values().cloned().collect();
        for key in keys {
            self.close(&key, Closure::Shutdown, out);
        }
        self.stats.set_open(self.open.len(), self.bytes);
    }

    fn enforce_caps(&mut self, out: &mut Vec<PromptChain>) {
        while self.open.len() > self.config.max_open_chains.max(1)
            || (self.bytes > self.config.max_open_bytes && !self.open.is_empty())
        {
            let Some((_, key)) = self.order.first_key_value().map(|(s, k)| (*s, k.clone())) else {
                return;
            };
            self.close(&key, Closure::Evicted, out);
        }
    }

    fn close(&mut self, key: &ChainKey, closure: Closure, out: &mut Vec<PromptChain>) {
        let Some(mut chain) = self.open.remove(key) else {
            return;
        };
        self.order.remove(&chain.serial);
        self.bytes = self.bytes.saturating_sub(chain.bytes);
        let sk = key.session_key();
        let empty = std::collections::BTreeSet::new();
        let seen = self.sessions.get(&sk).map_or(&empty, |s| &s.seen);
        let attribution = chain.attribution.take();
        let record = fold(
            &FoldInput {
                key,
                who: attribution.as_ref().map(|a| &a.who),
                cost_center: attribution.as_ref().and_then(|a| a.cost_center.as_ref()),
                closure,
                amendment: 0,
                seen: Some(seen),
            },
            &mut chain.entries,
            &mut chain.spans,
        );
        let max_seq = chain
            .entries
            .iter()
            .map(|e| e.sequence)
            .filter(|&s| s != u64::MAX)
            .max();
        out.push(record);
        self.stats.emitted(closure);
        self.remember(
            key.clone(),
            ClosedChain {
                hashes: chain.hashes,
                amendments: 0,
                attribution,
                links: chain.links,
            },
        );
        self.prune_session(&sk, &key.prompt, max_seq);
    }

    fn prune_session(&mut self, sk: &SessionKey, prompt: &str, max_seq: Option<u64>) {
        let open_min: Option<u64> = self.sessions.get(sk).and_then(|s| {
            s.open
                .iter()
                .filter(|p| p.as_str() != prompt)
                .filter_map(|p| {
                    let key = ChainKey {
                        tenant: sk.0.clone(),
                        session: sk.1.clone(),
                        prompt: p.clone(),
                    };
                    self.open
                        .get(&key)?
                        .entries
                        .iter()
                        .map(|e| e.sequence)
                        .min()
                })
                .min()
        });
        if let Some(sess) = self.sessions.get_mut(sk) {
            sess.open.remove(prompt);
            let floor = match (open_min, max_seq) {
                (Some(a), Some(b)) => a.min(b.saturating_add(1)),
                (Some(a), None) => a,
                (None, Some(b)) => b.saturating_add(1),
                (None, None) => 0,
            };
            sess.seen = sess.seen.split_off(&floor);
        }
    }

    fn remember(&mut self, key: ChainKey, closed: ClosedChain) {
        self.closed.insert(key.clone(), closed);
        self.closed_order.push_back(key);
        while self.closed_order.len() > self.config.closed_memory {
            let Some(old) = self.closed_order.pop_front() else {
                break;
            };
            if let Some(c) = self.closed.remove(&old)
                && let Some(sess) = self.sessions.get_mut(&old.session_key())
            {
                for id in c.links {
                    if sess.links.get(&id) == Some(&old.prompt) {
                        sess.links.remove(&id);
                    }
                }
            }
        }
    }

    fn amend(&mut self, key: ChainKey, mut late: Late, out: &mut Vec<PromptChain>) {
        let Some(closed) = self.closed.get_mut(&key) else {
            return;
        };
        closed.amendments += 1;
        let a = closed.attribution.as_ref();
        let record = fold(
            &FoldInput {
                key: &key,
                who: a.map(|a| &a.who),
                cost_center: a.and_then(|a| a.cost_center.as_ref()),
                closure: Closure::Unspecified,
                amendment: closed.amendments,
                seen: None,
            },
            &mut late.entries,
            &mut late.spans,
        );
        out.push(record);
        self.stats.amended();
    }
}

fn touch(touched: &mut Vec<SessionKey>, sk: SessionKey) {
    if !touched.contains(&sk) {
        touched.push(sk);
    }
}
