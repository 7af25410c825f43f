#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What the sinks' tests share: the fixture records and chains every sink
//! is checked on, and [`Delivery`], which runs a sink on the real driver
//! (`SinkSet::spawn`, its queue, `drain`) with fast retries and reads back
//! what happened: the counters, checked to add up, and the dead-letter file.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    sync::Arc,
    time::Duration,
};

use cairn_core::{
    chain::{PromptChain, v1},
    clock::ManualClock,
    record::Batch,
};
use cairn_pipeline::correlate::{Correlator, CorrelatorConfig};
use cairn_testkit::fixtures;
use serde_json::Value;

use crate::{
    config::SinkConfig,
    driver::{
        Backoff, BatchLimits, DriverConfig, Job, Work,
        stats::{SinkCounters, SinkStats},
    },
    item::AuditItem,
    route::Route,
    runtime::SinkSet,
    sink::Sink,
};

/// The capture most sink tests run on.
pub(crate) const SCENARIO: &str = "http-protobuf";

/// A scenario's batches, every record tagged with `tenant` (which also
/// makes their record ids differ from the untagged ones).
pub(crate) fn batches(scenario: &str, tenant: Option<&str>) -> Vec<Batch> {
    let mut out = fixtures::scenario_batches(scenario);
    assert!(!out.is_empty(), "scenario {scenario}");
    for b in &mut out {
        b.origin.tenant = tenant.map(Into::into);
    }
    out
}

/// [`SCENARIO`]'s batches as captured.
pub(crate) fn fixture_batches() -> Vec<Batch> {
    batches(SCENARIO, None)
}

/// Every record of `batches` as an item, in order.
pub(crate) fn items_of(batches: &[Batch]) -> Vec<AuditItem> {
    batches
        .iter()
        .flat_map(|b| {
            b.records
                .iter()
                .map(|r| AuditItem::from_record(r, &b.origin))
        })
        .collect()
}

/// Every record of [`fixture_batches`] as an item.
pub(crate) fn fixture_items() -> Vec<AuditItem> {
    items_of(&fixture_batches())
}

/// The prompt chains the real correlator builds from `batches` (on a
/// manual clock), at least one.
pub(crate) fn chains_of(batches: &[Batch]) -> Vec<PromptChain> {
    let clock = Arc::new(ManualClock::new(1_795_458_664_000_000_000));
    let mut c = Correlator::new(CorrelatorConfig::default(), clock);
    let mut out = Vec::new();
    for b in batches {
        c.process(b, &mut out);
    }
    c.close_all(&mut out);
    assert!(!out.is_empty(), "the fixture builds at least one chain");
    out
}

/// A closed prompt chain with identity, timing, cost and a cost center,
/// one failed tool (a failure outcome); tests vary its fields.
pub(crate) fn sample_chain() -> PromptChain {
    PromptChain {
        chain_id: "c1".into(),
        session_id: "s1".into(),
        prompt_id: "p1".into(),
        who: Some(v1::Who {
            user_id: "u-1".into(),
            email: "alice@example.com".into(),
            host_name: "laptop-7".into(),
            ..Default::default()
        }),
        when: Some(v1::When {
            last_unix_nano: 1_767_607_200_123_000_000,
            duration_ms: 1500,
            ..Default::default()
        }),
        totals: Some(v1::Totals {
            cost_usd: 0.25,
            failed_tools: 1,
            ..Default::default()
        }),
        cost_center: Some(v1::CostCenter {
            cost_center: "cc-42".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One encoded unit that must be exactly one JSON line: its text and value.
pub(crate) fn json_line(unit: Vec<u8>) -> (String, Value) {
    let text = String::from_utf8(unit).unwrap();
    assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
    let v = serde_json::from_str(text.trim_end()).unwrap();
    (text, v)
}

/// The first item called `name`.
pub(crate) fn named<'a>(items: &'a [AuditItem], name: &str) -> &'a AuditItem {
    items
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no {name} in the fixture"))
}

/// The record ids of `items`, sorted.
pub(crate) fn ids<'a>(items: impl IntoIterator<Item = &'a AuditItem>) -> Vec<String> {
    let mut ids: Vec<String> = items.into_iter().map(|i| i.record_id.clone()).collect();
    ids.sort();
    ids
}

/// Every record id of `batches` and `chains`, sorted, each once (the
/// fixture's records have distinct ids).
pub(crate) fn fixture_ids(batches: &[Batch], chains: &[PromptChain]) -> Vec<String> {
    let mut items = items_of(batches);
    items.extend(chains.iter().map(AuditItem::from_chain));
    let ids = ids(&items);
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "the test's records have distinct ids"
    );
    ids
}

/// `ids` sorted, after asserting none of them arrived more than once.
pub(crate) fn once_each(ids: &[String]) -> Vec<String> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for id in ids {
        *count.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "received more than once: {twice:?}");
    count.into_keys().map(str::to_owned).collect()
}

/// The item whose encoding by `sink` is the largest, with that size; there
/// is exactly one (a limit just under it leaves one item that never fits).
pub(crate) fn largest<'a, S: Sink>(sink: &S, items: &'a [AuditItem]) -> (usize, &'a AuditItem) {
    let sizes: Vec<usize> = items
        .iter()
        .map(|i| {
            let mut out = Vec::new();
            sink.encode_item(i, &mut out).unwrap();
            out.len()
        })
        .collect();
    let largest = *sizes.iter().max().unwrap();
    assert_eq!(
        sizes.iter().filter(|s| **s == largest).count(),
        1,
        "one largest unit"
    );
    let at = sizes.iter().position(|s| *s == largest).unwrap();
    (largest, &items[at])
}

