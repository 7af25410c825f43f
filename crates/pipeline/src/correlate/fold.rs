//! Folding a chain's entries into its [`PromptChain`] record.
//!
//! The fold is a pure function of the set of entries: they are sorted by
//! `(event.sequence, time, content hash)` first, so any arrival order gives
//! the same record. Steps are matched by id, never by position:
//! `tool_decision` and `tool_result` by `tool_use_id`, `api_request`,
//! `api_error` and `assistant_response` by `request_id`, spans by the same
//! ids. Events without the id they would join on get a step of their own.

use std::collections::{BTreeSet, HashMap};

use cairn_core::{
    chain::{
        chain_id, rfc3339_millis,
        v1::{
            ApiCall, ApiErrorInfo, Closure, Completeness, CostCenter, Hook, OtherEvent, Prompt,
            PromptChain, Step, TokenCounts, ToolCall, ToolOutcome, Totals, When, Who, step::Kind,
        },
    },
    event::{ClaudeEvent, Decision},
    span::SpanKind,
};

use super::{
    entry::{Entry, SpanEntry},
    state::ChainKey,
};

/// How many missing sequence numbers a record lists.
const MAX_LISTED_GAPS: usize = 32;

/// Everything a fold needs besides the entries.
pub(crate) struct FoldInput<'a> {
    pub key: &'a ChainKey,
    pub who: Option<&'a Who>,
    pub cost_center: Option<&'a CostCenter>,
    pub closure: Closure,
    pub amendment: u32,
    /// Every `event.sequence` seen in the session (for gap detection); `None`
    /// for amendments, which do not judge completeness.
    pub seen: Option<&'a BTreeSet<u64>>,
}

/// A step under construction: where it sits and whose work it was.
struct Slot<T> {
    sequence: u64,
    agent_id: String,
    item: T,
}

impl<T> Slot<T> {
    fn claim(&mut self, sequence: u64, agent: &Option<String>) {
        self.sequence = self.sequence.min(sequence);
        if self.agent_id.is_empty()
            && let Some(a) = agent
        {
            self.agent_id = a.clone();
        }
    }
}

#[derive(Default)]
struct Builder {
    tools: Vec<Slot<ToolCall>>,
    apis: Vec<Slot<ApiCall>>,
    tool_ids: HashMap<String, usize>,
    api_ids: HashMap<String, usize>,
    others: Vec<Step>,
    prompt: Option<Prompt>,
}

/// Finds the slot joined by `id`, or opens one (events without the id get
/// a slot of their own).
fn slot<'a, T: Default>(
    slots: &'a mut Vec<Slot<T>>,
    ids: &mut HashMap<String, usize>,
    id: &Option<String>,
    sequence: u64,
    agent: &Option<String>,
    init: impl FnOnce(String) -> T,
) -> &'a mut T {
    let idx = match id.as_ref().and_then(|id| ids.get(id)) {
        Some(&i) => i,
        None => {
            slots.push(Slot {
                sequence,
                agent_id: String::new(),
                item: init(id.clone().unwrap_or_default()),
            });
            if let Some(id) = id {
                ids.insert(id.clone(), slots.len() - 1);
            }
            slots.len() - 1
        }
    };
    // `idx` is always in bounds: it was just pushed or came from `ids`,
    // which only holds indices of pushed slots.
    let len = slots.len();
    let s = &mut slots[idx.min(len - 1)];
    s.claim(sequence, agent);
    &mut s.item
}

impl Builder {
    fn step(&mut self, sequence: u64, agent_id: &Option<String>, kind: Kind) {
        self.others.push(Step {
            sequence,
            agent_id: agent_id.clone().unwrap_or_default(),
            kind: Some(kind),
        });
    }

    fn tool(
        &mut self,
        id: &Option<String>,
        sequence: u64,
        agent: &Option<String>,
    ) -> &mut ToolCall {
        slot(
            &mut self.tools,
            &mut self.tool_ids,
            id,
            sequence,
            agent,
            |tool_use_id| ToolCall {
                tool_use_id,
                ..ToolCall::default()
            },
        )
    }

    fn api(&mut self, id: &Option<String>, sequence: u64, agent: &Option<String>) -> &mut ApiCall {
        slot(
            &mut self.apis,
            &mut self.api_ids,
            id,
            sequence,
            agent,
            |request_id| ApiCall {
                request_id,
                ..ApiCall::default()
            },
        )
    }

