//! How spans and events join a chain: the join ids an event contributes
//! (request id, tool use id, trace id), spans that wait in their session
//! until the prompt they belong to is known, and the ids themselves
//! ([`Ids`]: the last one of each kind is remembered, as a prompt's events
//! and spans repeat them).

use std::collections::BTreeMap;

use cairn_core::{event::ClaudeEvent, record::EventRecord};

use super::{
    CHAIN, Correlator, REQUEST, SPARE_MAX, TOOL_USE, TRACE,
    entry::SpanEntry,
    state::{ChainKey, Late, OpenChain},
};
use crate::ids::{Digest, Id};

/// A value and its id, once computed.
#[derive(Debug, Default)]
struct Last {
    value: Vec<u8>,
    id: Option<Id>,
}

impl Last {
    /// The id of `value`: the remembered one when `value` is the last
    /// value, else `compute`'s, remembered.
    fn get(&mut self, value: &[u8], compute: impl FnOnce() -> Id) -> Id {
        match self.id {
            Some(id) if self.value == value => id,
            _ => {
                let id = compute();
                self.value.clear();
                self.value.extend_from_slice(value);
                self.id = Some(id);
                id
            }
        }
    }
}

/// The correlator's ids ([`Digest`]), with the last join id of each kind
/// and the last chain id remembered by value: a prompt's events and spans
/// carry the same trace id, most of them the same request or tool use id,
/// and a span batch the same prompt id, so most lookups skip the hash.
/// Ids never change for a correlator (the seed is fixed at creation), so a
/// remembered id is the one the digest would compute.
#[derive(Debug, Default)]
pub(super) struct Ids {
    digest: Digest,
    /// By tag: request, tool use, trace.
    joins: [Last; 3],
    /// The chain id of the last `(session id, prompt id)`.
    chain: (Id, Last),
}

impl Ids {
    /// [`Digest::key`].
    pub(super) fn key(&mut self, tag: u8, parts: &[&str]) -> Id {
        self.digest.key(tag, parts)
    }

    /// [`Digest::link`], remembered for join tags.
    pub(super) fn link(&mut self, tag: u8, value: &[u8]) -> Id {
        let slot = match tag {
            REQUEST => self.joins.get_mut(0),
            TOOL_USE => self.joins.get_mut(1),
            TRACE => self.joins.get_mut(2),
            _ => None,
        };
        let digest = &mut self.digest;
        match slot {
            Some(last) => last.get(value, || digest.link(tag, value)),
            None => digest.link(tag, value),
        }
    }

    /// The chain id of `(tenant, session, prompt)`; `sid` is the id of
    /// `(tenant, session)`.
    pub(super) fn chain(&mut self, sid: Id, tenant: &str, session: &str, prompt: &str) -> Id {
        let (last_sid, last) = &mut self.chain;
        if *last_sid != sid {
            *last_sid = sid;
            last.id = None;
        }
        let digest = &mut self.digest;
        last.get(prompt.as_bytes(), || {
            digest.key(CHAIN, &[tenant, session, prompt])
        })
    }
}

impl Correlator {
    /// Delivers pending spans of a session whose prompt is now known.
    pub(super) fn link_pending(&mut self, sid: Id, late: &mut BTreeMap<Id, Late>) {
        let mut found = std::mem::take(&mut self.found);
        while let Some(sess) = self.sessions.get_mut(&sid)
            && !sess.pending.is_empty()
        {
            let mut progress = false;
            let mut pending = std::mem::take(&mut sess.pending);
            let mut still = Vec::new();
            // The last join of a trace id this round made: the map answers
            // the same to the same insert, and nothing else writes it here.
            let mut joined_trace = None;
            for (t, span) in pending.drain(..) {
                let d = &mut self.ids;
                let trace = d.link(TRACE, &span.trace_id);
                // The first join that finds a chain: prompt id, request id,
                // tool use id, trace id (later ones are not computed).
                let by_prompt = span
                    .str(span.prompt_id)
                    .map(|p| d.chain(sid, &sess.tenant, &sess.session, p));
                let joined = by_prompt
                    .or_else(|| {
                        let r = span.str(span.request_id)?;
                        sess.links.get(&d.link(REQUEST, r.as_bytes())).copied()
                    })
                    .or_else(|| {
                        let t = span.str(span.tool_use_id)?;
                        sess.links.get(&d.link(TOOL_USE, t.as_bytes())).copied()
                    })
                    .or_else(|| sess.links.get(&trace).copied());
                match joined {
                    Some(cid) => {
                        if joined_trace != Some((trace, cid)) {
                            progress |= sess.links.insert(trace, cid).is_none();
                            joined_trace = Some((trace, cid));
                        }
                        found.push((cid, trace, span));
                    }
                    None => still.push((t, span)),
                }
            }
            sess.pending = still;
            if (self.spare_pending.capacity()..=SPARE_MAX).contains(&pending.capacity()) {
                self.spare_pending = pending;
            }
            for (cid, trace, span) in found.drain(..) {
                self.add_span(sid, cid, trace, span, late);
            }
            if !progress {
                break;
            }
        }
        if found.capacity() <= SPARE_MAX {
            self.found = found;
        }
    }

