//! How spans and events join a chain: the join ids an event contributes
//! (request id, tool use id, trace id), and spans that wait in their
//! session until the prompt they belong to is known.

use std::collections::BTreeMap;

use cairn_core::{event::ClaudeEvent, record::EventRecord};

use super::{
    CHAIN, Correlator, REQUEST, SPARE_MAX, TOOL_USE, TRACE,
    entry::SpanEntry,
    state::{ChainKey, Late, OpenChain},
};
use crate::ids::{Digest, Id};

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
            for (t, span) in pending.drain(..) {
                let d = &mut self.digest;
                let trace = d.link(TRACE, &span.trace_id);
                // The first join that finds a chain: prompt id, request id,
                // tool use id, trace id (later ones are not computed).
                let by_prompt = span
                    .str(span.prompt_id)
                    .map(|p| d.key(CHAIN, &[&sess.tenant, &sess.session, p]));
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
                        progress |= sess.links.insert(trace, cid).is_none();
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
pub(super) fn link_ids(digest: &mut Digest, e: &EventRecord) -> Links {
    let (request, tool) = match &e.event {
        ClaudeEvent::ToolDecision(d) => (d.request_id.as_ref(), d.tool_use_id.as_ref()),
        ClaudeEvent::ToolResult(r) => (r.request_id.as_ref(), r.tool_use_id.as_ref()),
        ClaudeEvent::ApiRequest(r) => (r.request_id.as_ref(), None),
        ClaudeEvent::ApiError(r) => (r.request_id.as_ref(), None),
        ClaudeEvent::AssistantResponse(r) => (r.request_id.as_ref(), None),
        _ => (None, None),
    };
    let mut ids = Links::default();
    if let Some(r) = request {
        ids.push(digest.link(REQUEST, r.as_bytes()));
    }
    if let Some(t) = tool {
        ids.push(digest.link(TOOL_USE, t.as_bytes()));
    }
    if e.log.trace_id.len() == 16 {
        ids.push(digest.link(TRACE, &e.log.trace_id));
    }
    ids
}
