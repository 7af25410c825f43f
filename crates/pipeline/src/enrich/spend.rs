//! Spend counters for `/metrics`: USD and tokens by cost center and model,
//! as correct running totals whatever the sender's temporality.
//!
//! Fed with the `claude_code.cost.usage` and `claude_code.token.usage`
//! sums after [`super::Enricher`] set `cost_center` on each data point
//! (a point without one counts as `unassigned`).
//!
//! * **Delta** points add their value. A point already counted (same
//!   series, start, end and value: a client retry, a replay) adds nothing.
//! * **Cumulative** points add the growth since the series' last point.
//!   A new start time or a value that went down is a reset: the whole value
//!   is added. A point older than the last one seen, or an identical resend,
//!   adds nothing.
//! * **Series** are the metric name, the point's attributes except those the
//!   enricher writes (so a directory reload between a send and its retry
//!   does not make a new series), and the resource's attributes.
//! * **Memory** is bounded: both the seen delta points and the cumulative
//!   series live in a two-generation map that forgets the least recently
//!   used half past `max_entries`.
//! * **Labels**: `cost_center`, `model`, and `type` for tokens; with
//!   `per_user`, also `user` = `user.id` (the install id or IdP subject,
//!   always present, unlike `user.email`, and never an e-mail address).
//!   Off by default: one series per user is a lot of series. Values over
//!   64 bytes become `other`.

use std::{collections::HashMap, sync::atomic::AtomicU64};

use cairn_core::{
    metric::{MetricKind, Temporality},
    otlp::metrics::v1::{NumberDataPoint, metric::Data, number_data_point},
    record::{Batch, RecordBody},
    value::Attrs,
};
use prometheus_client::{
    encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder},
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};
use xxhash_rust::xxh3::xxh3_128;

use super::{COST_CENTER, UNASSIGNED};
use crate::{ids::Digest, redact::MAX_LABEL};

/// Default bound on remembered delta points and cumulative series.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// A float counter (USD, tokens).
type FloatCounter = Counter<f64, AtomicU64>;

/// Labels of the spend counters; `type` and `user` appear only when set.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct SpendLabels {
    /// The data point's `cost_center`, `unassigned` when absent.
    pub cost_center: String,
    /// `model`, `unknown` when absent.
    pub model: String,
    /// Token `type` (`input`, `output`, `cacheRead`, `cacheCreation`).
    pub r#type: Option<String>,
    /// `user.id`, only with per-user labels on.
    pub user: Option<String>,
}