    pub(super) fn add_span(
        &mut self,
        sid: Id,
        cid: Id,
        trace: Id,
        span: SpanEntry,
        late: &mut BTreeMap<Id, Late>,
    ) {
        if let Some(chain) = self.open.get_mut(&cid) {
            let before = chain.bytes;
            chain.link(trace);
            if chain.add_hash(span.hash) {
                chain.bytes += span.size();
                chain.spans.push(span);
            } else {
                self.stats.duplicate();
            }
            self.bytes += chain.bytes - before;
        } else if let Some(closed) = self.closed.get_mut(&cid) {
            if !closed.links.contains(&trace) {
                closed.links.push(trace);
            }
            if closed.add_hash(span.hash) {
                late.entry(cid).or_default().spans.push(span);
            } else {
                self.stats.duplicate();
            }
        } else if let Some(prompt) = span.str(span.prompt_id).map(str::to_owned)
            && let Some(sess) = self.sessions.get_mut(&sid)
        {
            // A span naming a prompt that has no events yet opens the chain.
            let key = ChainKey {
                tenant: sess.tenant.clone(),
                session: sess.session.clone(),
                prompt,
            };
            let mut chain = OpenChain::new(key, sid, self.serial, self.clock.now_unix_nano());
            chain.link(trace);
            chain.add_hash(span.hash);
            chain.bytes += span.size();
            chain.spans.push(span);
            sess.open.insert(cid);
            self.order.insert(self.serial, cid);
            self.serial += 1;
            self.bytes += chain.bytes;
            self.open.insert(cid, Box::new(chain));
        }
    }
}

/// Up to three join ids (request, tool use, trace) without an allocation.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Links {
    ids: [Id; 3],
    len: usize,
}

impl Links {
    pub(super) fn push(&mut self, id: Id) {
        if let Some(slot) = self.ids.get_mut(self.len) {
            *slot = id;
            self.len += 1;
        }
    }

    pub(super) fn as_slice(&self) -> &[Id] {
        self.ids.get(..self.len).unwrap_or(&[])
    }
}

/// Join ids an event contributes: request and tool use ids, and the
/// trace id when the log record carries one.
pub(super) fn link_ids(ids: &mut Ids, e: &EventRecord) -> Links {
    let (request, tool) = match &e.event {
        ClaudeEvent::ToolDecision(d) => (d.request_id.as_ref(), d.tool_use_id.as_ref()),
        ClaudeEvent::ToolResult(r) => (r.request_id.as_ref(), r.tool_use_id.as_ref()),
        ClaudeEvent::ApiRequest(r) => (r.request_id.as_ref(), None),
        ClaudeEvent::ApiError(r) => (r.request_id.as_ref(), None),
        ClaudeEvent::AssistantResponse(r) => (r.request_id.as_ref(), None),
        _ => (None, None),
    };
    let mut links = Links::default();
    if let Some(r) = request {
        links.push(ids.link(REQUEST, r.as_bytes()));
    }
    if let Some(t) = tool {
        links.push(ids.link(TOOL_USE, t.as_bytes()));
    }
    if e.log.trace_id.len() == 16 {
        links.push(ids.link(TRACE, &e.log.trace_id));
    }
    links
}
