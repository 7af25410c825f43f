//! Folding a chain's entries into its [`PromptChain`] record.
//!
//! The fold is a pure function of the set of entries: they are sorted by
//! `(event.sequence, time, content hash)` first, so any arrival order gives
//! the same record. Steps are matched by id, never by position:
//! `tool_decision` and `tool_result` by `tool_use_id`, `api_request`,
//! `api_error` and `assistant_response` by `request_id`, spans by the same
//! ids. Events without the id they would join on get a step of their own.

use cairn_core::{
    chain::{
        chain_id, lower_hex, rfc3339_millis,
        v1::{
            ApiErrorInfo, Closure, Completeness, CostCenter, Hook, OtherEvent, Prompt, PromptChain,
            Step, TokenCounts, ToolOutcome, Totals, When, Who, step::Kind,
        },
    },
    span::SpanKind,
};

use super::{
    entry::{Entry, Ev, SpanEntry, Text},
    state::{ChainKey, Seen},
    steps::Builder,
};

/// How many missing sequence numbers a record lists.
const MAX_LISTED_GAPS: usize = 32;

/// Everything a fold needs besides the entries.
pub(crate) struct FoldInput<'a> {
    pub key: &'a ChainKey,
    /// The strings of the entries.
    pub text: &'a Text,
    pub who: Option<Who>,
    pub cost_center: Option<CostCenter>,
    pub closure: Closure,
    pub amendment: u32,
    /// Every `event.sequence` seen in the session (for gap detection); `None`
    /// for amendments, which do not judge completeness.
    pub seen: Option<&'a Seen>,
}

fn set_if_empty(slot: &mut String, v: Option<&str>) {
    if slot.is_empty()
        && let Some(v) = v
    {
        *slot = v.to_owned();
    }
}

fn owned(v: Option<&str>) -> String {
    v.unwrap_or_default().to_owned()
}