    /// All steps, ordered by the sequence of their first event.
    fn into_steps(self) -> (Option<Prompt>, Vec<Step>) {
        let mut steps = self.others;
        steps.extend(self.tools.into_iter().map(|s| Step {
            sequence: s.sequence,
            agent_id: s.agent_id,
            kind: Some(Kind::Tool(s.item)),
        }));
        steps.extend(self.apis.into_iter().map(|s| Step {
            sequence: s.sequence,
            agent_id: s.agent_id,
            kind: Some(Kind::Api(s.item)),
        }));
        steps.sort_by_key(|s| s.sequence);
        (self.prompt, steps)
    }
}

fn set_if_empty(slot: &mut String, v: Option<&str>) {
    if slot.is_empty()
        && let Some(v) = v
    {
        *slot = v.to_owned();
    }
}

fn add(e: &Entry, b: &mut Builder) {
    let seq = e.sequence;
    let agent = &e.agent_id;
    match &e.event {
        ClaudeEvent::UserPrompt(p) => {
            if b.prompt.is_none() {
                b.prompt = Some(Prompt {
                    length: p.prompt_length.unwrap_or(0),
                    content_sent: e.content.prompt.is_some(),
                    text: e.content.prompt.clone().unwrap_or_default(),
                    command_name: p.command_name.clone().unwrap_or_default(),
                    command_source: p
                        .command_source
                        .as_ref()
                        .map(|c| c.as_str().to_owned())
                        .unwrap_or_default(),
                    message_uuid: p.message_uuid.clone().unwrap_or_default(),
                });
            }
        }
        ClaudeEvent::ToolDecision(d) => {
            let t = b.tool(&d.tool_use_id, seq, agent);
            t.decision_seen = true;
            set_if_empty(&mut t.tool_name, d.tool_name.as_deref());
            set_if_empty(&mut t.decision, d.decision.as_ref().map(Decision::as_str));
            set_if_empty(
                &mut t.decision_source,
                d.source.as_ref().map(|s| s.as_str()),
            );
            set_if_empty(
                &mut t.tool_source,
                d.tool_source.as_ref().map(|s| s.as_str()),
            );
            set_if_empty(&mut t.request_id, d.request_id.as_deref());
            set_if_empty(&mut t.parameters, e.content.parameters.as_deref());
        }
        ClaudeEvent::ToolResult(r) => {
            let t = b.tool(&r.tool_use_id, seq, agent);
            t.result_seen = true;
            set_if_empty(&mut t.tool_name, r.tool_name.as_deref());
            set_if_empty(&mut t.request_id, r.request_id.as_deref());
            set_if_empty(&mut t.error_type, r.error_type.as_deref());
            set_if_empty(&mut t.parameters, e.content.parameters.as_deref());
            set_if_empty(&mut t.input, e.content.input.as_deref());
            set_if_empty(
                &mut t.decision_source,
                r.decision_source.as_ref().map(|s| s.as_str()),
            );
            t.duration_ms = r.duration_ms.unwrap_or(t.duration_ms);
            t.input_size_bytes = r.tool_input_size_bytes.unwrap_or(t.input_size_bytes);
            t.result_size_bytes = r.tool_result_size_bytes.unwrap_or(t.result_size_bytes);
            t.outcome = match r.success {
                Some(false) => ToolOutcome::Failed,
                _ => ToolOutcome::Succeeded,
            } as i32;
        }
        ClaudeEvent::ApiRequest(r) => {
            let a = b.api(&r.request_id, seq, agent);
            a.succeeded = true;
            set_if_empty(&mut a.model, r.model.as_deref());
            set_if_empty(&mut a.query_source, r.query_source.as_deref());
            set_if_empty(&mut a.speed, r.speed.as_ref().map(|s| s.as_str()));
            set_if_empty(&mut a.effort, r.effort.as_ref().map(|s| s.as_str()));
            a.cost_usd = r
                .cost_usd
                .or(r.cost_usd_micros.map(|m| m as f64 / 1e6))
                .unwrap_or(0.0);
            a.duration_ms = r.duration_ms.unwrap_or(0.0);
            a.ttft_ms = r.ttft_ms.unwrap_or(0.0);
            a.tokens = Some(TokenCounts {
                input: r.input_tokens.unwrap_or(0),
                output: r.output_tokens.unwrap_or(0),
                cache_read: r.cache_read_tokens.unwrap_or(0),
                cache_creation: r.cache_creation_tokens.unwrap_or(0),
            });
        }
        ClaudeEvent::ApiError(r) => {
            let a = b.api(&r.request_id, seq, agent);
            set_if_empty(&mut a.model, r.model.as_deref());
            set_if_empty(&mut a.query_source, r.query_source.as_deref());
            a.attempts = a.attempts.max(r.attempt.unwrap_or(0));
            a.errors.push(ApiErrorInfo {
                status_code: r.status_code.map(u32::from).unwrap_or(0),
                error: e.content.error.clone().unwrap_or_default(),
                attempt: r.attempt.unwrap_or(0),
                duration_ms: r.duration_ms.unwrap_or(0.0),
            });
        }
        ClaudeEvent::ApiRetriesExhausted(r) => {
            let a = b.api(&r.request_id, seq, agent);
            set_if_empty(&mut a.model, r.model.as_deref());
            a.retries_exhausted = true;
            a.attempts = a.attempts.max(r.total_attempts.unwrap_or(0));
        }
        ClaudeEvent::AssistantResponse(r) => {
            let a = b.api(&r.request_id, seq, agent);
            a.response_seen = true;
            a.response_length = r.response_length.unwrap_or(0);
            set_if_empty(&mut a.model, r.model.as_deref());
            set_if_empty(&mut a.query_source, r.query_source.as_deref());
        }
        ClaudeEvent::HookExecutionStart(h) => {
            let hook = Hook {
                phase: "start".into(),
                hook_event: h.hook_event.clone().unwrap_or_default(),
                hook_name: h.hook_name.clone().unwrap_or_default(),
                num_hooks: h.num_hooks.unwrap_or(0),
                ..Hook::default()
            };
            b.step(seq, agent, Kind::Hook(hook));
        }
        ClaudeEvent::HookExecutionComplete(h) => {
            let hook = Hook {
                phase: "complete".into(),
                hook_event: h.execution.hook_event.clone().unwrap_or_default(),
                hook_name: h.execution.hook_name.clone().unwrap_or_default(),
                num_hooks: h.execution.num_hooks.unwrap_or(0),
                num_success: h.num_success.unwrap_or(0),
                num_blocking: h.num_blocking.unwrap_or(0),
                num_non_blocking_error: h.num_non_blocking_error.unwrap_or(0),
                num_cancelled: h.num_cancelled.unwrap_or(0),
                duration_ms: h.total_duration_ms.unwrap_or(0.0),
            };
            b.step(seq, agent, Kind::Hook(hook));
        }
        ClaudeEvent::Compaction(c) => {
            let c = cairn_core::chain::v1::Compaction {
                trigger: c.trigger.clone().unwrap_or_default(),
                success: c.success.unwrap_or(false),
                duration_ms: c.duration_ms.unwrap_or(0.0),
                pre_tokens: c.pre_tokens.unwrap_or(0),
                post_tokens: c.post_tokens.unwrap_or(0),
            };
            b.step(seq, agent, Kind::Compaction(c));
        }
        ClaudeEvent::SubagentCompleted(s) => {
            let s = cairn_core::chain::v1::Subagent {
                agent_type: s.agent_type.clone().unwrap_or_default(),
                total_tokens: s.total_tokens.unwrap_or(0),
                total_tool_uses: s.total_tool_uses.unwrap_or(0),
                duration_ms: s.duration_ms.unwrap_or(0.0),
                model: s.model.clone().unwrap_or_default(),
            };
            b.step(seq, agent, Kind::Subagent(s));
        }
        other => {
            let name = match other {
                ClaudeEvent::Unknown { name } => name.clone(),
                known => known.name().to_owned(),
            };
            b.step(seq, agent, Kind::Other(OtherEvent { name }));
        }
    }
}

