#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{sync::Arc, time::Duration};

use cairn_core::{
    chain::{
        PromptChain,
        v1::{ApiCall, Closure, ToolCall, ToolOutcome, step::Kind},
    },
    clock::ManualClock,
    metric::{MetricKind, Temporality},
    record::{Batch, RecordBody},
    signal::Signal,
};
use cairn_testkit::fixtures;
use proptest::prelude::*;

use super::*;
use crate::test_events::{batch, event};

const SEC: u64 = 1_000_000_000;
const T0: u64 = 1_795_458_664 * SEC;

fn correlator(config: CorrelatorConfig) -> (Correlator, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    (Correlator::new(config, clock.clone()), clock)
}

fn run(batches: &[Batch]) -> Vec<PromptChain> {
    let (mut c, _) = correlator(CorrelatorConfig::default());
    let mut out = Vec::new();
    for b in batches {
        c.process(b, &mut out);
    }
    c.close_all(&mut out);
    out
}

fn tools(c: &PromptChain) -> Vec<&ToolCall> {
    c.steps
        .iter()
        .filter_map(|s| match &s.kind {
            Some(Kind::Tool(t)) => Some(t),
            _ => None,
        })
        .collect()
}

fn apis(c: &PromptChain) -> Vec<&ApiCall> {
    c.steps
        .iter()
        .filter_map(|s| match &s.kind {
            Some(Kind::Api(a)) => Some(a),
            _ => None,
        })
        .collect()
}

fn scenario(name: &str) -> Vec<Batch> {
    let b = fixtures::scenario_batches(name);
    assert!(!b.is_empty(), "no batches for {name}");
    b
}