fn add<'a>(e: &Entry, text: &'a Text, b: &mut Builder<'a>) {
    let seq = e.sequence;
    let s = |x| text.get(x);
    let agent = s(e.agent_id);
    match &e.event {
        Ev::UserPrompt {
            length,
            prompt,
            command_name,
            command_source,
            message_uuid,
        } => {
            if b.prompt.is_none() {
                b.prompt = Some(Prompt {
                    length: length.unwrap_or(0),
                    content_sent: s(*prompt).is_some(),
                    text: owned(s(*prompt)),
                    command_name: owned(s(*command_name)),
                    command_source: owned(s(*command_source)),
                    message_uuid: owned(s(*message_uuid)),
                });
            }
        }
        Ev::ToolDecision {
            tool_use_id,
            tool_name,
            decision,
            source,
            tool_source,
            request_id,
            parameters,
        } => {
            let Some(t) = b.tool(s(*tool_use_id), seq, agent) else {
                return;
            };
            t.decision_seen = true;
            set_if_empty(&mut t.tool_name, s(*tool_name));
            set_if_empty(&mut t.decision, s(*decision));
            set_if_empty(&mut t.decision_source, s(*source));
            set_if_empty(&mut t.tool_source, s(*tool_source));
            set_if_empty(&mut t.request_id, s(*request_id));
            set_if_empty(&mut t.parameters, s(*parameters));
        }
        Ev::ToolResult {
            tool_use_id,
            tool_name,
            request_id,
            error_type,
            decision_source,
            parameters,
            input,
            success,
            duration_ms,
            input_size_bytes,
            result_size_bytes,
        } => {
            let Some(t) = b.tool(s(*tool_use_id), seq, agent) else {
                return;
            };
            t.result_seen = true;
            set_if_empty(&mut t.tool_name, s(*tool_name));
            set_if_empty(&mut t.request_id, s(*request_id));
            set_if_empty(&mut t.error_type, s(*error_type));
            set_if_empty(&mut t.parameters, s(*parameters));
            set_if_empty(&mut t.input, s(*input));
            set_if_empty(&mut t.decision_source, s(*decision_source));
            t.duration_ms = duration_ms.unwrap_or(t.duration_ms);
            t.input_size_bytes = input_size_bytes.unwrap_or(t.input_size_bytes);
            t.result_size_bytes = result_size_bytes.unwrap_or(t.result_size_bytes);
            t.outcome = match success {
                Some(false) => ToolOutcome::Failed,
                _ => ToolOutcome::Succeeded,
            } as i32;
        }
        Ev::ApiRequest {
            request_id,
            model,
            query_source,
            speed,
            effort,
            cost_usd,
            duration_ms,
            ttft_ms,
            tokens,
        } => {
            let Some(a) = b.api(s(*request_id), seq, agent) else {
                return;
            };
            a.succeeded = true;
            set_if_empty(&mut a.model, s(*model));
            set_if_empty(&mut a.query_source, s(*query_source));
            set_if_empty(&mut a.speed, s(*speed));
            set_if_empty(&mut a.effort, s(*effort));
            a.cost_usd = *cost_usd;
            a.duration_ms = duration_ms.unwrap_or(0.0);
            a.ttft_ms = ttft_ms.unwrap_or(0.0);
            let [input, output, cache_read, cache_creation] = tokens.map(|t| t.unwrap_or(0));
            a.tokens = Some(TokenCounts {
                input,
                output,
                cache_read,
                cache_creation,
            });
        }
        Ev::ApiError {
            request_id,
            model,
            query_source,
            error,
            status_code,
            attempt,
            duration_ms,
        } => {
            let Some(a) = b.api(s(*request_id), seq, agent) else {
                return;
            };
            set_if_empty(&mut a.model, s(*model));
            set_if_empty(&mut a.query_source, s(*query_source));
            a.attempts = a.attempts.max(attempt.unwrap_or(0));
            a.errors.push(ApiErrorInfo {
                status_code: status_code.map(u32::from).unwrap_or(0),
                error: owned(s(*error)),
                attempt: attempt.unwrap_or(0),
                duration_ms: duration_ms.unwrap_or(0.0),
            });
        }
        Ev::ApiRetriesExhausted {
            request_id,
            model,
            total_attempts,
        } => {
            let Some(a) = b.api(s(*request_id), seq, agent) else {
                return;
            };
            set_if_empty(&mut a.model, s(*model));
            a.retries_exhausted = true;
            a.attempts = a.attempts.max(total_attempts.unwrap_or(0));
        }
        Ev::AssistantResponse {
            request_id,
            model,
            query_source,
            response_length,
        } => {
            let Some(a) = b.api(s(*request_id), seq, agent) else {
                return;
            };
            a.response_seen = true;
            a.response_length = response_length.unwrap_or(0);
            set_if_empty(&mut a.model, s(*model));
            set_if_empty(&mut a.query_source, s(*query_source));
        }
        Ev::HookStart {
            hook_event,
            hook_name,
            num_hooks,
        } => {
            let hook = Hook {
                phase: "start".into(),
                hook_event: owned(s(*hook_event)),
                hook_name: owned(s(*hook_name)),
                num_hooks: num_hooks.unwrap_or(0),
                ..Hook::default()
            };
            b.step(seq, agent, Kind::Hook(hook));
        }
        Ev::HookComplete {
            hook_event,
            hook_name,
            num_hooks,
            num_success,
            num_blocking,
            num_non_blocking_error,
            num_cancelled,
            duration_ms,
        } => {
            let hook = Hook {
                phase: "complete".into(),
                hook_event: owned(s(*hook_event)),
                hook_name: owned(s(*hook_name)),
                num_hooks: num_hooks.unwrap_or(0),
                num_success: num_success.unwrap_or(0),
                num_blocking: num_blocking.unwrap_or(0),
                num_non_blocking_error: num_non_blocking_error.unwrap_or(0),
                num_cancelled: num_cancelled.unwrap_or(0),
                duration_ms: duration_ms.unwrap_or(0.0),
            };
            b.step(seq, agent, Kind::Hook(hook));
        }
        Ev::Compaction {
            trigger,
            success,
            duration_ms,
            pre_tokens,
            post_tokens,
        } => {
            let c = cairn_core::chain::v1::Compaction {
                trigger: owned(s(*trigger)),
                success: success.unwrap_or(false),
                duration_ms: duration_ms.unwrap_or(0.0),
                pre_tokens: pre_tokens.unwrap_or(0),
                post_tokens: post_tokens.unwrap_or(0),
            };
            b.step(seq, agent, Kind::Compaction(c));
        }
        Ev::SubagentCompleted {
            agent_type,
            model,
            total_tokens,
            total_tool_uses,
            duration_ms,
        } => {
            let x = cairn_core::chain::v1::Subagent {
                agent_type: owned(s(*agent_type)),
                total_tokens: total_tokens.unwrap_or(0),
                total_tool_uses: total_tool_uses.unwrap_or(0),
                duration_ms: duration_ms.unwrap_or(0.0),
                model: owned(s(*model)),
            };
            b.step(seq, agent, Kind::Subagent(x));
        }
        Ev::Other { name } => {
            let name = owned(s(*name));
            b.step(seq, agent, Kind::Other(OtherEvent { name }));
        }
    }
}