fn add_span(s: &SpanEntry, b: &mut Builder) {
    let span_id = hex::encode(s.span_id);
    match s.kind {
        SpanKind::Tool if s.tool_use_id.is_some() => {
            let t = b.tool(&s.tool_use_id, u64::MAX, &s.agent_id);
            set_if_empty(&mut t.tool_name, s.tool_name.as_deref());
            t.span_id = span_id;
        }
        SpanKind::LlmRequest if s.request_id.is_some() => {
            let a = b.api(&s.request_id, u64::MAX, &s.agent_id);
            a.span_id = span_id;
        }
        _ => {}
    }
}

/// Builds the record from entries and spans (sorted here).
pub(crate) fn fold(
    input: &FoldInput<'_>,
    entries: &mut [Entry],
    spans: &mut [SpanEntry],
) -> PromptChain {
    entries.sort_by_key(|e| (e.sequence, e.time, e.hash));
    spans.sort_by_key(|s| (s.start, s.hash));
    let mut b = Builder::default();
    for e in entries.iter() {
        add(e, &mut b);
    }
    for s in spans.iter() {
        add_span(s, &mut b);
    }
    // A tool that was rejected never runs: rejected, not missing.
    for t in &mut b.tools {
        let t = &mut t.item;
        if !t.result_seen {
            t.outcome = if t.decision == "reject" {
                ToolOutcome::Rejected
            } else if t.decision_seen {
                ToolOutcome::NoResult
            } else {
                ToolOutcome::Unspecified
            } as i32;
        }
    }
    let (prompt, steps) = b.into_steps();
    let totals = totals(&steps, entries.len());
    let when = when(entries);
    let completeness = completeness(input, entries, prompt.is_some(), &steps);
    let mut trace_ids: Vec<String> = spans.iter().map(|s| hex::encode(s.trace_id)).collect();
    trace_ids.dedup();
    trace_ids.sort();
    trace_ids.dedup();
    PromptChain {
        chain_id: chain_id(&input.key.tenant, &input.key.session, &input.key.prompt),
        session_id: input.key.session.clone(),
        prompt_id: input.key.prompt.clone(),
        amendment: input.amendment,
        who: input.who.cloned(),
        when: Some(when),
        prompt,
        steps,
        totals: Some(totals),
        completeness: Some(completeness),
        cost_center: input.cost_center.cloned(),
        trace_ids,
    }
}