#[test]
fn the_real_fixture_yields_one_complete_chain_with_its_steps_and_totals() {
    let out = run(&scenario("http-protobuf"));
    assert_eq!(out.len(), 1, "{out:#?}");
    let c = &out[0];
    assert_eq!(c.prompt_id, "aa6ad45b-aac7-4b34-8d2a-58b26567b6e7");
    assert_eq!(c.session_id, "f5a8a3a2-f546-4cf2-822a-9d04c0cdf064");
    assert_eq!(c.amendment, 0);
    let done = c.completeness.as_ref().unwrap();
    assert!(done.complete, "{done:?}");
    assert!(done.user_prompt_seen);
    assert_eq!(done.sequence_gaps, 0);
    assert_eq!(done.closed_by, Closure::Shutdown as i32);

    let prompt = c.prompt.as_ref().unwrap();
    assert_eq!(prompt.length, 137);
    assert!(prompt.content_sent);
    assert!(prompt.text.starts_with("Please run echo hello"));

    let who = c.who.as_ref().unwrap();
    assert_eq!(
        who.user_id,
        "c10db4eecc570e1f1ace4dd996249ee17c3d585a683231ad96ee5692a7908d88"
    );
    assert_eq!(who.source_product, "claude-code");
    assert_eq!(who.source_version, "2.1.330");
    assert_eq!(who.os_type, "linux");
    assert_eq!(c.cost_center.as_ref().unwrap().cost_center, "eng-123");
    assert_eq!(c.cost_center.as_ref().unwrap().team, "platform");

    // Steps in sequence order: the Bash call (decision at 5), then the two
    // API calls (6 and 9), each joined to its response.
    let kinds: Vec<&str> = c
        .steps
        .iter()
        .map(|s| match &s.kind {
            Some(Kind::Tool(_)) => "tool",
            Some(Kind::Api(_)) => "api",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["tool", "api", "api"]);
    assert_eq!(
        c.steps.iter().map(|s| s.sequence).collect::<Vec<_>>(),
        [5, 6, 9]
    );
    let tool = tools(c)[0];
    assert_eq!(tool.tool_use_id, "toolu_fake000001");
    assert_eq!(tool.tool_name, "Bash");
    assert_eq!(tool.decision, "accept");
    assert_eq!(tool.decision_source, "config");
    assert_eq!(tool.outcome, ToolOutcome::Succeeded as i32);
    assert_eq!(tool.duration_ms, 37.0);
    assert_eq!(tool.request_id, "req_fake000003");
    assert!(tool.parameters.contains("echo hello"));
    assert!(tool.input.contains("echo hello"));
    assert_eq!(tool.span_id, "ff01d8875dfe6def", "joined to its tool span");
    let api = apis(c);
    assert_eq!(
        api.iter()
            .map(|a| a.request_id.as_str())
            .collect::<Vec<_>>(),
        ["req_fake000003", "req_fake000005"]
    );
    assert!(api.iter().all(|a| a.succeeded && a.response_seen));
    assert_eq!(api[0].response_length, 25);
    assert_eq!(api[0].span_id, "1df7c87de2d22b94");
    assert_eq!(api[1].span_id, "35df9fac52bbd0d5");

    let t = c.totals.as_ref().unwrap();
    assert!((t.cost_usd - 0.014752).abs() < 1e-12, "{}", t.cost_usd);
    let tokens = t.tokens.as_ref().unwrap();
    assert_eq!(
        (
            tokens.input,
            tokens.output,
            tokens.cache_read,
            tokens.cache_creation
        ),
        (2468, 84, 6000, 400)
    );
    assert_eq!(
        (t.api_calls, t.tool_calls, t.failed_tools, t.rejected_tools),
        (2, 1, 0, 0)
    );
    assert_eq!(t.api_errors, 0);
    assert_eq!(t.models, ["claude-opus-5-5"]);
    assert_eq!(t.events, 7);
    assert_eq!(c.trace_ids, ["37530de9f0d9037ae2ec324031f119a9"]);
    let when = c.when.as_ref().unwrap();
    assert_eq!(when.first_time, "2026-11-23T18:31:04.308Z");
    assert_eq!(when.last_time, "2026-11-23T18:31:04.496Z");
    assert_eq!(when.duration_ms, 188);
}

/// The sum of `cost_usd` over each scenario's chains equals what the
/// `cost.usage` metric reported, and the token totals match `token.usage`.
#[test]
fn chain_cost_equals_the_cost_usage_metric_in_every_scenario() {
    let names: std::collections::BTreeSet<String> = fixtures::payloads()
        .into_iter()
        .map(|p| p.scenario)
        .collect();
    let mut checked = 0;
    for name in names {
        let batches = fixtures::scenario_batches(&name);
        if !batches.iter().any(|b| b.origin.signal == Signal::Logs) {
            continue;
        }
        let chains = run(&batches);
        let chain_cost: f64 = chains
            .iter()
            .map(|c| c.totals.as_ref().unwrap().cost_usd)
            .sum();
        let chain_input: u64 = chains
            .iter()
            .map(|c| c.totals.as_ref().unwrap().tokens.as_ref().unwrap().input)
            .sum();
        // Delta points add up; a cumulative series reports its running total,
        // so its last point is the total.
        let (mut metric_cost, mut metric_input) = (0.0, 0.0);
        let mut cumulative: std::collections::HashMap<(MetricKind, String), f64> =
            Default::default();
        for b in &batches {
            for r in &b.records {
                let RecordBody::Metric(m) = &r.body else {
                    continue;
                };
                for p in &m.typed.points {
                    let is_input = p.r#type.as_deref() == Some("input");
                    let slot = match m.typed.kind {
                        MetricKind::CostUsage => &mut metric_cost,
                        MetricKind::TokenUsage if is_input => &mut metric_input,
                        _ => continue,
                    };
                    match m.typed.temporality {
                        Temporality::Cumulative => {
                            cumulative
                                .insert((m.typed.kind.clone(), format!("{is_input}")), p.value);
                        }
                        _ => *slot += p.value,
                    }
                }
            }
        }
        for ((kind, _), v) in cumulative {
            match kind {
                MetricKind::CostUsage => metric_cost += v,
                _ => metric_input += v,
            }
        }
        assert!(
            (chain_cost - metric_cost).abs() < 1e-9,
            "{name}: chains {chain_cost} vs cost.usage {metric_cost}"
        );
        assert_eq!(chain_input as f64, metric_input, "{name}: input tokens");
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} scenarios checked");
}

#[test]
fn a_failed_api_call_shows_its_errors_and_exhausted_retries() {
    let out = run(&scenario("api-error-529"));
    assert_eq!(out.len(), 1);
    let c = &out[0];
    let t = c.totals.as_ref().unwrap();
    assert_eq!(t.api_errors, 1);
    assert_eq!(t.api_calls, 0);
    assert_eq!(t.cost_usd, 0.0);
    let api = apis(c);
    let failed = api.iter().find(|a| !a.errors.is_empty()).unwrap();
    assert_eq!(failed.errors[0].attempt, 3);
    assert!(failed.errors[0].error.contains("529"));
    assert!(api.iter().any(|a| a.retries_exhausted));
    assert!(c.completeness.as_ref().unwrap().user_prompt_seen);
}

#[test]
fn a_chain_split_over_batches_is_the_chain_sent_at_once() {
    let split = scenario("grpc-multibatch");
    assert!(
        split
            .iter()
            .filter(|b| b.origin.signal == Signal::Logs)
            .count()
            >= 2
    );
    let mut whole = split.clone();
    let mut records = Vec::new();
    for b in whole.iter_mut().filter(|b| b.origin.signal == Signal::Logs) {
        records.append(&mut b.records);
    }
    let mut merged = whole.clone();
    merged[0].records = records;
    let a = run(&split);
    let b = run(&merged);
    assert_eq!(a.len(), 1);
    assert_eq!(a, b);
    assert!(a[0].completeness.as_ref().unwrap().complete);
}

/// Every record of the fixture chain (events and spans), with its origin.
fn fixture_records() -> Vec<Batch> {
    scenario("http-protobuf")
        .into_iter()
        .flat_map(|b| {
            let origin = b.origin.clone();
            b.records.into_iter().map(move |r| Batch {
                origin: origin.clone(),
                records: vec![r],
            })
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any permutation of the chain's records, with any of them resent, in
    /// any split into batches, yields the same record.
    #[test]
    fn permutations_and_duplicates_yield_the_same_record(
        order in Just((0..31usize).collect::<Vec<_>>()).prop_shuffle(),
        dups in proptest::collection::vec(0..31usize, 0..12),
        cuts in proptest::collection::vec(any::<bool>(), 43),
    ) {
        let singles = fixture_records();
        prop_assume!(singles.len() <= 31);
        let baseline = run(&scenario("http-protobuf"));
        let mut seq: Vec<Batch> = order
            .iter()
            .chain(dups.iter())
            .filter(|&&i| i < singles.len())
            .map(|&i| singles[i].clone())
            .collect();
        // Merge neighbours of the same signal into one batch where `cuts` says so.
        let mut batches: Vec<Batch> = Vec::new();
        for (i, b) in seq.drain(..).enumerate() {
            match batches.last_mut() {
                Some(last) if !cuts[i % cuts.len()] && last.origin == b.origin => {
                    last.records.extend(b.records)
                }
                _ => batches.push(b),
            }
        }
        let (mut c, _) = correlator(CorrelatorConfig::default());
        let mut out = Vec::new();
        for b in &batches {
            c.process(b, &mut out);
        }
        c.close_all(&mut out);
        prop_assert_eq!(out, baseline);
    }
}

#[test]
fn the_fixture_has_the_records_the_property_test_shuffles() {
    let n = fixture_records().len();
    assert!((20..=31).contains(&n), "{n} records");
}

#[test]
fn idle_chains_close_on_the_injected_clock() {
    let (mut c, clock) = correlator(CorrelatorConfig {
        idle_timeout: Duration::from_secs(120),
        ..Default::default()
    });
    let mut out = Vec::new();
    c.process(
        &batch(vec![event("s", Some("p1"), 1, "user_prompt", &[])]),
        &mut out,
    );
    clock.advance(100 * SEC);
    c.process(
        &batch(vec![event(
            "s",
            Some("p1"),
            2,
            "api_request",
            &[("request_id", "r1")],
        )]),
        &mut out,
    );
    clock.advance(119 * SEC);
    c.on_tick(&mut out);
    assert!(out.is_empty(), "the last event was 119 s ago");
    assert_eq!(c.open_chains(), 1);
    clock.advance(SEC);
    c.on_tick(&mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].completeness.as_ref().unwrap().closed_by,
        Closure::IdleTimeout as i32
    );
    assert_eq!(c.open_chains(), 0);
    assert_eq!(c.open_bytes(), 0);
}

#[test]
fn the_next_prompt_closes_the_previous_chain() {
    let (mut c, _) = correlator(CorrelatorConfig::default());
    let mut out = Vec::new();
    c.process(
        &batch(vec![
            event("s", Some("p1"), 1, "user_prompt", &[]),
            event("s", Some("p1"), 2, "api_request", &[("request_id", "r1")]),
        ]),
        &mut out,
    );
    assert!(out.is_empty());
    // Within one batch the order of arrival does not matter: p1's late
    // event still lands in p1 before it closes.
    c.process(
        &batch(vec![
            event("s", Some("p2"), 4, "user_prompt", &[]),
            event(
                "s",
                Some("p1"),
                3,
                "assistant_response",
                &[("request_id", "r1")],
            ),
        ]),
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].prompt_id, "p1");
    let done = out[0].completeness.as_ref().unwrap();
    assert_eq!(done.closed_by, Closure::NextPrompt as i32);
    assert!(done.complete);
    assert!(apis(&out[0])[0].response_seen);
    // Another session's prompt does not close p2.
    c.process(
        &batch(vec![event("other", Some("q1"), 1, "user_prompt", &[])]),
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(c.open_chains(), 2);
}

#[test]
fn late_events_amend_the_closed_chain_and_resends_are_ignored() {
    let (mut c, _) = correlator(CorrelatorConfig::default());
    let mut out = Vec::new();
    let late = event(
        "s",
        Some("p1"),
        3,
        "api_request",
        &[("request_id", "r2"), ("cost_usd", "0.5")],
    );
    c.process(
        &batch(vec![event("s", Some("p1"), 1, "user_prompt", &[])]),
        &mut out,
    );
    c.process(
        &batch(vec![event("s", Some("p2"), 4, "user_prompt", &[])]),
        &mut out,
    );
    assert_eq!(out.len(), 1);
    c.process(&batch(vec![late.clone()]), &mut out);
    assert_eq!(out.len(), 2, "a late event is amended, never dropped");
    let amendment = &out[1];
    assert_eq!(amendment.chain_id, out[0].chain_id);
    assert_eq!(amendment.amendment, 1);
    assert_eq!(amendment.totals.as_ref().unwrap().cost_usd, 0.5);
    assert_eq!(apis(amendment)[0].request_id, "r2");
    // The exporter resends the same record: recognised, no second amendment.
    c.process(&batch(vec![late]), &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(c.stats().duplicates.get(), 1);
    // A different late event is the second amendment.
    c.process(
        &batch(vec![event("s", Some("p1"), 5, "compaction", &[])]),
        &mut out,
    );
    assert_eq!(out.len(), 3);
    assert_eq!(out[2].amendment, 2);
}

#[test]
fn a_resumed_session_restarting_its_sequence_is_not_taken_for_a_resend() {
    let (mut c, _) = correlator(CorrelatorConfig::default());
    let mut out = Vec::new();
    c.process(
        &batch(vec![event(
            "s",
            Some("p1"),
            0,
            "user_prompt",
            &[("prompt_length", "5")],
        )]),
        &mut out,
    );
    c.process(
        &batch(vec![event(
            "s",
            Some("p1"),
            0,
            "user_prompt",
            &[("prompt_length", "5")],
        )]),
        &mut out,
    );
    // `claude --resume`: same session, sequence from 0 again, other content.
    c.process(
        &batch(vec![
            event(
                "s",
                Some("p1"),
                0,
                "tool_decision",
                &[("tool_use_id", "t1"), ("decision", "accept")],
            ),
            event(
                "s",
                Some("p1"),
                1,
                "tool_result",
                &[("tool_use_id", "t1"), ("success", "true")],
            ),
        ]),
        &mut out,
    );
    c.close_all(&mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].totals.as_ref().unwrap().events, 3);
    assert_eq!(tools(&out[0])[0].outcome, ToolOutcome::Succeeded as i32);
    assert_eq!(c.stats().duplicates.get(), 1);
}

#[test]
fn a_rejected_tool_is_rejected_not_missing_and_tools_match_by_id() {
    let out = run(&[batch(vec![
        event("s", Some("p"), 1, "user_prompt", &[]),
        // Two tools, decisions and results interleaved against the API call.
        event(
            "s",
            Some("p"),
            2,
            "tool_decision",
            &[
                ("tool_use_id", "a"),
                ("tool_name", "Bash"),
                ("decision", "accept"),
            ],
        ),
        event(
            "s",
            Some("p"),
            3,
            "tool_decision",
            &[
                ("tool_use_id", "b"),
                ("tool_name", "Write"),
                ("decision", "reject"),
                ("source", "user_reject"),
            ],
        ),
        event("s", Some("p"), 4, "api_request", &[("request_id", "r1")]),
        event(
            "s",
            Some("p"),
            5,
            "tool_result",
            &[
                ("tool_use_id", "a"),
                ("success", "false"),
                ("error_type", "exit_code"),
            ],
        ),
        event(
            "s",
            Some("p"),
            6,
            "tool_decision",
            &[
                ("tool_use_id", "c"),
                ("tool_name", "Read"),
                ("decision", "accept"),
            ],
        ),
    ])]);
    let c = &out[0];
    let t = tools(c);
    let by_id = |id: &str| t.iter().find(|x| x.tool_use_id == id).unwrap();
    assert_eq!(by_id("a").outcome, ToolOutcome::Failed as i32);
    assert_eq!(by_id("a").error_type, "exit_code");
    assert_eq!(by_id("b").outcome, ToolOutcome::Rejected as i32);
    assert_eq!(by_id("b").decision_source, "user_reject");
    assert_eq!(by_id("c").outcome, ToolOutcome::NoResult as i32);
    let totals = c.totals.as_ref().unwrap();
    assert_eq!(
        (
            totals.tool_calls,
            totals.failed_tools,
            totals.rejected_tools
        ),
        (3, 1, 1)
    );
    let done = c.completeness.as_ref().unwrap();
    assert_eq!(done.tools_without_result, 1, "only c is missing its result");
    assert!(!done.complete);
}

#[test]
fn subagent_work_lands_in_the_parent_chain_marked_as_the_subagents() {
    let out = run(&[batch(vec![
        event("s", Some("p"), 1, "user_prompt", &[]),
        event(
            "s",
            Some("p"),
            2,
            "tool_decision",
            &[("tool_use_id", "main"), ("decision", "accept")],
        ),
        event(
            "s",
            Some("p"),
            3,
            "api_request",
            &[("request_id", "sub-r"), ("agent_id", "agent-7")],
        ),
        event(
            "s",
            Some("p"),
            4,
            "subagent_completed",
            &[("agent_type", "general-purpose"), ("agent_id", "agent-7")],
        ),
    ])]);
    assert_eq!(out.len(), 1);
    let c = &out[0];
    let agent_of = |seq: u64| {
        c.steps
            .iter()
            .find(|s| s.sequence == seq)
            .unwrap()
            .agent_id
            .clone()
    };
    assert_eq!(agent_of(2), "");
    assert_eq!(agent_of(3), "agent-7");
    assert_eq!(agent_of(4), "agent-7");
    assert_eq!(c.totals.as_ref().unwrap().subagents, 1);
}

#[test]
fn gaps_in_the_sequence_make_a_chain_incomplete() {
    let out = run(&[batch(vec![
        event("s", Some("p"), 4, "user_prompt", &[]),
        event("s", Some("p"), 5, "api_request", &[("request_id", "r")]),
        // 6 and 7 never arrive; 8 is a prompt-less event of the session.
        event("s", None, 8, "mcp_server_connection", &[]),
        event(
            "s",
            Some("p"),
            9,
            "assistant_response",
            &[("request_id", "r")],
        ),
    ])]);
    let done = out[0].completeness.as_ref().unwrap();
    assert_eq!(done.sequence_gaps, 2);
    assert_eq!(done.missing_sequences, [6, 7]);
    assert!(!done.complete);
    let no_prompt = run(&[batch(vec![event(
        "s",
        Some("p"),
        5,
        "api_request",
        &[("request_id", "r")],
    )])]);
    let done = no_prompt[0].completeness.as_ref().unwrap();
    assert!(!done.user_prompt_seen);
    assert!(!done.complete);
}

#[test]
fn past_the_caps_the_oldest_chain_is_evicted() {
    let (mut c, _) = correlator(CorrelatorConfig {
        max_open_chains: 2,
        ..Default::default()
    });
    let mut out = Vec::new();
    for (i, p) in ["p1", "p2", "p3"].iter().enumerate() {
        let session = format!("s{i}");
        c.process(
            &batch(vec![event(&session, Some(p), 1, "user_prompt", &[])]),
            &mut out,
        );
    }
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].prompt_id, "p1");
    assert_eq!(
        out[0].completeness.as_ref().unwrap().closed_by,
        Closure::Evicted as i32
    );
    assert_eq!(c.open_chains(), 2);

    // The byte cap: one chain's worth of bytes keeps only the newest open.
    let (mut c, _) = correlator(CorrelatorConfig {
        max_open_bytes: 1,
        ..Default::default()
    });
    let mut out = Vec::new();
    c.process(
        &batch(vec![event("a", Some("p1"), 1, "user_prompt", &[])]),
        &mut out,
    );
    assert_eq!(
        out.len(),
        1,
        "over the byte cap the chain is emitted, not kept"
    );
    assert_eq!(c.open_bytes(), 0);
}