fn add_span<'a>(sp: &'a SpanEntry, b: &mut Builder<'a>) {
    let s = |x| sp.str(x);
    match sp.kind {
        SpanKind::Tool if sp.tool_use_id.is_some() => {
            let Some(t) = b.tool(s(sp.tool_use_id), u64::MAX, s(sp.agent_id)) else {
                return;
            };
            set_if_empty(&mut t.tool_name, s(sp.tool_name));
            t.span_id = lower_hex(&sp.span_id);
        }
        SpanKind::LlmRequest if sp.request_id.is_some() => {
            let Some(a) = b.api(s(sp.request_id), u64::MAX, s(sp.agent_id)) else {
                return;
            };
            a.span_id = lower_hex(&sp.span_id);
        }
        _ => {}
    }
}

/// The most steps a fold's scratch list keeps room for between folds.
const SCRATCH_MAX: usize = 256;

/// Builds the record from entries and spans (sorted here). `scratch` is a
/// list kept between folds for its allocation; the record gets its steps in
/// a list of their exact size.
pub(crate) fn fold(
    input: FoldInput<'_>,
    entries: &mut [Entry],
    spans: &mut [SpanEntry],
    scratch: &mut Vec<Step>,
) -> PromptChain {
    entries.sort_by_key(|e| (e.sequence, e.time, e.hash));
    spans.sort_by_key(|s| (s.start, s.hash));
    // Every entry and span opens at most one step.
    let mut b = Builder::new(std::mem::take(scratch), entries.len() + spans.len());
    for e in entries.iter() {
        add(e, input.text, &mut b);
    }
    for s in spans.iter() {
        add_span(s, &mut b);
    }
    // A tool that was rejected never runs: rejected, not missing.
    for step in &mut b.steps {
        if let Some(Kind::Tool(t)) = &mut step.kind
            && !t.result_seen
        {
            t.outcome = if t.decision == "reject" {
                ToolOutcome::Rejected
            } else if t.decision_seen {
                ToolOutcome::NoResult
            } else {
                ToolOutcome::Unspecified
            } as i32;
        }
    }
    let steps = b.take_steps();
    let prompt = b.prompt.take();
    if b.steps.capacity() <= SCRATCH_MAX {
        *scratch = b.steps;
    }
    let totals = totals(&steps, entries.len());
    let when = when(entries);
    let completeness = completeness(&input, entries, prompt.is_some(), &steps);
    // Hex keeps byte order, so sorting the raw ids sorts the strings.
    let mut raw: Vec<&[u8; 16]> = spans.iter().map(|s| &s.trace_id).collect();
    raw.sort_unstable();
    raw.dedup();
    let trace_ids: Vec<String> = raw.into_iter().map(|t| lower_hex(t)).collect();
    PromptChain {
        chain_id: chain_id(&input.key.tenant, &input.key.session, &input.key.prompt),
        session_id: input.key.session.clone(),
        prompt_id: input.key.prompt.clone(),
        amendment: input.amendment,
        who: input.who,
        when: Some(when),
        prompt,
        steps,
        totals: Some(totals),
        completeness: Some(completeness),
        cost_center: input.cost_center,
        trace_ids,
    }
}

fn totals(steps: &[Step], events: usize) -> Totals {
    let mut t = Totals {
        events: u32::try_from(events).unwrap_or(u32::MAX),
        ..Totals::default()
    };
    let mut tokens = TokenCounts::default();
    let mut models: Vec<&str> = Vec::new();
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
                    models.push(&a.model);
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
    models.sort_unstable();
    models.dedup();
    t.models = models.into_iter().map(str::to_owned).collect();
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
            for &s in seen.range(lo, hi) {
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