fn totals(steps: &[Step], events: usize) -> Totals {
    let mut t = Totals {
        events: u32::try_from(events).unwrap_or(u32::MAX),
        ..Totals::default()
    };
    let mut tokens = TokenCounts::default();
    let mut models = BTreeSet::new();
    for step in steps {
        match &step.kind {
            Some(Kind::Api(a)) => {
                if a.succeeded {
                    t.api_calls += 1;
                }
                t.cost_usd += a.cost_usd;
                t.api_errors += u32::try_from(a.errors.len()).unwrap_or(u32::MAX);
                if let Some(k) = &a.tokens {
                    tokens.input += k.input;
                    tokens.output += k.output;
                    tokens.cache_read += k.cache_read;
                    tokens.cache_creation += k.cache_creation;
                }
                if !a.model.is_empty() {
                    models.insert(a.model.clone());
                }
            }
            Some(Kind::Tool(tool)) => {
                t.tool_calls += 1;
                match ToolOutcome::try_from(tool.outcome) {
                    Ok(ToolOutcome::Failed) => t.failed_tools += 1,
                    Ok(ToolOutcome::Rejected) => t.rejected_tools += 1,
                    _ => {}
                }
            }
            Some(Kind::Subagent(_)) => t.subagents += 1,
            _ => {}
        }
    }
    t.tokens = Some(tokens);
    t.models = models.into_iter().collect();
    t
}

fn when(entries: &[Entry]) -> When {
    let times = entries.iter().map(|e| e.time).filter(|&t| t != 0);
    let first = times.clone().min().unwrap_or(0);
    let last = times.max().unwrap_or(0);
    When {
        first_unix_nano: first,
        last_unix_nano: last,
        first_time: rfc3339_millis(first),
        last_time: rfc3339_millis(last),
        duration_ms: last.saturating_sub(first) / 1_000_000,
    }
}

fn completeness(
    input: &FoldInput<'_>,
    entries: &[Entry],
    user_prompt_seen: bool,
    steps: &[Step],
) -> Completeness {
    let tools_without_result = steps
        .iter()
        .filter(|s| {
            matches!(&s.kind, Some(Kind::Tool(t))
                if t.outcome == ToolOutcome::NoResult as i32)
        })
        .count();
    let mut missing = Vec::new();
    let mut gaps = 0u32;
    if let Some(seen) = input.seen {
        let seqs = entries
            .iter()
            .map(|e| e.sequence)
            .filter(|&s| s != u64::MAX);
        if let (Some(lo), Some(hi)) = (seqs.clone().min(), seqs.max()) {
            let mut expected = lo;
            for &s in seen.range(lo..=hi) {
                for m in expected..s {
                    gaps = gaps.saturating_add(1);
                    if missing.len() < MAX_LISTED_GAPS {
                        missing.push(m);
                    }
                }
                expected = s.saturating_add(1);
            }
        }
    }
    Completeness {
        complete: input.seen.is_some()
            && user_prompt_seen
            && gaps == 0
            && tools_without_result == 0,
        closed_by: input.closure as i32,
        user_prompt_seen,
        sequence_gaps: gaps,
        missing_sequences: missing,
        tools_without_result: u32::try_from(tools_without_result).unwrap_or(u32::MAX),
    }
}