#[test]
fn spans_that_arrive_before_their_events_still_join() {
    let batches = scenario("http-protobuf");
    let (logs, rest): (Vec<Batch>, Vec<Batch>) = batches
        .into_iter()
        .partition(|b| b.origin.signal == Signal::Logs);
    let mut reversed = rest;
    reversed.extend(logs);
    let a = run(&reversed);
    let b = run(&scenario("http-protobuf"));
    assert_eq!(a, b);
    assert_eq!(a[0].trace_ids.len(), 1);
}

#[test]
fn spans_that_never_link_are_counted_after_the_idle_timeout() {
    let (mut c, clock) = correlator(CorrelatorConfig::default());
    let mut out = Vec::new();
    for b in scenario("http-protobuf")
        .iter()
        .filter(|b| b.origin.signal == Signal::Traces)
    {
        c.process(b, &mut out);
    }
    clock.advance(121 * SEC);
    c.on_tick(&mut out);
    assert!(out.is_empty());
    assert_eq!(c.stats().unlinked_spans.get(), 6);
}

#[test]
fn an_open_fixture_chain_holds_a_few_kilobytes() {
    let (mut c, _) = correlator(CorrelatorConfig::default());
    let mut out = Vec::new();
    for b in &scenario("http-protobuf") {
        c.process(b, &mut out);
    }
    assert_eq!(c.open_chains(), 1);
    let bytes = c.open_bytes();
    assert!(
        (1_000..32_000).contains(&bytes),
        "{bytes} bytes for one open chain"
    );
}