/// The `[[sinks]]` of a shipped example config (`config/<file>`).
pub(crate) fn example_sinks(file: &str) -> Vec<SinkConfig> {
    #[derive(serde::Deserialize)]
    struct File {
        sinks: Vec<SinkConfig>,
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let file: File = toml::from_str(&text).map_err(|e| e.to_string()).unwrap();
    file.sinks
}

/// `batches` as work, then `chains` as one group when there are any.
pub(crate) fn work(batches: Vec<Batch>, chains: Vec<PromptChain>) -> Vec<Work> {
    let mut work: Vec<Work> = batches
        .into_iter()
        .map(|b| Work::Batch(Arc::new(b)))
        .collect();
    if !chains.is_empty() {
        work.push(Work::Chains(Arc::new(chains)));
    }
    work
}

/// Driver settings for tests: the sink's limits with a 20 ms batching
/// delay, one request at a time, retries after 2 to 20 ms.
pub(crate) fn fast(limits: BatchLimits) -> DriverConfig {
    let mut config = DriverConfig::new(BatchLimits {
        max_delay: Duration::from_millis(20),
        ..limits
    });
    config.concurrency = 1;
    config.backoff = Backoff {
        initial: Duration::from_millis(2),
        max: Duration::from_millis(20),
        ..Backoff::default()
    };
    config
}

/// The dead-letter file of `sink` under `data_dir`, as written (empty when
/// there is none) and line by line.
pub(crate) fn dead_letters(data_dir: &Path, sink: &str) -> (String, Vec<Value>) {
    let path = data_dir.join(format!("dead-letter/{sink}.jsonl"));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (text, lines)
}

/// Queue length (work items) of a sink under test.
const QUEUE: usize = 64;

/// How long [`Delivery::finish`] lets a sink drain before pending retries
/// are abandoned into dead letters.
const DRAIN: Duration = Duration::from_secs(30);

/// One sink running on the real driver, its dead letters in a temporary
/// directory.
pub(crate) struct Delivery {
    set: SinkSet,
    name: String,
    dir: tempfile::TempDir,
}

/// What a [`Delivery`] did, once drained.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Records the sink took in.
    pub received: u64,
    /// Records delivered.
    pub delivered: u64,
    /// Records dead-lettered.
    pub dead_lettered: u64,
    /// Resends.
    pub retried: u64,
    /// Every dead-letter line, parsed.
    pub dead: Vec<Value>,
    /// The dead-letter file as written (empty when there is none).
    pub dead_text: String,
}

impl Outcome {
    /// (received, delivered, dead-lettered).
    pub fn totals(&self) -> (u64, u64, u64) {
        (self.received, self.delivered, self.dead_lettered)
    }

    /// The record ids of the dead-lettered units, sorted; `id` finds the id
    /// in a unit as the sink wrote it.
    pub fn dead_ids(&self, id: impl Fn(&Value) -> &Value) -> Vec<String> {
        let mut ids: Vec<String> = self
            .dead
            .iter()
            .map(|d| id(&d["record"]).as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }
}

impl Delivery {
    /// Starts `sink` as `name` on the real driver with [`fast`] settings
    /// changed by `tweak`.
    pub fn start<S: Sink>(
        name: &str,
        sink: S,
        route: Route,
        tweak: impl FnOnce(&mut DriverConfig),
    ) -> Delivery {
        let dir = tempfile::tempdir().unwrap();
        let mut config = fast(sink.limits());
        tweak(&mut config);
        let mut set = SinkSet::default();
        set.spawn(
            name,
            sink,
            route,
            config,
            QUEUE,
            dir.path(),
            &SinkStats::default(),
        )
        .unwrap();
        Delivery {
            set,
            name: name.to_owned(),
            dir,
        }
    }

    /// Starts `sink`, feeds it `work`, drains it.
    pub async fn run<S: Sink>(
        name: &str,
        sink: S,
        route: Route,
        tweak: impl FnOnce(&mut DriverConfig),
        work: impl IntoIterator<Item = Work>,
    ) -> Outcome {
        let run = Delivery::start(name, sink, route, tweak);
        for w in work {
            run.feed(w).await;
        }
        run.finish().await
    }

    /// Queues one work item (waits while the queue is full).
    pub async fn feed(&self, work: Work) {
        self.set.handles()[0]
            .queue
            .as_ref()
            .unwrap()
            .send(Job::direct(work))
            .await
            .unwrap();
    }

    /// The sink's counters, live.
    pub fn counters(&self) -> SinkCounters {
        self.set.handles()[0].counters.clone()
    }

    /// Closes the queue, waits for the sink to drain, and reads the
    /// counters (asserting that every record taken in was delivered or
    /// dead-lettered) and the dead-letter file.
    pub async fn finish(self) -> Outcome {
        let counters = self.counters();
        self.set.drain(DRAIN).await;
        let (dead_text, dead) = dead_letters(self.dir.path(), &self.name);
        assert_eq!(counters.queued_now(), 0);
        assert_eq!(
            counters.received_total(),
            counters.delivered_total() + counters.dead_lettered_total()
        );
        Outcome {
            received: counters.received_total(),
            delivered: counters.delivered_total(),
            dead_lettered: counters.dead_lettered_total(),
            retried: counters.retried_total(),
            dead,
            dead_text,
        }
    }
}