impl EncodeLabelSet for SpendLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        ("cost_center", self.cost_center.as_str()).encode(encoder.encode_label())?;
        ("model", self.model.as_str()).encode(encoder.encode_label())?;
        if let Some(t) = &self.r#type {
            ("type", t.as_str()).encode(encoder.encode_label())?;
        }
        if let Some(u) = &self.user {
            ("user", u.as_str()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// The last point of a cumulative series.
#[derive(Clone, Copy, Debug)]
struct Last {
    start: u64,
    time: u64,
    value: f64,
}

/// A map bounded to about `max` entries that forgets the least recently
/// used: entries live in `current` or `previous`; a hit in `previous` moves
/// to `current`; when `current` is half full it becomes `previous`.
#[derive(Debug)]
struct Recent<V> {
    half: usize,
    current: HashMap<u128, V>,
    previous: HashMap<u128, V>,
}

impl<V> Recent<V> {
    fn new(max: usize) -> Recent<V> {
        Recent {
            half: (max / 2).max(1),
            current: HashMap::new(),
            previous: HashMap::new(),
        }
    }

    fn get(&mut self, k: u128) -> Option<&mut V> {
        if !self.current.contains_key(&k) {
            let v = self.previous.remove(&k)?;
            self.insert(k, v);
        }
        self.current.get_mut(&k)
    }

    fn insert(&mut self, k: u128, v: V) {
        if self.current.len() >= self.half && !self.current.contains_key(&k) {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(k, v);
    }

    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

/// Turns usage data points into running spend totals. One writer calls
/// [`SpendMeter::observe`]; the counters it feeds are shared with the
/// registry.
#[derive(Debug)]
pub struct SpendMeter {
    per_user: bool,
    usd: Family<SpendLabels, FloatCounter>,
    tokens: Family<SpendLabels, FloatCounter>,
    duplicates: Counter,
    seen: Recent<()>,
    series: Recent<Last>,
    digest: Digest,
}

impl SpendMeter {
    /// A meter remembering up to [`DEFAULT_MAX_ENTRIES`] points and series.
    /// `per_user` adds a `user` label (see the module docs).
    pub fn new(per_user: bool) -> SpendMeter {
        SpendMeter::with_capacity(per_user, DEFAULT_MAX_ENTRIES)
    }

    /// A meter remembering up to `max_entries` delta points and as many
    /// cumulative series.
    pub fn with_capacity(per_user: bool, max_entries: usize) -> SpendMeter {
        SpendMeter {
            per_user,
            usd: Family::default(),
            tokens: Family::default(),
            duplicates: Counter::default(),
            seen: Recent::new(max_entries),
            series: Recent::new(max_entries),
            digest: Digest::default(),
        }
    }

    /// Registers `cairn_spend_usd_total`, `cairn_spend_tokens_total` and
    /// `cairn_spend_duplicate_points_total`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "cairn_spend_usd",
            "Claude Code spend in USD (claude_code.cost.usage), by cost center and model",
            self.usd.clone(),
        );
        registry.register(
            "cairn_spend_tokens",
            "Claude Code tokens (claude_code.token.usage), by cost center, model and type",
            self.tokens.clone(),
        );
        registry.register(
            "cairn_spend_duplicate_points",
            "Usage data points received again (or out of date) and not counted",
            self.duplicates.clone(),
        );
    }

    /// Remembered delta points plus cumulative series (for tests and sizing).
    pub fn remembered(&self) -> usize {
        self.seen.len() + self.series.len()
    }

    /// Adds the batch's cost and token usage points to the counters.
    pub fn observe(&mut self, batch: &Batch) {
        for rec in &batch.records {
            let RecordBody::Metric(m) = &rec.body else {
                continue;
            };
            let tokens = match m.typed.kind {
                MetricKind::CostUsage => false,
                MetricKind::TokenUsage => true,
                _ => continue,
            };
            let Some(Data::Sum(sum)) = &m.metric.data else {
                continue;
            };
            let resource = rec.resource.attrs();
            for p in &sum.data_points {
                let Some(value) = point_value(p) else {
                    continue;
                };
                let series = self
                    .digest
                    .series(&m.metric.name, &p.attributes, resource.0);
                let add = match m.typed.temporality {
                    Temporality::Delta => self.delta(series, p, value),
                    Temporality::Cumulative => self.cumulative(series, p, value),
                    Temporality::Unspecified => continue,
                };
                let Some(add) = add else {
                    self.duplicates.inc();
                    continue;
                };
                if add > 0.0 {
                    let labels = self.labels(Attrs(&p.attributes), resource, tokens);
                    let family = if tokens { &self.tokens } else { &self.usd };
                    family.get_or_create(&labels).inc_by(add);
                }
            }
        }
    }

    /// What a delta point adds; `None` when it was already counted.
    fn delta(&mut self, series: u128, p: &NumberDataPoint, value: f64) -> Option<f64> {
        let mut key = [0u8; 40];
        key[..16].copy_from_slice(&series.to_le_bytes());
        key[16..24].copy_from_slice(&p.start_time_unix_nano.to_le_bytes());
        key[24..32].copy_from_slice(&p.time_unix_nano.to_le_bytes());
        key[32..].copy_from_slice(&value.to_bits().to_le_bytes());
        let key = xxh3_128(&key);
        if self.seen.get(key).is_some() {
            return None;
        }
        self.seen.insert(key, ());
        Some(value)
    }

    /// What a cumulative point adds; `None` for a resend or a stale point.
    fn cumulative(&mut self, series: u128, p: &NumberDataPoint, value: f64) -> Option<f64> {
        let now = Last {
            start: p.start_time_unix_nano,
            time: p.time_unix_nano,
            value,
        };
        let Some(last) = self.series.get(series) else {
            self.series.insert(series, now);
            return Some(value);
        };
        let stale = now.start < last.start || (now.start == last.start && now.time < last.time);
        let resend = now.start == last.start && now.time == last.time && now.value == last.value;
        if stale || resend {
            return None;
        }
        let add = if now.start == last.start && value >= last.value {
            value - last.value
        } else {
            value
        };
        *last = now;
        Some(add)
    }

    fn labels(&self, point: Attrs<'_>, resource: Attrs<'_>, tokens: bool) -> SpendLabels {
        let label = |v: Option<&str>, absent: &str| match v.map(str::trim).filter(|v| !v.is_empty())
        {
            Some(v) if v.len() <= MAX_LABEL => v.to_owned(),
            Some(_) => "other".to_owned(),
            None => absent.to_owned(),
        };
        SpendLabels {
            cost_center: label(point.str(COST_CENTER), UNASSIGNED),
            model: label(point.str("model"), "unknown"),
            r#type: tokens.then(|| label(point.str("type"), "unknown")),
            user: self.per_user.then(|| {
                label(
                    point.str("user.id").or_else(|| resource.str("user.id")),
                    "unknown",
                )
            }),
        }
    }
}

/// A finite, non-negative point value (counters never go down).
fn point_value(p: &NumberDataPoint) -> Option<f64> {
    let v = match p.value? {
        number_data_point::Value::AsDouble(d) => d,
        number_data_point::Value::AsInt(i) => i as f64,
    };
    (v.is_finite() && v >= 0.0).then_some(v)
}
